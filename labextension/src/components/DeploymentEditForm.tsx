/**
 * Edit a deployment: its (first) schedule, parameters, tags, work pool and
 * paused flag. The server checks everything; its 400 is shown at the field
 * it names (`schedules.0.cron: invalid cron ...`).
 */
import React, { useState } from 'react';

import { Pages, PagesAPI } from '../pagesApi';
import { cronInWords } from '../scheduleWords';
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

type Kind = 'none' | 'cron' | 'interval';

const FIELDS = [
  'schedules.0.cron',
  'schedules.0.timezone',
  'schedules.0.interval_seconds',
  'schedules',
  'parameters',
  'tags',
  'work_pool',
  'paused'
];

function kindOf(schedule: Flows.ISchedule | undefined): Kind {
  if (!schedule) {
    return 'none';
  }
  return schedule.interval_seconds ? 'interval' : 'cron';
}

/** An error of the request, at its field (parameter errors: at parameters). */
function errorOf(reason: unknown): IFormError {
  const error = formError(reason, FIELDS);
  if (error.field === null && error.message.startsWith('invalid parameters')) {
    return { field: 'parameters', message: error.message };
  }
  return error;
}

export function DeploymentEditForm(props: {
  deployment: Flows.IDescribeDeployment;
  pools: string[];
  onSaved: (deployment: Flows.IDescribeDeployment) => void;
  onCancel: () => void;
}): JSX.Element {
  const d = props.deployment;
  const first = d.schedules[0] as Flows.ISchedule | undefined;
  const [kind, setKind] = useState<Kind>(kindOf(first));
  const [cron, setCron] = useState(first?.cron ?? '0 9 * * *');
  const [timezone, setTimezone] = useState(first?.timezone ?? 'UTC');
  const [interval, setInterval] = useState(
    String(first?.interval_seconds ?? 3600)
  );
  const [parameters, setParameters] = useState(
    JSON.stringify(d.parameters, null, 2)
  );
  const [tags, setTags] = useState(d.tags.join(', '));
  const [pool, setPool] = useState(d.work_pool);
  const [paused, setPaused] = useState(d.paused);
  const [error, setError] = useState<IFormError | null>(null);
  const [busy, setBusy] = useState(false);

  const changed =
    <T,>(set: (value: T) => void) =>
    (value: T) => {
      set(value);
      setError(null);
    };
  let parsed: Record<string, unknown> | null = null;
  try {
    const value = JSON.parse(parameters || '{}');
    parsed =
      value && typeof value === 'object' && !Array.isArray(value)
        ? value
        : null;
  } catch {
    parsed = null;
  }
  const blocked =
    parsed === null ? 'Parameters are a JSON object, e.g. {"n": 3}.' : null;

  const schedule = (): Flows.ISchedule[] => {
    const rest = d.schedules.slice(1);
    if (kind === 'none') {
      return rest;
    }
    const base = first && kindOf(first) === kind ? first : {};
    const edited: Flows.ISchedule =
      kind === 'cron'
        ? { ...base, cron, timezone, interval_seconds: null }
        : {
            ...base,
            interval_seconds: Number(interval),
            timezone,
            cron: null
          };
    return [edited, ...rest];
  };
  const submit = async () => {
    if (blocked || busy || parsed === null) {
      return;
    }
    setBusy(true);
    setError(null);
    const body: Pages.IUpdateDeployment = {
      schedules: schedule(),
      parameters: parsed,
      tags: tags
        .split(',')
        .map(t => t.trim())
        .filter(Boolean),
      work_pool: pool,
      paused
    };
    try {
      props.onSaved(await PagesAPI.updateDeployment(d.id, body));
    } catch (reason) {
      setError(errorOf(reason));
    } finally {
      setBusy(false);
    }
  };
  const words = kind === 'cron' ? cronInWords(cron) : null;
  const scheduleError =
    errorAt(error, 'schedules.0.cron') ?? errorAt(error, 'schedules');
  return (
    <form
      {...formProps(
        `Edit deployment ${d.name}`,
        () => void submit(),
        props.onCancel
      )}
    >
      <Field label="Schedule">
        {input => (
          <select
            {...input}
            className="jp-Flows-input"
            value={kind}
            onChange={e => changed(setKind)(e.target.value as Kind)}
          >
            <option value="none">Manual (no schedule)</option>
            <option value="cron">Cron</option>
            <option value="interval">Interval</option>
          </select>
        )}
      </Field>
      {kind === 'cron' && (
        <Field
          label="Cron"
          error={scheduleError}
          hint={words ?? 'minute hour day-of-month month day-of-week'}
        >
          {input => (
            <input
              {...input}
              className="jp-Flows-input"
              type="text"
              value={cron}
              onChange={e => changed(setCron)(e.target.value)}
            />
          )}
        </Field>
      )}
      {kind === 'interval' && (
        <Field
          label="Every (seconds)"
          error={errorAt(error, 'schedules.0.interval_seconds')}
        >
          {input => (
            <input
              {...input}
              className="jp-Flows-input"
              type="number"
              min={1}
              value={interval}
              onChange={e => changed(setInterval)(e.target.value)}
            />
          )}
        </Field>
      )}
      {kind !== 'none' && (
        <Field
          label="Time zone"
          error={errorAt(error, 'schedules.0.timezone')}
          hint="An IANA name, e.g. Europe/Paris"
        >
          {input => (
            <input
              {...input}
              className="jp-Flows-input"
              type="text"
              value={timezone}
              onChange={e => changed(setTimezone)(e.target.value)}
            />
          )}
        </Field>
      )}
      <Field
        label="Parameters (JSON)"
        error={errorAt(error, 'parameters')}
        hint="Defaults of its runs; a run may override them."
      >
        {input => (
          <textarea
            {...input}
            className="jp-Flows-input jp-Flows-jsonInput"
            rows={Math.min(10, parameters.split('\n').length + 1)}
            value={parameters}
            onChange={e => changed(setParameters)(e.target.value)}
          />
        )}
      </Field>
      <Field label="Tags" error={errorAt(error, 'tags')} hint="Comma-separated">
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
      <Field label="Work pool" error={errorAt(error, 'work_pool')}>
        {input => (
          <select
            {...input}
            className="jp-Flows-input"
            value={pool}
            onChange={e => changed(setPool)(e.target.value)}
          >
            {[...new Set([...props.pools, d.work_pool])].map(name => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Checkbox
        label="Paused (its schedule makes no runs)"
        checked={paused}
        onChange={changed(setPaused)}
      />
      <FormActions
        submitLabel="Save"
        busy={busy}
        blocked={blocked}
        error={error}
        onCancel={props.onCancel}
      />
    </form>
  );
}
