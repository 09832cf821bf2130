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

/**
 * One page-loaded list of flow runs, newest first; a row opens the run.
 */
export function RunList(props: {
  runs: Flows.IDescribeFlowRun[];
  total: number;
  loading: boolean;
  now: number;
  onOpen: (run: Flows.IDescribeFlowRun) => void;
  onLoadMore: () => void;
}): JSX.Element {
  const { runs, total, now } = props;
  if (runs.length === 0) {
    return (
      <p className="jp-Flows-empty">
        {props.loading ? 'Loading runs…' : 'No flow runs match.'}
      </p>
    );
  }
  return (
    <>
      <ul className="jp-Flows-list jp-Flows-runs" aria-label="Flow runs">
        {runs.map(run => {
          const state = stateName(run);
          return (
            <li key={run.id}>
              <button
                className="jp-Flows-row jp-Flows-runRow"
                data-run-id={run.id}
                data-state={state}
                title={`${run.flow_name} / ${run.name}\ncreated ${formatTime(
                  run.created
                )}${run.state_message ? '\n' + run.state_message : ''}`}
                onClick={() => props.onOpen(run)}
              >
                <span className="jp-Flows-rowMain">
                  <span className="jp-Flows-runFlow">{run.flow_name}</span>
                  <span className="jp-Flows-runName">{run.name}</span>
                </span>
                <span className="jp-Flows-rowMeta">
                  <StateBadge state={state} />
                  <span className="jp-Flows-duration">
                    {formatDuration(durationSeconds(run, now))}
                  </span>
                  <span className="jp-Flows-when">
                    {formatRelative(run.start_time ?? run.created, now)}
                  </span>
                </span>
              </button>
            </li>
          );
        })}
      </ul>
      <div className="jp-Flows-more">
        <span>
          {runs.length} of {total}
        </span>
        {runs.length < total && (
          <button
            className="jp-Flows-button"
            disabled={props.loading}
            onClick={props.onLoadMore}
          >
            {props.loading ? 'Loading…' : 'Load more'}
          </button>
        )}
      </div>
    </>
  );
}
