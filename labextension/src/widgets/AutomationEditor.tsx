/**
 * "New automation" (main area): a form of the trigger and action, a preview
 * of what it would have fired on in the last 24 hours (the server replays
 * the stored events), and Create. Server errors are shown at their fields.
 */
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import React, { useState } from 'react';

import { errorMessage } from '../api';
import {
  ActionFields,
  EMPTY_DRAFT,
  Errors,
  IDraft,
  TriggerFields
} from '../components/AutomationFields';
import { Field } from '../components/FormField';
import { Banner } from '../components/Section';
import { formatTime, shortJson } from '../format';
import { flowsIcon } from '../icons';
import { Pages, PagesAPI } from '../pagesApi';
import { Flows, IFlowsModel } from '../tokens';

function list(text: string): string[] {
  return text
    .split(',')
    .map(t => t.trim())
    .filter(Boolean);
}

function object(
  text: string,
  key: string,
  errors: Errors
): { [key: string]: unknown } {
  try {
    const value = JSON.parse(text.trim() || '{}');
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      return value;
    }
  } catch {
    // below
  }
  errors[key] = 'A JSON object, e.g. {"key": "value"}.';
  return {};
}

/** The request body of a draft, and the errors found before sending it. */
export function bodyOf(draft: IDraft): [Flows.ICreateAutomation, Errors] {
  const errors: Errors = {};
  const trigger: Flows.IEventTrigger = {
    event: draft.event.trim(),
    match: object(draft.match, 'trigger.match', errors),
    posture: draft.posture,
    threshold: Number(draft.threshold || 1),
    within_seconds: draft.within.trim() === '' ? null : Number(draft.within),
    after: list(draft.after),
    for_each: list(draft.forEach)
  };
  let action: Flows.IAutomationAction;
  const type = draft.actionType;
  if (
    type === 'run-deployment' ||
    type === 'pause-deployment' ||
    type === 'resume-deployment'
  ) {
    action = {
      type,
      deployment: draft.deployment,
      parameters:
        type === 'run-deployment'
          ? object(draft.parameters, 'action.parameters', errors)
          : {}
    };
  } else if (type === 'suspend-flow-run') {
    action = { type, timeout_seconds: Number(draft.timeout) };
  } else if (type === 'change-flow-run-state') {
    action = {
      type,
      state: draft.state as Flows.StateType,
      message: draft.message || null
    };
  } else if (type === 'send-notification') {
    const target =
      draft.target === 'email'
        ? { email: { to: list(draft.to) } }
        : { webhook: { url: draft.url.trim() } };
    action = {
      type,
      ...(draft.subject ? { subject: draft.subject } : {}),
      ...target
    };
  } else {
    action = { type };
  }
  const body = {
    name: draft.name.trim(),
    description: draft.description || null,
    trigger,
    action
  };
  return [body, errors];
}

/**
 * The server's 400 by form field: it says `trigger.threshold: ...`,
 * `trigger: within_seconds: ...`, `action.deployment.deployment: ...` or
 * `action.send-notification.email: ...` (server/handlers.py).
 */
export function errorsOf(message: string): Errors {
  const errors: Errors = {};
  const text = message.replace(/^invalid request body: /, '');
  for (const part of text.split('; ')) {
    const found = /^([\w.-]+): (?:([\w.]+): )?(.*)$/.exec(part);
    if (!found) {
      errors[''] = errors[''] ? `${errors['']}; ${part}` : part;
      continue;
    }
    const [, path, inner, said] = found;
    const [head, ...rest] = path.split('.');
    let key: string;
    if (head === 'trigger') {
      key = `trigger.${rest[0] ?? inner?.split('.')[0] ?? ''}`;
    } else if (head === 'action') {
      const last = [...rest, ...(inner ? inner.split('.') : [])];
      key = last.some(p => /^(email|webhook|url|to|url_secret)$/.test(p))
        ? 'action.target'
        : last.includes('deployment')
          ? 'action.deployment'
          : `action.${last.find(p => /^[a-z_]+$/.test(p)) ?? 'type'}`;
    } else {
      key = head;
    }
    const words =
      inner && head !== 'action' && head !== 'trigger' ? part : said;
    errors[key] = errors[key] ? `${errors[key]}; ${words}` : words;
  }
  return errors;
}

