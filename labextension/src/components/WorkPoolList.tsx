import React from 'react';

import { formatRelative, formatTime } from '../format';
import { Flows } from '../tokens';

/**
 * Work pools with their workers and last heartbeats.
 */
export function WorkPoolList(props: {
  pools: Flows.IDescribeWorkPool[];
  workers: Flows.IDescribeWorker[];
  now: number;
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
        return (
          <li key={pool.name} className="jp-Flows-pool" data-pool={pool.name}>
            <div className="jp-Flows-rowMain">
              <span className="jp-Flows-poolName">{pool.name}</span>
              <span className="jp-Flows-detail">
                {pool.type} · {limit}
                {pool.paused ? ' · paused' : ''}
              </span>
            </div>
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
