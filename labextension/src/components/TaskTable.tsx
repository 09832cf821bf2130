import React from 'react';

import {
  durationSeconds,
  formatDuration,
  formatTime,
  stateName
} from '../format';
import { Flows } from '../tokens';
import { StateBadge } from './StateBadge';

/**
 * One page of the task runs of a flow run: state, attempts, duration,
 * message, subflow.
 */
export function TaskTable(props: {
  taskRuns: Flows.IDescribeTaskRun[];
  selected: string | null;
  now: number;
  onOpenRun: (runId: string) => void;
  /** Whether a filter is on (for the empty message). */
  filtered?: boolean;
}): JSX.Element {
  const { taskRuns, now } = props;
  if (taskRuns.length === 0) {
    return (
      <p className="jp-Flows-empty">
        {props.filtered ? 'No task runs match.' : 'No task runs.'}
      </p>
    );
  }
  const rows = taskRuns;
  return (
    <div className="jp-Flows-tableScroll">
      <table className="jp-Flows-table" aria-label="Task runs">
        <thead>
          <tr>
            <th scope="col">Task run</th>
            <th scope="col">State</th>
            <th scope="col">Attempts</th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            <th scope="col">Message</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(t => (
            <tr
              key={t.id}
              data-task-run={t.id}
              data-selected={props.selected === t.id ? 'true' : undefined}
            >
              <td title={t.task_key}>
                {t.name}
                {t.subflow_run_id && (
                  <button
                    className="jp-Flows-link"
                    onClick={() => props.onOpenRun(t.subflow_run_id!)}
                  >
                    open subflow run
                  </button>
                )}
              </td>
              <td>
                <StateBadge state={stateName(t)} />
              </td>
              <td>{t.run_count}</td>
              <td>{formatTime(t.start_time)}</td>
              <td>{formatDuration(durationSeconds(t, now))}</td>
              <td className="jp-Flows-message">{t.state_message ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
