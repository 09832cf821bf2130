/**
 * Work pool management in the panel: the pools with their workers, and
 * create, pause/resume, edit (limit, description) and delete.
 */
import React, { useState } from 'react';

import { errorMessage } from '../api';
import { PagesAPI } from '../pagesApi';
import { Flows } from '../tokens';
import { confirm } from './FormField';
import { PoolForm } from './PoolForm';
import { Banner } from './Section';
import { WorkPoolList } from './WorkPoolList';

export function PoolSection(props: {
  pools: Flows.IDescribeWorkPool[];
  workers: Flows.IDescribeWorker[];
  now: number;
  onChanged: () => Promise<void> | void;
}): JSX.Element {
  // null: no form; '': a new pool; a name: that pool's form
  const [form, setForm] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const act = async (name: string, action: () => Promise<unknown>) => {
    setBusy(name);
    setError(null);
    try {
      await action();
      await props.onChanged();
    } catch (reason) {
      setError(errorMessage(reason));
    } finally {
      setBusy(null);
    }
  };
  const remove = async (pool: Flows.IDescribeWorkPool) => {
    const sure = await confirm(
      `Delete work pool ${pool.name}?`,
      'Its workers are forgotten. A pool that deployments use cannot be deleted.',
      'Delete'
    );
    if (sure) {
      await act(pool.name, () => PagesAPI.deleteWorkPool(pool.name));
    }
  };
  const saved = () => {
    setForm(null);
    void props.onChanged();
  };
  const editing = props.pools.find(p => p.name === form);
  return (
    <div className="jp-Flows-poolSection">
      {error && <Banner kind="error">{error}</Banner>}
      {form === null ? (
        <button
          className="jp-Flows-button jp-Flows-newButton"
          onClick={() => setForm('')}
        >
          New work pool
        </button>
      ) : (
        <PoolForm
          key={form}
          pool={editing}
          onSaved={saved}
          onCancel={() => setForm(null)}
        />
      )}
      <WorkPoolList
        pools={props.pools}
        workers={props.workers}
        now={props.now}
        actions={pool => (
          <>
            <button
              className="jp-Flows-toggle"
              role="switch"
              aria-checked={!pool.paused}
              aria-label={`${pool.name} active`}
              title={pool.paused ? 'Resume the pool' : 'Pause the pool'}
              disabled={busy === pool.name}
              onClick={() =>
                void act(pool.name, () =>
                  PagesAPI.setWorkPoolPaused(pool.name, !pool.paused)
                )
              }
            >
              {pool.paused ? 'Paused' : 'Active'}
            </button>
            <button
              className="jp-Flows-button"
              aria-label={`Edit ${pool.name}`}
              disabled={busy === pool.name}
              onClick={() => setForm(pool.name)}
            >
              Edit
            </button>
            {pool.name !== 'default' && (
              <button
                className="jp-Flows-button jp-mod-warn"
                aria-label={`Delete ${pool.name}`}
                disabled={busy === pool.name}
                onClick={() => void remove(pool)}
              >
                Delete
              </button>
            )}
          </>
        )}
      />
    </div>
  );
}
