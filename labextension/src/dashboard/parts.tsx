/**
 * The dashboard's tables and lists: flows and deployments with trends,
 * the last failures and the late runs (each opens its run), pools and
 * workers.
 */
import React from 'react';

import { StateBadge } from '../components/StateBadge';
import { formatDuration, formatRelative, formatTime } from '../format';
import { Flows } from '../tokens';
import { DurationLine, Sparkline, typeLabel } from './charts';

function percent(rate: number): string {
  return `${(rate * 100).toFixed(rate > 0 && rate < 0.1 ? 1 : 0)}%`;
}

/** Runs, failures, failure rate, mean duration and trend of each group. */
export function GroupTable(props: {
  kind: 'flow' | 'deployment';
  groups: Flows.IDashboardGroup[];
  starts: string[];
}): JSX.Element {
  const { kind, groups, starts } = props;
  if (groups.length === 0) {
    return <p className="jp-Flows-empty">No {kind} runs in this window.</p>;
  }
  return (
    <table className="jp-Flows-table jp-Flows-dashTable" data-kind={kind}>
      <thead>
        <tr>
          <th>{kind === 'flow' ? 'Flow' : 'Deployment'}</th>
          <th className="jp-Flows-num">Runs</th>
          <th className="jp-Flows-num">Failed</th>
          <th className="jp-Flows-num">Failure rate</th>
          <th className="jp-Flows-num">Mean duration</th>
          <th>Runs over time</th>
          <th>Duration over time</th>
        </tr>
      </thead>
      <tbody>
        {groups.map(g => (
          <tr key={g.key} data-group={g.name}>
            <td className="jp-Flows-dashName">{g.name}</td>
            <td className="jp-Flows-num" data-field="runs">
              {g.runs}
            </td>
            <td className="jp-Flows-num" data-field="failed">
              {g.failed}
            </td>
            <td
              className="jp-Flows-num"
              data-field="failure-rate"
              data-bad={g.failed > 0 ? 'true' : 'false'}
            >
              {percent(g.failure_rate)}
            </td>
            <td className="jp-Flows-num">{formatDuration(g.mean_duration)}</td>
            <td>
              <Sparkline series={g.series} starts={starts} />
            </td>
            <td>
              <DurationLine series={g.series} starts={starts} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Runs as a list of links (the last failures, the late runs). */
export function RunLinks(props: {
  runs: Flows.IDashboardRun[];
  empty: string;
  now: number;
  late?: boolean;
  onOpen: (id: string) => void;
}): JSX.Element {
  const { runs, empty, now, late, onOpen } = props;
  if (runs.length === 0) {
    return <p className="jp-Flows-empty">{empty}</p>;
  }
  return (
    <ul className="jp-Flows-dashRuns">
      {runs.map(r => {
        const when = late ? r.expected_start_time : (r.end_time ?? r.created);
        return (
          <li key={r.id} data-run-id={r.id}>
            <StateBadge state={r.state_name ?? typeLabel(r.state_type ?? '')} />
            <button
              className="jp-Flows-link"
              title={`Open ${r.name}`}
              onClick={() => onOpen(r.id)}
            >
              {r.flow_name} / {r.name}
            </button>
            {r.deployment && (
              <span className="jp-Flows-dim">{r.deployment}</span>
            )}
            <span className="jp-Flows-dim" title={formatTime(when)}>
              {late
                ? `due ${formatRelative(when, now)}`
                : formatRelative(when, now)}
            </span>
            {r.state_message && !late && (
              <div className="jp-Flows-dashMessage" title={r.state_message}>
                {r.state_message}
              </div>
            )}
          </li>
        );
      })}
    </ul>
  );
}

/** Work pools (runs held, workers online/offline) and their workers. */
export function PoolList(props: {
  pools: Flows.IDescribeDashboard['pools'];
  workers: Flows.IDescribeDashboard['workers'];
  now: number;
}): JSX.Element {
  const { pools, workers, now } = props;
  if (pools.length === 0) {
    return <p className="jp-Flows-empty">No work pools.</p>;
  }
  return (
    <ul className="jp-Flows-dashPools">
      {pools.map(p => (
        <li key={p.name} data-pool={p.name}>
          <div className="jp-Flows-dashPoolHead">
            <strong>{p.name}</strong>
            <span className="jp-Flows-dim">{p.type}</span>
            {p.paused && <span className="jp-Flows-tag">paused</span>}
            <span className="jp-Flows-dim">
              {p.running} running
              {p.concurrency_limit !== null ? ` / ${p.concurrency_limit}` : ''}
            </span>
            <span data-field="online">{p.online} online</span>
            <span className="jp-Flows-dim" data-field="offline">
              {p.offline} offline
            </span>
          </div>
          <ul className="jp-Flows-dashWorkers">
            {workers
              .filter(w => w.work_pool === p.name)
              .map(w => (
                <li key={w.name} data-worker={w.name} data-status={w.status}>
                  <span
                    className={
                      w.status === 'online'
                        ? 'jp-Flows-dot jp-Flows-dot-online'
                        : 'jp-Flows-dot'
                    }
                  />
                  {w.name}
                  <span
                    className="jp-Flows-dim"
                    title={formatTime(w.last_heartbeat)}
                  >
                    {w.status} · heartbeat{' '}
                    {formatRelative(w.last_heartbeat, now)}
                  </span>
                </li>
              ))}
          </ul>
        </li>
      ))}
    </ul>
  );
}
