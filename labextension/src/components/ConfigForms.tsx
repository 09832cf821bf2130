/**
 * The forms of the panel's configuration: a variable (name, JSON value,
 * tags) and a Secret block (name, value in a password input).
 *
 * A secret's value is typed into an uncontrolled input (React never writes
 * it into the DOM as an attribute), sent once, and cleared; nothing the
 * server replies is kept, and the list shows the masked documents.
 */
import React, { useRef, useState } from 'react';

import { FlowsAPI } from '../api';
import { Flows } from '../tokens';
import {
  errorAt,
  Field,
  FormActions,
  formError,
  formProps,
  IFormError
} from './FormField';

/** The block type of `jupyter_flows.blocks.system.Secret`, its one field. */
export const SECRET_SLUG = 'secret';

function tagsOf(text: string): string[] {
  return text
    .split(',')
    .map(tag => tag.trim())
    .filter(tag => tag !== '');
}

export function VariableForm(props: {
  /** The variable to edit; none: a new one. */
  variable?: Flows.IDescribeVariable;
  onSaved: () => void;
  onCancel: () => void;
}): JSX.Element {
  const editing = props.variable;
  const [name, setName] = useState(editing?.name ?? '');
  const [value, setValue] = useState(
    editing ? JSON.stringify(editing.value, null, 2) : ''
  );
  const [tags, setTags] = useState(editing?.tags.join(', ') ?? '');
  const [error, setError] = useState<IFormError | null>(null);
  const [busy, setBusy] = useState(false);
  const blocked =
    name.trim() === ''
      ? 'Enter a name for the variable.'
      : value.trim() === ''
        ? 'Enter a JSON value (text in double quotes).'
        : null;
  const changed = (set: (text: string) => void) => (text: string) => {
    set(text);
    setError(null);
  };
  const submit = async () => {
    if (blocked || busy) {
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch (reason) {
      const why = reason instanceof Error ? reason.message : String(reason);
      setError({
        field: 'value',
        message: `Not valid JSON (${why}). Text goes in double quotes: "abc".`
      });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await FlowsAPI.setVariable(name, {
        value: parsed,
        tags: tagsOf(tags),
        overwrite: Boolean(editing)
      });
      props.onSaved();
    } catch (reason) {
      setError(formError(reason, ['name', 'value', 'tags']));
    } finally {
      setBusy(false);
    }
  };
  const label = editing ? `Edit variable ${editing.name}` : 'New variable';
  return (
    <form {...formProps(label, () => void submit(), props.onCancel)}>
      <Field
        label="Name"
        error={errorAt(error, 'name')}
        hint={editing ? undefined : 'Lowercase letters, digits, - and _.'}
      >
        {input => (
          <input
            {...input}
            className="jp-Flows-input"
            type="text"
            value={name}
            readOnly={Boolean(editing)}
            autoFocus={!editing}
            onChange={e => changed(setName)(e.target.value)}
          />
        )}
      </Field>
      <Field
        label="Value (JSON)"
        error={errorAt(error, 'value')}
        hint={'e.g. 42, "text", {"bucket": "s3://raw"}'}
      >
        {input => (
          <textarea
            {...input}
            className="jp-Flows-input jp-Flows-jsonInput"
            rows={3}
            spellCheck={false}
            value={value}
            autoFocus={Boolean(editing)}
            onChange={e => changed(setValue)(e.target.value)}
          />
        )}
      </Field>
      <Field
        label="Tags"
        error={errorAt(error, 'tags')}
        hint="Comma-separated."
      >
        {input => (
          <input
            {...input}
            className="jp-Flows-input"
            type="text"
            value={tags}
            onChange={e => changed(setTags)(e.target.value)}
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

export function SecretForm(props: {
  /** The secret whose value to replace; none: a new secret. */
  name?: string;
  onSaved: () => void;
  onCancel: () => void;
}): JSX.Element {
  const replacing = props.name;
  const [name, setName] = useState(replacing ?? '');
  const secret = useRef<HTMLInputElement>(null);
  const [hasValue, setHasValue] = useState(false);
  const [error, setError] = useState<IFormError | null>(null);
  const [busy, setBusy] = useState(false);
  const blocked =
    name.trim() === ''
      ? 'Enter a name for the secret.'
      : !hasValue
        ? 'Enter the secret value.'
        : null;
  const submit = async () => {
    const input = secret.current;
    if (blocked || busy || !input) {
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await FlowsAPI.saveBlock(SECRET_SLUG, name, {
        data: { value: input.value },
        secret_fields: ['value'],
        overwrite: Boolean(replacing)
      });
      input.value = '';
      setHasValue(false);
      props.onSaved();
    } catch (reason) {
      // "data: ..." is about the value
      const found = formError(reason, ['name', 'data', 'value']);
      setError(found.field === 'data' ? { ...found, field: 'value' } : found);
    } finally {
      setBusy(false);
    }
  };
  const label = replacing
    ? `Replace the value of secret ${replacing}`
    : 'New secret';
  return (
    <form {...formProps(label, () => void submit(), props.onCancel)}>
      <Field
        label="Name"
        error={errorAt(error, 'name')}
        hint={replacing ? undefined : 'Lowercase letters, digits and -.'}
      >
        {input => (
          <input
            {...input}
            className="jp-Flows-input"
            type="text"
            value={name}
            readOnly={Boolean(replacing)}
            autoFocus={!replacing}
            onChange={e => {
              setName(e.target.value);
              setError(null);
            }}
          />
        )}
      </Field>
      <Field
        label={replacing ? 'New value' : 'Value'}
        error={errorAt(error, 'value')}
        hint="Stored encrypted; never shown again."
      >
        {input => (
          <input
            {...input}
            ref={secret}
            className="jp-Flows-input"
            type="password"
            autoComplete="new-password"
            autoFocus={Boolean(replacing)}
            onInput={e => {
              setHasValue(e.currentTarget.value !== '');
              setError(null);
            }}
          />
        )}
      </Field>
      <FormActions
        submitLabel={replacing ? 'Replace' : 'Create'}
        busy={busy}
        blocked={blocked}
        error={error}
        onCancel={props.onCancel}
      />
    </form>
  );
}
