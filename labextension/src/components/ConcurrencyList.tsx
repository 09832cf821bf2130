/**
 * The side panel's concurrency limits: slots held of each limit, and who holds them.
 */
import React from 'react';

import { formatRelative, formatTime } from '../format';
import { Flows } from '../tokens';

export function ConcurrencyList(props: {
  limits: Flows.IDescribeConcurrencyLimit[];
  now: number;
}): JSX.Element {
  if (props.limits.length === 0) {
    return (
      <p className="jp-Flows-empty">
        No concurrency limits. Create one with{' '}
        <code>jupyter flows gcl create NAME --limit N</code>, or limit a task
        tag with <code>jupyter flows concurrency-limit create TAG N</code>.
      </p>
    );
  }
  return (
    <ul className="jp-Flows-list" aria-label="Concurrency limits">
      {props.limits.map(limit => {
        const full = limit.active && limit.active_slots >= limit.limit;
        const decay =
          limit.slot_decay_per_second > 0
            ? ` · decays ${limit.slot_decay_per_second}/s`
            : '';
        return (
          <li
            key={limit.name}
            className="jp-Flows-limit"
            data-limit={limit.name}
            data-full={full ? 'true' : 'false'}
          >
            <div className="jp-Flows-rowMain">
              <span className="jp-Flows-runFlow">{limit.name}</span>
              <span className="jp-Flows-detail">
                {limit.active ? '' : 'inactive · '}
                {limit.active_slots} of {limit.limit} slots held{decay}
              </span>
            </div>
            <progress
              className="jp-Flows-limitBar"
              max={Math.max(limit.limit, 1)}
              value={Math.min(limit.active_slots, Math.max(limit.limit, 1))}
              aria-label={`${limit.name}: ${limit.active_slots} of ${limit.limit} slots`}
            />
            {limit.holders.length > 0 && (
              <ul className="jp-Flows-workers">
                {limit.holders.map(h => (
                  <li
                    key={h.lease_id}
                    title={`lease until ${formatTime(h.expires)}`}
                  >
                    <span className="jp-Flows-workerName">
                      {h.holder.name ?? h.holder.id}
                    </span>
                    <span className="jp-Flows-detail">
                      {h.holder.type.replace('_', ' ')} · {h.slots} slot
                      {h.slots === 1 ? '' : 's'} · since{' '}
                      {formatRelative(h.since, props.now)}
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
