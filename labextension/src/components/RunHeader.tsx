import { refreshIcon } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import React from 'react';

import {
  durationSeconds,
  formatDuration,
  formatTime,
  isFinal,
  stateName
} from '../format';
import { RunViews } from '../runTypes';
import { CommandIDs } from '../tokens';
import { StateBadge } from './StateBadge';

/**
 * The head of a run view: name, state, facts and the run's actions (cancel,
 * retry, report, output notebook when the run wrote one, copy link).
 */
export function RunHeader(props: {
  run: RunViews.IDescribeFlowRunDetail;
  /** The name of the run's deployment (null: none, or not known). */
  deployment: string | null;
  now: number;
  commands: CommandRegistry;
  onRefresh: () => void;
}): JSX.Element {
  const { run, commands } = props;
  const exec = (id: string) => () => void commands.execute(id, { id: run.id });
  const cancellable = !isFinal(run) && run.state_type !== 'CANCELLING';
  const retryable =
    !!run.deployment_id &&
    ['FAILED', 'CRASHED', 'CANCELLED'].includes(run.state_type ?? '');
  return (
    <header className="jp-Flows-runHeader">
      <div className="jp-Flows-runTitle">
        <h2>
          {run.flow_name} / {run.name}
        </h2>
        <StateBadge state={stateName(run)} />
      </div>
      <dl className="jp-Flows-facts">
        <dt>Started</dt>
        <dd>{formatTime(run.start_time)}</dd>
        <dt>Kind</dt>
        <dd>{run.kind}</dd>
        {run.deployment_id && (
          <>
            <dt>Deployment</dt>
            <dd>{props.deployment ?? run.deployment_id.slice(0, 8)}</dd>
          </>
        )}
        <dt>Duration</dt>
        <dd>{formatDuration(durationSeconds(run, props.now))}</dd>
        {run.work_pool && (
          <>
            <dt>Pool</dt>
            <dd>
              {run.work_pool}
              {run.worker ? ` / ${run.worker}` : ''}
            </dd>
          </>
        )}
        {run.tags.length > 0 && (
          <>
            <dt>Tags</dt>
            <dd>{run.tags.join(', ')}</dd>
          </>
        )}
      </dl>
      <div className="jp-Flows-toolbar">
        <button
          className="jp-Flows-iconButton"
          title="Refresh"
          aria-label="Refresh"
          onClick={props.onRefresh}
        >
          <refreshIcon.react tag="span" />
        </button>
        {cancellable && (
          <button
            className="jp-Flows-button jp-mod-warn"
            onClick={exec(CommandIDs.cancelRun)}
          >
            Cancel
          </button>
        )}
        {retryable && (
          <button
            className="jp-Flows-button jp-mod-accept"
            title="A new run that reuses the completed task runs' persisted results"
            onClick={exec(CommandIDs.retryRun)}
          >
            Retry
          </button>
        )}
        <button
          className="jp-Flows-button"
          onClick={exec(CommandIDs.downloadReport)}
        >
          Download report
        </button>
        {run.output_path && (
          <button
            className="jp-Flows-button"
            onClick={exec(CommandIDs.openOutput)}
          >
            Output notebook
          </button>
        )}
        <button
          className="jp-Flows-button"
          title="Copy a JupyterLab link that opens this run"
          onClick={exec(CommandIDs.copyRunLink)}
        >
          Copy link
        </button>
        {run.retry_of && (
          <button
            className="jp-Flows-link"
            onClick={() =>
              void commands.execute(CommandIDs.openRun, { id: run.retry_of! })
            }
          >
            Retry of…
          </button>
        )}
        {run.parent_flow_run_id && (
          <button
            className="jp-Flows-link"
            onClick={() =>
              void commands.execute(CommandIDs.openRun, {
                id: run.parent_flow_run_id!
              })
            }
          >
            Parent run
          </button>
        )}
      </div>
    </header>
  );
}
