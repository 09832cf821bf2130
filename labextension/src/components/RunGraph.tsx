import React from 'react';

import { stateColor } from '../format';
import { RunViews } from '../runTypes';

/** The sizes of `jupyter_flows.core.layout` and the report's padding. */
const NODE_WIDTH = 160;
const NODE_HEIGHT = 36;
const PAD = 12;

function tooltip(node: RunViews.IGraphNode): string {
  const lines = [`${node.label}: ${node.state}`];
  if (node.count > 1) {
    lines.push(
      Object.entries(node.states)
        .sort()
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')
    );
  }
  const d = node.details;
  if (d?.run_count && d.run_count > 1) {
    lines.push(`attempts: ${d.run_count}`);
  }
  if (d?.message) {
    lines.push(`message: ${d.message}`);
  }
  if (d?.subflow_run_id) {
    lines.push('(opens the subflow run)');
  }
  return lines.join('\n');
}

/**
 * The run graph as SVG: the shared layout, the report's shapes and colours.
 * Nodes are focusable; activating one selects its task (or opens its subflow).
 */
export function RunGraph(props: {
  layout: RunViews.IGraphLayout;
  /** Whether the run is over (no task runs will come). */
  final: boolean;
  selected: string | null;
  onSelect: (node: RunViews.IGraphNode) => void;
}): JSX.Element {
  const { layout } = props;
  if (layout.nodes.length === 0) {
    return (
      <p className="jp-Flows-empty">
        {props.final ? 'This run has no task runs.' : 'No task runs yet.'}
      </p>
    );
  }
  const width = layout.width + 2 * PAD;
  const height = layout.height + 2 * PAD;
  const nodes = new Map(layout.nodes.map(n => [n.id, n]));
  const activate = (node: RunViews.IGraphNode) => (e: React.KeyboardEvent) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      props.onSelect(node);
    }
  };
  return (
    <div className="jp-Flows-graphScroll">
      <svg
        className="jp-Flows-graph"
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label="run graph"
      >
        <defs>
          <marker
            id="jp-Flows-arrow"
            viewBox="0 0 10 10"
            refX="10"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#8a8f98" />
          </marker>
        </defs>
        {layout.edges.map(edge => {
          const a = nodes.get(edge.source);
          const b = nodes.get(edge.target);
          if (!a || !b) {
            return null;
          }
          const x1 = a.x + NODE_WIDTH + PAD;
          const y1 = a.y + NODE_HEIGHT / 2 + PAD;
          const x2 = b.x + PAD;
          const y2 = b.y + NODE_HEIGHT / 2 + PAD;
          const mid = (x1 + x2) / 2;
          return (
            <path
              key={`${edge.source}->${edge.target}`}
              className="jp-Flows-edge"
              d={`M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`}
              fill="none"
              stroke="#8a8f98"
              strokeWidth="1.5"
              markerEnd="url(#jp-Flows-arrow)"
            />
          );
        })}
        {layout.nodes.map(node => {
          const color = stateColor(node.state);
          const x = node.x + PAD;
          const y = node.y + PAD;
          const label =
            node.label.length <= 22
              ? node.label
              : node.label.slice(0, 21) + '…';
          return (
            <g
              key={node.id}
              className="jp-Flows-node"
              data-id={node.id}
              data-count={node.count}
              data-state={node.state}
              data-selected={props.selected === node.id ? 'true' : undefined}
              tabIndex={0}
              role="button"
              aria-label={`${node.label}: ${node.state}`}
              onClick={() => props.onSelect(node)}
              onKeyDown={activate(node)}
            >
              <title>{tooltip(node)}</title>
              <rect
                x={x}
                y={y}
                width={NODE_WIDTH}
                height={NODE_HEIGHT}
                rx="8"
                fill={color}
                fillOpacity="0.15"
                stroke={color}
                strokeWidth="2"
              />
              <circle cx={x + 14} cy={y + NODE_HEIGHT / 2} r="5" fill={color} />
              <text
                x={x + 26}
                y={y + NODE_HEIGHT / 2 + 4}
                fontSize="12"
                fill="currentColor"
              >
                {label}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
