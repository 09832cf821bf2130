/**
 * The form of a work pool: a new one (name, type, concurrency limit,
 * description) or an existing one's limit and description. The server's 400
 * is shown at the field it names.
 */
import React, { useState } from 'react';

import { PagesAPI } from '../pagesApi';
import { Flows } from '../tokens';
import {
  errorAt,
  Field,
  FormActions,
  formError,
  formProps,
  IFormError
} from './FormField';

const FIELDS = ['name', 'type', 'concurrency_limit', 'description'];

export function PoolForm(props: {
  /** The pool to edit; none: a new pool. */
  pool?: Flows.IDescribeWorkPool;
  onSaved: () => void;
  onCancel: () => void;
}): JSX.Element {
  const editing = props.pool;
  const [name, setName] = useState('');
  const [type, setType] = useState('process');
  const [limit, setLimit] = useState(
    editing?.concurrency_limit === null ||
      editing?.concurrency_limit === undefined
      ? ''
      : String(editing.concurrency_limit)
  );
  const [description, setDescription] = useState(editing?.description ?? '');
  const [error, setError] = useState<IFormError | null>(null);
  const [busy, setBusy] = useState(false);

  const changed = (set: (value: string) => void) => (value: string) => {
    set(value);
    setError(null);
  };
  const blocked =
    !editing && name.trim() === ''
      ? 'Enter a name for the pool.'
      : limit.trim() !== '' && !/^\s*\d+\s*$/.test(limit)
        ? 'The concurrency limit is a whole number (empty: no limit).'
        : null;
  const submit = async () => {
    if (blocked || busy) {
      return;
    }
    setBusy(true);
    setError(null);
    const concurrency_limit = limit.trim() === '' ? null : Number(limit);
    try {
      if (editing) {
        await PagesAPI.updateWorkPool(editing.name, {
          concurrency_limit,
          description: description || null
        });
      } else {
        await PagesAPI.createWorkPool({
          name: name.trim(),
          type,
          concurrency_limit,
          description: description || null
        });
      }
      props.onSaved();
    } catch (reason) {
      setError(formError(reason, FIELDS));
    } finally {
      setBusy(false);
    }
  };
  const label = editing ? `Edit work pool ${editing.name}` : 'New work pool';
  return (
    <form {...formProps(label, () => void submit(), props.onCancel)}>
      {!editing && (
        <>
          <Field
            label="Name"
            error={errorAt(error, 'name')}
            hint="Letters, digits, and _ . -"
          >
            {input => (
              <input
                {...input}
                className="jp-Flows-input"
                type="text"
                value={name}
                autoFocus
                onChange={e => changed(setName)(e.target.value)}
              />
            )}
          </Field>
          <Field
            label="Type"
            error={errorAt(error, 'type')}
            hint="process: runs on this machine; dask: on a Dask cluster"
          >
            {input => (
              <select
                {...input}
                className="jp-Flows-input"
                value={type}
                onChange={e => changed(setType)(e.target.value)}
              >
                <option value="process">process</option>
                <option value="dask">dask</option>
              </select>
            )}
          </Field>
        </>
      )}
      <Field
        label="Concurrency limit"
        error={errorAt(error, 'concurrency_limit')}
        hint="Runs at once; empty: no limit"
      >
        {input => (
          <input
            {...input}
            className="jp-Flows-input"
            type="number"
            min={0}
            step={1}
            value={limit}
            autoFocus={Boolean(editing)}
            onChange={e => changed(setLimit)(e.target.value)}
          />
        )}
      </Field>
      <Field label="Description" error={errorAt(error, 'description')}>
        {input => (
          <input
            {...input}
            className="jp-Flows-input"
            type="text"
            value={description}
            onChange={e => changed(setDescription)(e.target.value)}
          />
        )}
      </Field>
      <FormActions
        submitLabel={editing ? 'Save' : 'Create'}
        busy={busy}
        blocked={blocked}
        error={error}
        onCancel={props.onCancel}
      />
    </form>
  );
}
