import { LabIcon } from '@jupyterlab/ui-components';

/** Three connected nodes: the Flows panel and run views. */
const FLOWS_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16">
  <g class="jp-icon3" fill="#616161">
    <rect x="2" y="9" width="6" height="6" rx="1.5"/>
    <rect x="16" y="3" width="6" height="6" rx="1.5"/>
    <rect x="16" y="15" width="6" height="6" rx="1.5"/>
    <path d="M8 11.2h3.2V6.2H16v1.6h-3.2v3.4H8zM8 12.8h4.8v4.2H16v-1.6h-1.6v-4.2H8z"/>
  </g>
</svg>`;

/** A clock: "Schedule this notebook". */
const SCHEDULE_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16">
  <g class="jp-icon3" fill="#616161">
    <path d="M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 2a8 8 0 1 1 0 16 8 8 0 0 1 0-16zm-1 3v6l5 3 1-1.7-4-2.3V7z"/>
  </g>
</svg>`;

export const flowsIcon = new LabIcon({
  name: 'jupyter-flows:flows',
  svgstr: FLOWS_SVG
});

export const scheduleIcon = new LabIcon({
  name: 'jupyter-flows:schedule',
  svgstr: SCHEDULE_SVG
});
