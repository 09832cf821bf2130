import React from 'react';

import { formatRelative, formatTime, shortJson } from '../format';
import { Flows } from '../tokens';

/**
 * Work pools with their workers and last heartbeats.
 */
export function WorkPoolList(props: {
  pools: Flows.IDescribeWorkPool[];
  workers: Flows.IDescribeWorker[];
  now: number;
  /** Buttons shown in a pool's row (pause, edit, delete). */
  actions?: (pool: Flows.IDescribeWorkPool) => React.ReactNode;
}): JSX.Element {
  if (props.pools.length === 0) {
    return <p className="jp-Flows-empty">No work pools.</p>;
  }
  return (
    <ul className="jp-Flows-list" aria-label="Work pools">
      {props.pools.map(pool => {
        const workers = props.workers.filter(w => w.work_pool === pool.name);
        const limit =
          pool.concurrency_limit === null ||
          pool.concurrency_limit === undefined
            ? 'no limit'
            : `limit ${pool.concurrency_limit}`;
        const template = templateDefaults(pool.base_job_template ?? {});
        return (
          <li
            key={pool.name}
            className="jp-Flows-pool"
            data-pool={pool.name}
            data-paused={pool.paused ? 'true' : 'false'}
          >
            <div className="jp-Flows-rowMain">
              <span className="jp-Flows-poolName">{pool.name}</span>
              <span className="jp-Flows-detail">
                {pool.type} · {limit}
                {pool.paused ? ' · paused' : ''}
              </span>
              {pool.description ? (
                <span className="jp-Flows-detail">{pool.description}</span>
              ) : null}
            </div>
            {props.actions ? (
              <div className="jp-Flows-rowActions">{props.actions(pool)}</div>
            ) : null}
            {template ? (
              <p
                className="jp-Flows-detail jp-Flows-jobTemplate"
                title={JSON.stringify(pool.base_job_template, null, 2)}
              >
                job defaults {template}
              </p>
            ) : null}
            {workers.length === 0 ? (
              <p className="jp-Flows-detail">No workers.</p>
            ) : (
              <ul className="jp-Flows-workers">
                {workers.map(w => (
                  <li key={w.name} data-status={w.status}>
                    <span
                      className={`jp-Flows-dot jp-Flows-dot-${w.status}`}
                      aria-hidden="true"
                    />
                    <span className="jp-Flows-workerName">{w.name}</span>
                    <span
                      className="jp-Flows-detail"
                      title={formatTime(w.last_heartbeat)}
                    >
                      {w.status} · heartbeat{' '}
                      {formatRelative(w.last_heartbeat, props.now)}
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </li>
        );
      })}
    </ul>
  );
}

/**
 * The defaults of a base job template that are set (not null, not empty), if short.
 */
function templateDefaults(template: { [key: string]: unknown }): string | null {
  const variables = template['variables'] as
    { properties?: { [name: string]: { default?: unknown } } } | undefined;
  const set: { [name: string]: unknown } = {};
  for (const [name, prop] of Object.entries(variables?.properties ?? {})) {
    const value = prop.default;
    const empty =
      value === null ||
      value === undefined ||
      (typeof value === 'object' && Object.keys(value as object).length === 0);
    if (!empty) {
      set[name] = value;
    }
  }
  return Object.keys(set).length ? shortJson(set) : null;
}