function Preview(props: {
  preview: Pages.IPreviewAutomationResponse;
}): JSX.Element {
  const { preview } = props;
  const n = preview.firings.length;
  return (
    <section className="jp-Flows-preview" aria-label="Preview">
      <h3>
        Would have fired {n} {n === 1 ? 'time' : 'times'} since{' '}
        {formatTime(preview.since)}
      </h3>
      <p className="jp-Flows-detail">
        {preview.events_seen} events looked at
        {preview.truncated ? ' (only the newest: more were stored)' : ''}.
      </p>
      {n > 0 && (
        <ul className="jp-Flows-list" aria-label="Firings">
          {preview.firings.map((f, i) => (
            <li
              key={`${f.at}-${i}`}
              className="jp-Flows-firing"
              data-event-id={f.event_id ?? ''}
            >
              <span className="jp-Flows-firingTime">{formatTime(f.at)}</span>
              <span className="jp-Flows-firingEvent">{f.event ?? '—'}</span>
              <span className="jp-Flows-detail">{f.reason}</span>
              {Object.keys(f.payload).length > 0 && (
                <code className="jp-Flows-detail">{shortJson(f.payload)}</code>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Editor(props: {
  model: IFlowsModel;
  onCreated: (automation: Flows.IDescribeAutomation) => void;
}): JSX.Element {
  const [draft, setDraft] = useState<IDraft>(EMPTY_DRAFT);
  const [errors, setErrors] = useState<Errors>({});
  const [preview, setPreview] =
    useState<Pages.IPreviewAutomationResponse | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const change = (patch: Partial<IDraft>) => {
    setDraft(d => ({ ...d, ...patch }));
    setErrors({});
  };
  const send = async (what: 'preview' | 'create') => {
    const [body, found] = bodyOf(draft);
    if (what === 'create' && !body.name) {
      found.name = 'Enter a name for the automation.';
    }
    setErrors(found);
    if (Object.keys(found).length) {
      return;
    }
    setBusy(what);
    try {
      if (what === 'preview') {
        const { name, ...rest } = body;
        setPreview(
          await PagesAPI.previewAutomation({ ...rest, name: name || null })
        );
      } else {
        props.onCreated(await PagesAPI.createAutomation(body));
      }
    } catch (reason) {
      setErrors(errorsOf(errorMessage(reason)));
    } finally {
      setBusy(null);
    }
  };
  const deployments = props.model.deployments.map(d => d.name);
  return (
    <div className="jp-Flows-page jp-Flows-automationEditor">
      <header className="jp-Flows-pageHeader">
        <h2>New automation</h2>
      </header>
      <div className="jp-Flows-editorGrid">
        <form
          className="jp-Flows-form"
          aria-label="New automation"
          noValidate
          onSubmit={e => {
            e.preventDefault();
            void send('create');
          }}
        >
          <Field label="Name" error={errors['name']}>
            {input => (
              <input
                {...input}
                className="jp-Flows-input"
                type="text"
                value={draft.name}
                autoFocus
                onChange={e => change({ name: e.target.value })}
              />
            )}
          </Field>
          <TriggerFields draft={draft} errors={errors} onChange={change} />
          <ActionFields
            draft={draft}
            errors={errors}
            deployments={deployments}
            onChange={change}
          />
          {errors[''] && <Banner kind="error">{errors['']}</Banner>}
          <div className="jp-Flows-formActions">
            <button
              type="button"
              className="jp-Flows-button"
              disabled={busy !== null}
              onClick={() => void send('preview')}
            >
              {busy === 'preview' ? 'Previewing…' : 'Preview last 24 h'}
            </button>
            <button
              type="submit"
              className="jp-Flows-button jp-mod-accept"
              disabled={busy !== null}
            >
              {busy === 'create' ? 'Creating…' : 'Create'}
            </button>
          </div>
        </form>
        {preview ? (
          <Preview preview={preview} />
        ) : (
          <p className="jp-Flows-empty jp-Flows-preview">
            “Preview last 24 h” lists the stored events this trigger would have
            fired on, without saving anything.
          </p>
        )}
      </div>
    </div>
  );
}

export class AutomationEditor extends ReactWidget {
  constructor(private _model: IFlowsModel) {
    super();
    this.addClass('jp-Flows-automationEditorView');
  }

  render(): JSX.Element {
    return (
      <Editor
        model={this._model}
        onCreated={automation => {
          this._model.updateAutomation(automation);
          void this._model.refresh();
          this.parent?.close();
        }}
      />
    );
  }
}

export function createAutomationWidget(
  model: IFlowsModel
): MainAreaWidget<AutomationEditor> {
  const widget = new MainAreaWidget({ content: new AutomationEditor(model) });
  widget.id = `jupyter-flows-new-automation-${Date.now()}`;
  widget.title.label = 'New automation';
  widget.title.icon = flowsIcon;
  widget.title.closable = true;
  return widget;
}
