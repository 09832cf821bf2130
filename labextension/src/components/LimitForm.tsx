/**
 * The form of a concurrency limit: a new one (name, limit, slot decay per
 * second, active) or an existing one's limit and active flag. The server's
 * 400 is shown at the field it names.
 */
import React, { useState } from 'react';

import { FlowsAPI } from '../api';
import { Flows } from '../tokens';
import {
  Checkbox,
  errorAt,
  Field,
  FormActions,
  formError,
  formProps,
  IFormError
} from './FormField';

const FIELDS = ['name', 'limit', 'slot_decay_per_second', 'active'];

function wholeNumber(text: string): boolean {
  return /^\s*\d+\s*$/.test(text);
}

function decayNumber(text: string): boolean {
  const value = Number(text);
  return text.trim() !== '' && Number.isFinite(value) && value >= 0;
}

export function LimitForm(props: {
  /** The limit to edit; none: a new limit. */
  limit?: Flows.IDescribeConcurrencyLimit;
  onSaved: () => void;
  onCancel: () => void;
}): JSX.Element {
  const editing = props.limit;
  const [name, setName] = useState(editing?.name ?? '');
  const [slots, setSlots] = useState(String(editing?.limit ?? 1));
  const [decay, setDecay] = useState(
    String(editing?.slot_decay_per_second ?? 0)
  );
  const [active, setActive] = useState(editing?.active ?? true);
  const [error, setError] = useState<IFormError | null>(null);
  const [busy, setBusy] = useState(false);

  const blocked =
    !editing && name.trim() === ''
      ? 'Enter a name for the limit.'
      : !wholeNumber(slots)
        ? 'The limit is a whole number of slots (0 or more).'
        : !editing && !decayNumber(decay)
          ? 'The slot decay is a number of slots per second (0 or more).'
          : null;
  const changed = (set: (value: string) => void) => (value: string) => {
    set(value);
    setError(null);
  };
  const submit = async () => {
    if (blocked || busy) {
      return;
    }
    setBusy(true);
    setError(null);
    try {
      if (editing) {
        await FlowsAPI.updateConcurrencyLimit(editing.name, {
          limit: Number(slots),
          active
        });
      } else {
        await FlowsAPI.createConcurrencyLimit({
          name,
          limit: Number(slots),
          slot_decay_per_second: Number(decay),
          active
        });
      }
      props.onSaved();
    } catch (reason) {
      // an error naming a field this form does not show goes above Save
      setError(formError(reason, editing ? ['limit', 'active'] : FIELDS));
    } finally {
      setBusy(false);
    }
  };
  const label = editing
    ? `Edit concurrency limit ${editing.name}`
    : 'New concurrency limit';
  return (
    <form {...formProps(label, () => void submit(), props.onCancel)}>
      {!editing && (
        <Field
          label="Name"
          error={errorAt(error, 'name')}
          hint="Task tag limits are named tag:TAG."
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
      )}
      <Field label="Limit (slots)" error={errorAt(error, 'limit')}>
        {input => (
          <input
            {...input}
            className="jp-Flows-input"
            type="number"
            min={0}
            step={1}
            value={slots}
            autoFocus={Boolean(editing)}
            onChange={e => changed(setSlots)(e.target.value)}
          />
        )}
      </Field>
      {!editing && (
        <Field
          label="Slot decay per second"
          error={errorAt(error, 'slot_decay_per_second')}
          hint="0: slots are held until released; more: a rate limit."
        >
          {input => (
            <input
              {...input}
              className="jp-Flows-input"
              type="number"
              min={0}
              step="any"
              value={decay}
              onChange={e => changed(setDecay)(e.target.value)}
            />
          )}
        </Field>
      )}
      <Checkbox
        label="Active (an inactive limit admits everyone)"
        checked={active}
        onChange={value => {
          setActive(value);
          setError(null);
        }}
      />
      {errorAt(error, 'active') && (
        <span className="jp-Flows-fieldError" role="alert">
          {errorAt(error, 'active')}
        </span>
      )}
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
