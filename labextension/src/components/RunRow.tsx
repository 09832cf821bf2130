import { caretDownIcon } from '@jupyterlab/ui-components';
import React from 'react';

import {
  durationSeconds,
  formatDuration,
  formatRelative,
  formatTime,
  stateName
} from '../format';
import { Flows } from '../tokens';
import { StateBadge } from './StateBadge';

/** What each kind of run is, for the kind column's tooltip. */
const KIND_TITLES: Record<string, string> = {
  interactive: 'Ran in a kernel or script',
  scheduled: "Made by its deployment's schedule",
  manual: 'A deployment run started by hand or by an automation',
  subflow: 'A flow called by another flow'
};

/**
 * One row of the run list: name (flow / run), state; kind, deployment,
 * duration and start. In a narrow panel the text ellipsizes and the start
 * time drops (`run-list.css`); the tooltip has everything.
 */
export function RunRow(props: {
  run: Flows.IDescribeFlowRunItem;
  depth: number;
  now: number;
  expanded: boolean;
  deployment: string | null;
  onOpen: (run: Flows.IDescribeFlowRunItem) => void;
  onToggle: (run: Flows.IDescribeFlowRunItem) => void;
}): JSX.Element {
  const { run, now } = props;
  const state = stateName(run);
  const duration = formatDuration(durationSeconds(run, now));
  const when = formatRelative(run.start_time ?? run.created, now);
  const title = [
    `${run.flow_name} / ${run.name}`,
    `${run.kind}${props.deployment ? ` of ${props.deployment}` : ''}`,
    `created ${formatTime(run.created)}, took ${duration}`,
    run.state_message ?? ''
  ]
    .filter(line => line)
    .join('\n');
  return (
    <li
      className="jp-Flows-runItem"
      style={{ paddingLeft: props.depth * 12 }}
      data-depth={props.depth}
    >
      {run.subflow_count > 0 ? (
        <button
          className="jp-Flows-runToggle"
          aria-expanded={props.expanded}
          aria-label={`${props.expanded ? 'Hide' : 'Show'} ${run.subflow_count} subflow runs of ${run.name}`}
          title={`${run.subflow_count} subflow run${run.subflow_count === 1 ? '' : 's'}`}
          onClick={() => props.onToggle(run)}
        >
          <caretDownIcon.react tag="span" />
        </button>
      ) : (
        <span className="jp-Flows-runToggle" />
      )}
      <button
        className="jp-Flows-row jp-Flows-runRow"
        data-run-id={run.id}
        data-state={state}
        data-kind={run.kind}
        title={title}
        onClick={() => props.onOpen(run)}
      >
        <span className="jp-Flows-runCell jp-Flows-runNames">
          <span className="jp-Flows-runFlow">{run.flow_name}</span>
          <span className="jp-Flows-runName">{run.name}</span>
        </span>
        <span className="jp-Flows-runCell jp-Flows-runState">
          <StateBadge state={state} />
        </span>
        <span className="jp-Flows-runCell jp-Flows-runFacts">
          <span
            className="jp-Flows-kind"
            data-kind={run.kind}
            title={KIND_TITLES[run.kind]}
          >
            {run.kind}
          </span>
          {props.deployment && (
            <span className="jp-Flows-runDeployment">{props.deployment}</span>
          )}
        </span>
        <span className="jp-Flows-runCell jp-Flows-runTimes">
          <span className="jp-Flows-duration">{duration}</span>
          <span className="jp-Flows-when">{when}</span>
        </span>
      </button>
    </li>
  );
}
