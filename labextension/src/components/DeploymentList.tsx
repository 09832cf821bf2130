import React from 'react';

import {
  describeSchedule,
  formatRelative,
  formatTime,
  shortJson
} from '../format';
import { Flows } from '../tokens';

/**
 * Deployments with their schedules, next run (or "Paused"), a Pause/Resume
 * button (named for what it does) and "Run now".
 */
export function DeploymentList(props: {
  deployments: Flows.IDescribeDeployment[];
  now: number;
  busy: Set<string>;
  onRun: (deployment: Flows.IDescribeDeployment) => void;
  onToggle: (deployment: Flows.IDescribeDeployment) => void;
  onShowRuns: (deployment: Flows.IDescribeDeployment) => void;
  /** Open the deployment's page. */
  onOpen?: (deployment: Flows.IDescribeDeployment) => void;
}): JSX.Element {
  if (props.deployments.length === 0) {
    return (
      <p className="jp-Flows-empty">
        No deployments yet. Use “Schedule this notebook” in a notebook’s
        toolbar.
      </p>
    );
  }
  return (
    <ul className="jp-Flows-list" aria-label="Deployments">
      {props.deployments.map(d => {
        const schedules = d.schedules.length
          ? d.schedules.map(describeSchedule).join('; ')
          : 'manual';
        const busy = props.busy.has(d.id);
        const variables = d.job_variables ?? {};
        const shownVariables = Object.keys(variables).length
          ? shortJson(variables)
          : null;
        return (
          <li
            key={d.id}
            className="jp-Flows-deployment"
            data-deployment={d.name}
            data-paused={d.paused ? 'true' : 'false'}
          >
            <div className="jp-Flows-rowMain">
              <button
                className="jp-Flows-link jp-Flows-deploymentName"
                title={`${d.entrypoint}\nShow the runs of this deployment`}
                onClick={() => props.onShowRuns(d)}
              >
                {d.name}
              </button>
              <span className="jp-Flows-detail">
                {schedules} · pool {d.work_pool ?? 'default'}
              </span>
              {shownVariables ? (
                <span
                  className="jp-Flows-detail jp-Flows-jobVariables"
                  title="Job variables (over the pool's template defaults)"
                >
                  job {shownVariables}
                </span>
              ) : null}
              <span
                className="jp-Flows-detail"
                title={d.next_run_time ? formatTime(d.next_run_time) : ''}
              >
                {d.paused
                  ? 'Paused'
                  : d.next_run_time
                    ? `Next run ${formatRelative(d.next_run_time, props.now)}`
                    : 'No upcoming run'}
              </span>
            </div>
            <div className="jp-Flows-rowActions">
              {props.onOpen && (
                <button
                  className="jp-Flows-button"
                  aria-label={`Open ${d.name}`}
                  title="Details, edit, delete"
                  onClick={() => props.onOpen?.(d)}
                >
                  Open
                </button>
              )}
              <button
                className="jp-Flows-button jp-Flows-pauseButton"
                aria-label={`${d.paused ? 'Resume' : 'Pause'} ${d.name}`}
                title={
                  d.paused
                    ? 'Resume the schedule: new runs are made again'
                    : 'Pause the schedule: no new scheduled runs'
                }
                disabled={busy}
                onClick={() => props.onToggle(d)}
              >
                {d.paused ? 'Resume' : 'Pause'}
              </button>
              <button
                className="jp-Flows-button jp-mod-accept"
                disabled={busy}
                onClick={() => props.onRun(d)}
              >
                Run now
              </button>
            </div>
          </li>
        );
      })}
    </ul>
  );
}
