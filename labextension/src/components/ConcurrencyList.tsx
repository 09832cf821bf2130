/**
 * The side panel's concurrency limits: slots held of each limit, and who
 * holds them; create, edit, reset and delete (after a confirmation).
 */
import React, { useState } from 'react';

import { errorMessage, FlowsAPI } from '../api';
import { formatRelative, formatTime } from '../format';
import { Flows } from '../tokens';
import { confirm } from './FormField';
import { LimitForm } from './LimitForm';
import { Banner } from './Section';

function LimitActions(props: {
  limit: Flows.IDescribeConcurrencyLimit;
  onEdit: () => void;
  onChanged: () => void;
}): JSX.Element {
  const { limit } = props;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const act = async (
    question: [string, string, string],
    call: () => Promise<unknown>
  ) => {
    setError(null);
    if (!(await confirm(...question))) {
      return;
    }
    setBusy(true);
    try {
      await call();
      props.onChanged();
    } catch (reason) {
      setError(errorMessage(reason));
    } finally {
      setBusy(false);
    }
  };
  const held = `${limit.active_slots} slot${limit.active_slots === 1 ? '' : 's'}`;
  return (
    <>
      <div className="jp-Flows-rowActions">
        <button
          className="jp-Flows-button"
          disabled={busy}
          aria-label={`Edit ${limit.name}`}
          onClick={props.onEdit}
        >
          Edit
        </button>
        <button
          className="jp-Flows-button"
          disabled={busy}
          aria-label={`Reset ${limit.name}`}
          title="Free every slot: its holders' leases end"
          onClick={() =>
            void act(
              [
                `Reset the limit “${limit.name}”?`,
                `Its ${held} held now are freed: their holders' leases end.`,
                'Reset'
              ],
              () => FlowsAPI.resetConcurrencyLimit(limit.name)
            )
          }
        >
          Reset
        </button>
        <button
          className="jp-Flows-button jp-mod-warn"
          disabled={busy}
          aria-label={`Delete ${limit.name}`}
          onClick={() =>
            void act(
              [
                `Delete the limit “${limit.name}”?`,
                `The limit and its leases (${held} held now) are deleted; what it limited runs unlimited.`,
                'Delete'
              ],
              () => FlowsAPI.deleteConcurrencyLimit(limit.name)
            )
          }
        >
          Delete
        </button>
      </div>
      {error && <Banner kind="error">{error}</Banner>}
    </>
  );
}

export function ConcurrencyList(props: {
  limits: Flows.IDescribeConcurrencyLimit[];
  now: number;
  onChanged: () => void;
}): JSX.Element {
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<string | null>(null);
  const saved = () => {
    setCreating(false);
    setEditing(null);
    props.onChanged();
  };
  const toolbar = (
    <div className="jp-Flows-sectionToolbar">
      {creating ? (
        <LimitForm onSaved={saved} onCancel={() => setCreating(false)} />
      ) : (
        <button className="jp-Flows-button" onClick={() => setCreating(true)}>
          New limit
        </button>
      )}
    </div>
  );
  if (props.limits.length === 0) {
    return (
      <>
        {toolbar}
        <p className="jp-Flows-empty">
          No concurrency limits. Create one here, with{' '}
          <code>jupyter flows gcl create NAME --limit N</code>, or limit a task
          tag with <code>jupyter flows concurrency-limit create TAG N</code>.
        </p>
      </>
    );
  }
  return (
    <>
      {toolbar}
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
              {editing === limit.name ? (
                <LimitForm
                  limit={limit}
                  onSaved={saved}
                  onCancel={() => setEditing(null)}
                />
              ) : (
                <LimitActions
                  limit={limit}
                  onEdit={() => setEditing(limit.name)}
                  onChanged={props.onChanged}
                />
              )}
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
    </>
  );
}
