/**
 * The side panel's configuration: variables (named JSON values) and block
 * documents (secrets among them), as the server lists them: secret fields
 * arrive masked and stay so. Variables are created, edited and deleted here;
 * secrets created, replaced and deleted; other blocks deleted.
 */
import React, { useState } from 'react';

import { errorMessage, FlowsAPI } from '../api';
import { formatRelative } from '../format';
import { Flows } from '../tokens';
import { SECRET_SLUG, SecretForm, VariableForm } from './ConfigForms';
import { confirm } from './FormField';
import { Banner } from './Section';

function preview(value: unknown, width = 60): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/** Edit (or Replace) and Delete of one row; Delete asks first. */
function RowActions(props: {
  what: string;
  editLabel: string;
  onEdit?: () => void;
  onDelete: () => Promise<void>;
  onChanged: () => void;
}): JSX.Element {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const remove = async () => {
    setError(null);
    const question = `Delete ${props.what}?`;
    if (!(await confirm(question, 'This cannot be undone.', 'Delete'))) {
      return;
    }
    setBusy(true);
    try {
      await props.onDelete();
      props.onChanged();
    } catch (reason) {
      setError(errorMessage(reason));
      setBusy(false);
    }
  };
  return (
    <>
      <div className="jp-Flows-rowActions">
        {props.onEdit && (
          <button
            className="jp-Flows-button"
            disabled={busy}
            aria-label={`${props.editLabel} ${props.what}`}
            onClick={props.onEdit}
          >
            {props.editLabel}
          </button>
        )}
        <button
          className="jp-Flows-button jp-mod-warn"
          disabled={busy}
          aria-label={`Delete ${props.what}`}
          onClick={() => void remove()}
        >
          Delete
        </button>
      </div>
      {error && <Banner kind="error">{error}</Banner>}
    </>
  );
}

type Editing =
  | { kind: 'new-variable' }
  | { kind: 'new-secret' }
  | { kind: 'variable'; name: string }
  | { kind: 'secret'; name: string };

export function ConfigList(props: {
  variables: Flows.IDescribeVariable[];
  blocks: Flows.IDescribeBlockDocument[];
  now: number;
  onChanged: () => void;
}): JSX.Element {
  const [editing, setEditing] = useState<Editing | null>(null);
  const cancel = () => setEditing(null);
  const saved = () => {
    setEditing(null);
    props.onChanged();
  };
  const toolbar = (
    <div className="jp-Flows-sectionToolbar">
      {editing?.kind === 'new-variable' ? (
        <VariableForm onSaved={saved} onCancel={cancel} />
      ) : editing?.kind === 'new-secret' ? (
        <SecretForm onSaved={saved} onCancel={cancel} />
      ) : (
        <div className="jp-Flows-rowActions">
          <button
            className="jp-Flows-button"
            onClick={() => setEditing({ kind: 'new-variable' })}
          >
            New variable
          </button>
          <button
            className="jp-Flows-button"
            onClick={() => setEditing({ kind: 'new-secret' })}
          >
            New secret
          </button>
        </div>
      )}
    </div>
  );
  if (props.variables.length === 0 && props.blocks.length === 0) {
    return (
      <>
        {toolbar}
        <p className="jp-Flows-empty">
          No variables or blocks: create them here, or with{' '}
          <code>jupyter flows variables set NAME VALUE</code>,{' '}
          <code>jupyter flows secret set NAME</code>.
        </p>
      </>
    );
  }
  return (
    <>
      {toolbar}
      <ul className="jp-Flows-list" aria-label="Variables and blocks">
        {props.variables.map(v => (
          <li
            key={`v:${v.name}`}
            className="jp-Flows-config"
            data-variable={v.name}
          >
            <div className="jp-Flows-rowMain">
              <span className="jp-Flows-runFlow">{v.name}</span>
              <span className="jp-Flows-detail" title={JSON.stringify(v.value)}>
                variable · <code>{preview(v.value)}</code>
                {v.tags.length ? ` · ${v.tags.join(', ')}` : ''}
              </span>
            </div>
            {editing?.kind === 'variable' && editing.name === v.name ? (
              <VariableForm variable={v} onSaved={saved} onCancel={cancel} />
            ) : (
              <RowActions
                what={`variable ${v.name}`}
                editLabel="Edit"
                onEdit={() => setEditing({ kind: 'variable', name: v.name })}
                onDelete={() => FlowsAPI.deleteVariable(v.name)}
                onChanged={props.onChanged}
              />
            )}
          </li>
        ))}
        {props.blocks.map(b => (
          <li
            key={`b:${b.block_type_slug}/${b.name}`}
            className="jp-Flows-config"
            data-block={`${b.block_type_slug}/${b.name}`}
          >
            <div className="jp-Flows-rowMain">
              <span className="jp-Flows-runFlow">{b.name}</span>
              <span className="jp-Flows-detail">
                {b.block_type_slug}
                {b.secret_fields.length && b.block_type_slug !== SECRET_SLUG
                  ? ' · has secrets'
                  : ''}{' '}
                · {preview(b.data)} · updated{' '}
                {formatRelative(b.updated, props.now)}
              </span>
            </div>
            {editing?.kind === 'secret' && editing.name === b.name ? (
              <SecretForm name={b.name} onSaved={saved} onCancel={cancel} />
            ) : (
              <RowActions
                what={`${b.block_type_slug} ${b.name}`}
                editLabel="Replace"
                onEdit={
                  b.block_type_slug === SECRET_SLUG
                    ? () => setEditing({ kind: 'secret', name: b.name })
                    : undefined
                }
                onDelete={() => FlowsAPI.deleteBlock(b.block_type_slug, b.name)}
                onChanged={props.onChanged}
              />
            )}
          </li>
        ))}
      </ul>
    </>
  );
}
