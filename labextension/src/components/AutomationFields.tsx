/**
 * The fields of an automation draft: its trigger (event glob, match,
 * posture, threshold, window, after, for each) and its action (one of the
 * server's action types and that type's own fields).
 */
import React from 'react';

import { Field } from './FormField';

export const ACTION_TYPES = [
  'run-deployment',
  'pause-deployment',
  'resume-deployment',
  'cancel-flow-run',
  'suspend-flow-run',
  'change-flow-run-state',
  'send-notification'
] as const;

export const STATES = [
  'SCHEDULED',
  'PENDING',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'CRASHED',
  'PAUSED',
  'CANCELLING'
];

/** The draft as the form holds it (text, as typed). */
export interface IDraft {
  name: string;
  description: string;
  event: string;
  match: string;
  posture: 'Reactive' | 'Proactive';
  threshold: string;
  within: string;
  after: string;
  forEach: string;
  actionType: (typeof ACTION_TYPES)[number];
  deployment: string;
  parameters: string;
  timeout: string;
  state: string;
  message: string;
  target: 'webhook' | 'email';
  url: string;
  to: string;
  subject: string;
}

export const EMPTY_DRAFT: IDraft = {
  name: '',
  description: '',
  event: 'flow-run.Failed',
  match: '{}',
  posture: 'Reactive',
  threshold: '1',
  within: '',
  after: '',
  forEach: '',
  actionType: 'run-deployment',
  deployment: '',
  parameters: '{}',
  timeout: '3600',
  state: 'CANCELLED',
  message: '',
  target: 'webhook',
  url: '',
  to: '',
  subject: ''
};

/** Errors by form field (`trigger.event`, `action.deployment`, ...). */
export type Errors = Record<string, string>;

type Change = (patch: Partial<IDraft>) => void;

function TextField(props: {
  label: string;
  field: keyof IDraft;
  errorKey: string;
  draft: IDraft;
  errors: Errors;
  onChange: Change;
  hint?: string;
  multiline?: boolean;
  type?: string;
}): JSX.Element {
  const value = String(props.draft[props.field]);
  return (
    <Field
      label={props.label}
      error={props.errors[props.errorKey]}
      hint={props.hint}
    >
      {input =>
        props.multiline ? (
          <textarea
            {...input}
            className="jp-Flows-input jp-Flows-jsonInput"
            rows={3}
            value={value}
            onChange={e => props.onChange({ [props.field]: e.target.value })}
          />
        ) : (
          <input
            {...input}
            className="jp-Flows-input"
            type={props.type ?? 'text'}
            value={value}
            onChange={e => props.onChange({ [props.field]: e.target.value })}
          />
        )
      }
    </Field>
  );
}

function Select(props: {
  label: string;
  value: string;
  options: readonly string[];
  error?: string;
  onChange: (value: string) => void;
}): JSX.Element {
  return (
    <Field label={props.label} error={props.error}>
      {input => (
        <select
          {...input}
          className="jp-Flows-input"
          value={props.value}
          onChange={e => props.onChange(e.target.value)}
        >
          {props.options.map(o => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export function TriggerFields(props: {
  draft: IDraft;
  errors: Errors;
  onChange: Change;
}): JSX.Element {
  const { draft, errors, onChange } = props;
  const common = { draft, errors, onChange };
  const proactive = draft.posture === 'Proactive';
  return (
    <fieldset className="jp-Flows-fieldset">
      <legend>Trigger</legend>
      <TextField
        {...common}
        label="Event"
        field="event"
        errorKey="trigger.event"
        hint="A name or glob: flow-run.*, upload.done"
      />
      <TextField
        {...common}
        label="Match (JSON)"
        field="match"
        errorKey="trigger.match"
        hint='Payload keys and values, e.g. {"deployment": "etl"}'
        multiline
      />
      <Select
        label="Posture"
        value={draft.posture}
        options={['Reactive', 'Proactive']}
        error={errors['trigger.posture']}
        onChange={v => onChange({ posture: v as IDraft['posture'] })}
      />
      <TextField
        {...common}
        label="Threshold"
        field="threshold"
        errorKey="trigger.threshold"
        type="number"
        hint={
          proactive
            ? 'Fires when fewer than this many come within the window'
            : 'Fires on the n-th matching event'
        }
      />
      <TextField
        {...common}
        label="Within (seconds)"
        field="within"
        errorKey="trigger.within_seconds"
        type="number"
        hint={proactive ? 'The window (at least 10 s)' : 'Empty: any time'}
      />
      <TextField
        {...common}
        label="After (events, comma-separated)"
        field="after"
        errorKey="trigger.after"
        hint="Events that start the wait"
      />
      <TextField
        {...common}
        label="For each (payload keys, comma-separated)"
        field="forEach"
        errorKey="trigger.for_each"
      />
    </fieldset>
  );
}

export function ActionFields(props: {
  draft: IDraft;
  errors: Errors;
  deployments: string[];
  onChange: Change;
}): JSX.Element {
  const { draft, errors, onChange } = props;
  const common = { draft, errors, onChange };
  const type = draft.actionType;
  return (
    <fieldset className="jp-Flows-fieldset">
      <legend>Action</legend>
      <Select
        label="Type"
        value={type}
        options={ACTION_TYPES}
        error={errors['action.type']}
        onChange={v => onChange({ actionType: v as IDraft['actionType'] })}
      />
      {type.endsWith('-deployment') && (
        <Select
          label="Deployment"
          value={draft.deployment}
          options={['', ...props.deployments]}
          error={errors['action.deployment']}
          onChange={v => onChange({ deployment: v })}
        />
      )}
      {type === 'run-deployment' && (
        <TextField
          {...common}
          label="Parameters (JSON)"
          field="parameters"
          errorKey="action.parameters"
          hint='Templates may use the event: {"path": "{{ event.path }}"}'
          multiline
        />
      )}
      {type === 'suspend-flow-run' && (
        <TextField
          {...common}
          label="Timeout (seconds)"
          field="timeout"
          errorKey="action.timeout_seconds"
          type="number"
        />
      )}
      {type === 'change-flow-run-state' && (
        <>
          <Select
            label="State"
            value={draft.state}
            options={STATES}
            error={errors['action.state']}
            onChange={v => onChange({ state: v })}
          />
          <TextField
            {...common}
            label="Message"
            field="message"
            errorKey="action.message"
          />
        </>
      )}
      {type === 'send-notification' && (
        <>
          <Select
            label="Send to"
            value={draft.target}
            options={['webhook', 'email']}
            onChange={v => onChange({ target: v as IDraft['target'] })}
          />
          {draft.target === 'webhook' ? (
            <TextField
              {...common}
              label="Webhook URL"
              field="url"
              errorKey="action.target"
            />
          ) : (
            <TextField
              {...common}
              label="To (comma-separated)"
              field="to"
              errorKey="action.target"
            />
          )}
          <TextField
            {...common}
            label="Subject"
            field="subject"
            errorKey="action.subject"
            hint="Empty: the default subject"
          />
        </>
      )}
    </fieldset>
  );
}
