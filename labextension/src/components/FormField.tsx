/**
 * What the panel's small forms share: a labelled field that shows its error
 * under the input, the submit row (a disabled submit always says why), the
 * server's 400 placed at the field it names, and a confirmation dialog.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import React, { useId } from 'react';

import { errorMessage } from '../api';
import { Banner } from './Section';

/** An error of a form: at a field (its name), or of the whole form (null). */
export interface IFormError {
  field: string | null;
  message: string;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The field of `fields` that a server message names first, and what it says
 * of it: the server says `invalid request body: limit: Input should be ...`
 * or `name: a variable name may contain only ...` (server/handlers.py
 * `_to_http_error`).
 */
export function fieldOf(message: string, fields: string[]): IFormError {
  let best: { field: string; at: number; end: number } | null = null;
  for (const field of fields) {
    const pattern = new RegExp(`(^|[:;]\\s)${escape(field)}(\\.[\\w.*]+)?:\\s`);
    const found = pattern.exec(message);
    if (found && (best === null || found.index < best.at)) {
      best = { field, at: found.index, end: found.index + found[0].length };
    }
  }
  if (best === null) {
    return { field: null, message };
  }
  // the rest of the message (other fields' errors follow after "; ")
  const said = message.slice(best.end);
  return {
    field: best.field,
    message: said.charAt(0).toUpperCase() + said.slice(1)
  };
}

/** A failed request as an error at the field its message names. */
export function formError(reason: unknown, fields: string[]): IFormError {
  return fieldOf(errorMessage(reason), fields);
}

/** The error of `field`, if the form's error is there. */
export function errorAt(
  error: IFormError | null,
  field: string
): string | undefined {
  return error?.field === field ? error.message : undefined;
}

/** The attributes that tie an input to its label and error. */
export interface IFieldInput {
  id: string;
  'aria-invalid': boolean;
  'aria-describedby'?: string;
}

/**
 * A label, its input (`children` given the ids to use) and, under it, the
 * field's error or hint.
 */
export function Field(props: {
  label: string;
  hint?: string;
  error?: string;
  children: (input: IFieldInput) => React.ReactNode;
}): JSX.Element {
  const id = useId();
  const noteId = `${id}-note`;
  const note = props.error ?? props.hint;
  return (
    <div
      className="jp-Flows-field"
      data-field={props.label}
      data-invalid={props.error ? 'true' : 'false'}
    >
      <label htmlFor={id}>{props.label}</label>
      {props.children({
        id,
        'aria-invalid': Boolean(props.error),
        'aria-describedby': note ? noteId : undefined
      })}
      {note && (
        <span
          id={noteId}
          className={props.error ? 'jp-Flows-fieldError' : 'jp-Flows-fieldHint'}
          role={props.error ? 'alert' : undefined}
        >
          {props.error ?? props.hint}
        </span>
      )}
    </div>
  );
}

/** A checkbox with its label on the right. */
export function Checkbox(props: {
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
}): JSX.Element {
  return (
    <label className="jp-Flows-checkbox">
      <input
        type="checkbox"
        checked={props.checked}
        onChange={e => props.onChange(e.target.checked)}
      />
      {props.label}
    </label>
  );
}

/**
 * The form-wide error (one no field is named in), then Save and Cancel; Save
 * is disabled only while saving or with a `blocked` reason shown beside it.
 */
export function FormActions(props: {
  submitLabel: string;
  busy: boolean;
  blocked: string | null;
  error: IFormError | null;
  onCancel: () => void;
}): JSX.Element {
  const reasonId = useId();
  return (
    <>
      {props.error && props.error.field === null && (
        <Banner kind="error">{props.error.message}</Banner>
      )}
      <div className="jp-Flows-formActions">
        <button
          type="submit"
          className="jp-Flows-button jp-mod-accept"
          disabled={props.busy || props.blocked !== null}
          aria-describedby={props.blocked ? reasonId : undefined}
        >
          {props.busy ? 'Saving…' : props.submitLabel}
        </button>
        <button
          type="button"
          className="jp-Flows-button"
          onClick={props.onCancel}
        >
          Cancel
        </button>
      </div>
      {props.blocked && (
        <p id={reasonId} className="jp-Flows-fieldHint jp-Flows-blocked">
          {props.blocked}
        </p>
      )}
    </>
  );
}

/**
 * The props of a `<form>` of the panel: labelled, Enter submits (without a
 * page reload), Escape cancels.
 */
export function formProps(
  label: string,
  onSubmit: () => void,
  onCancel: () => void
): React.FormHTMLAttributes<HTMLFormElement> {
  return {
    className: 'jp-Flows-form jp-Flows-panelForm',
    'aria-label': label,
    noValidate: true,
    onSubmit: e => {
      e.preventDefault();
      onSubmit();
    },
    onKeyDown: e => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        onCancel();
      }
    }
  };
}

/** Ask before something that cannot be undone; true if the user agreed. */
export async function confirm(
  title: string,
  body: string,
  action: string
): Promise<boolean> {
  const answer = await showDialog({
    title,
    body,
    buttons: [
      Dialog.cancelButton({ label: 'Keep it' }),
      Dialog.warnButton({ label: action })
    ]
  });
  return answer.button.accept;
}
