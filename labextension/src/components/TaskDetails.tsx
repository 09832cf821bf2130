/**
 * The details pane of a task run selected in the run graph: its state history,
 * attempts, duration, inputs (upstream tasks) and its own log lines.
 */
import React, { useEffect, useState } from 'react';

import { FlowsAPI } from '../api';
import { formatDuration, formatTime, levelName } from '../format';
import { RunViews } from '../runTypes';
import { Flows } from '../tokens';
import { StateBadge } from './StateBadge';

interface IDetails {
  taskRun: RunViews.IDescribeTaskRunDetail;
  logs: Flows.IDescribeLog[];
}

export function TaskDetails(props: {
  flowRunId: string;
  node: RunViews.IGraphNode;
  graph: RunViews.IGraphLayout;
  onClose: () => void;
}): JSX.Element {
  const { flowRunId, node } = props;
  const [details, setDetails] = useState<IDetails | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setDetails(null);
    setError(null);
    Promise.all([
      FlowsAPI.taskRun(node.id),
      FlowsAPI.logs(flowRunId, {
        task_run_id: node.id,
        newest: true,
        limit: 200
      })
    ])
      .then(([taskRun, page]) => {
        if (live) {
          setDetails({ taskRun, logs: page.items });
        }
      })
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [flowRunId, node.id, node.state]);
  const labels = new Map(props.graph.nodes.map(n => [n.id, n.label]));
  const inputs = props.graph.edges
    .filter(e => e.target === node.id)
    .map(e => labels.get(e.source) ?? e.source);
  const t = details?.taskRun;
  return (
    <aside
      className="jp-Flows-taskDetails"
      aria-label={`task run ${node.label}`}
      data-task-run-id={node.id}
    >
      <header className="jp-Flows-taskDetailsHeader">
        <h3>{node.label}</h3>
        <StateBadge state={t?.state_name ?? node.state} />
        <button
          className="jp-Flows-link"
          aria-label="Close the details"
          onClick={props.onClose}
        >
          ×
        </button>
      </header>
      {error && <p className="jp-Flows-error">{error}</p>}
      {!t && !error && <p className="jp-Flows-empty">Loading…</p>}
      {t && (
        <>
          <dl className="jp-Flows-facts">
            <dt>Attempts</dt>
            <dd data-fact="attempts">{t.run_count}</dd>
            <dt>Duration</dt>
            <dd data-fact="duration">{formatDuration(t.total_run_time)}</dd>
            <dt>Started</dt>
            <dd>{formatTime(t.start_time)}</dd>
            <dt>Inputs</dt>
            <dd data-fact="inputs">
              {inputs.length ? inputs.join(', ') : 'none from other tasks'}
            </dd>
            {t.state_message && (
              <>
                <dt>Message</dt>
                <dd>{t.state_message}</dd>
              </>
            )}
            {t.cache_key && (
              <>
                <dt>Cache key</dt>
                <dd>
                  <code>{t.cache_key.slice(0, 16)}</code>
                </dd>
              </>
            )}
          </dl>
          <h4>State history</h4>
          <ol className="jp-Flows-stateHistory">
            {t.states.map(s => (
              <li key={s.id}>
                <StateBadge state={s.name} /> {formatTime(s.timestamp)}
                {s.message ? ` ${s.message}` : ''}
              </li>
            ))}
          </ol>
          <h4>Logs</h4>
          {details.logs.length === 0 ? (
            <p className="jp-Flows-empty">No log lines.</p>
          ) : (
            <pre className="jp-Flows-taskLogs">
              {details.logs
                .map(l => `${levelName(l.level)} ${l.message}`)
                .join('\n')}
            </pre>
          )}
        </>
      )}
    </aside>
  );
}
