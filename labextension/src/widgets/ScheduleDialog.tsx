/**
 * "Schedule this notebook": name, cron or interval (with a preview of the
 * next runs), parameters from the notebook's parameters cell, work pool.
 */
import { Dialog, ReactWidget, showDialog } from '@jupyterlab/apputils';
import React, { useEffect, useState } from 'react';

import { errorMessage, FlowsAPI } from '../api';
import {
  fieldsFromNotebook,
  IField,
  ParameterForm,
  parseFields
} from '../components/ParameterForm';
import { Banner } from '../components/Section';
import { formatRelative } from '../format';
import { Flows } from '../tokens';

const UNITS: Record<string, number> = { minutes: 60, hours: 3600, days: 86400 };

export interface IScheduleForm {
  name: string;
  kind: 'none' | 'cron' | 'interval';
  cron: string;
  every: string;
  unit: string;
  timezone: string;
  workPool: string;
  tags: string;
  /** null while the notebook's parameters are read. */
  fields: IField[] | null;
}

/** The schedule of the form, or null for a manual-only deployment. */
function scheduleOf(form: IScheduleForm): Flows.ISchedule | null {
  if (form.kind === 'cron') {
    return { cron: form.cron.trim(), timezone: form.timezone };
  }
  if (form.kind === 'interval') {
    const seconds = Number(form.every) * (UNITS[form.unit] ?? 60);
    return { interval_seconds: seconds, timezone: form.timezone };
  }
  return null;
}

function Preview(props: { form: IScheduleForm }): JSX.Element | null {
  const { form } = props;
  const [items, setItems] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const schedule = scheduleOf(form);
  const key = JSON.stringify(schedule);
  useEffect(() => {
    if (!schedule) {
      return;
    }
    let live = true;
    const timer = window.setTimeout(async () => {
      try {
        const next = await FlowsAPI.previewSchedule({
          cron: schedule.cron ?? undefined,
          interval_seconds: schedule.interval_seconds ?? undefined,
          timezone: schedule.timezone,
          n: 5
        });
        if (live) {
          setItems(next);
          setError(null);
        }
      } catch (e) {
        if (live) {
          setItems([]);
          setError(errorMessage(e));
        }
      }
    }, 300);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [key]);
  if (!schedule) {
    return (
      <p className="jp-Flows-detail">No schedule: runs start with “Run now”.</p>
    );
  }
  if (error) {
    return (
      <p className="jp-Flows-invalid" role="alert">
        {error}
      </p>
    );
  }
  return (
    <div className="jp-Flows-preview" aria-live="polite">
      <span className="jp-Flows-detail">Next runs:</span>
      <ol>
        {items.map(at => (
          <li key={at}>
            {new Date(at).toLocaleString()}{' '}
            <span className="jp-Flows-detail">({formatRelative(at)})</span>
          </li>
        ))}
      </ol>
    </div>
  );
}

function ScheduleForm(props: {
  path: string;
  initial: IScheduleForm;
  pools: string[];
  error: string | null;
  onChange: (form: IScheduleForm) => void;
}): JSX.Element {
  const [form, setForm] = useState(props.initial);
  const [paramsError, setParamsError] = useState<string | null>(null);
  const change = (next: Partial<IScheduleForm>) =>
    setForm(current => {
      const merged = { ...current, ...next };
      props.onChange(merged);
      return merged;
    });
  useEffect(() => {
    if (form.fields !== null) {
      return;
    }
    FlowsAPI.notebookParameters(props.path)
      .then(params => change({ fields: fieldsFromNotebook(params) }))
      .catch(e => {
        setParamsError(errorMessage(e));
        change({ fields: [] });
      });
  }, []);
  const input =
    (key: keyof IScheduleForm) =>
    (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
      change({ [key]: e.target.value });
  return (
    <div className="jp-Flows-dialog jp-Flows-form">
      {props.error && <Banner kind="error">{props.error}</Banner>}
      <p className="jp-Flows-detail">Notebook: {props.path}</p>
      <div className="jp-Flows-field">
        <label htmlFor="jp-Flows-schedule-name">Name</label>
        <input
          id="jp-Flows-schedule-name"
          className="jp-Flows-input"
          value={form.name}
          onChange={input('name')}
        />
      </div>
      <fieldset className="jp-Flows-field">
        <legend>Schedule</legend>
        {(['none', 'cron', 'interval'] as const).map(kind => (
          <label key={kind} className="jp-Flows-radio">
            <input
              type="radio"
              name="jp-Flows-schedule-kind"
              value={kind}
              checked={form.kind === kind}
              onChange={() => change({ kind })}
            />
            {{ none: 'Manual only', cron: 'Cron', interval: 'Every' }[kind]}
          </label>
        ))}
        {form.kind === 'cron' && (
          <input
            aria-label="Cron expression"
            className="jp-Flows-input"
            value={form.cron}
            placeholder="0 6 * * 1-5"
            onChange={input('cron')}
          />
        )}
        {form.kind === 'interval' && (
          <span className="jp-Flows-inline">
            <input
              aria-label="Interval"
              className="jp-Flows-input"
              type="number"
              min="1"
              value={form.every}
              onChange={input('every')}
            />
            <select
              aria-label="Interval unit"
              className="jp-Flows-input"
              value={form.unit}
              onChange={input('unit')}
            >
              {Object.keys(UNITS).map(unit => (
                <option key={unit}>{unit}</option>
              ))}
            </select>
          </span>
        )}
        {form.kind !== 'none' && (
          <input
            aria-label="Time zone"
            className="jp-Flows-input"
            value={form.timezone}
            onChange={input('timezone')}
          />
        )}
        <Preview form={form} />
      </fieldset>
      <div className="jp-Flows-field">
        <label htmlFor="jp-Flows-schedule-pool">Work pool</label>
        <select
          id="jp-Flows-schedule-pool"
          className="jp-Flows-input"
          value={form.workPool}
          onChange={input('workPool')}
        >
          {[...new Set([form.workPool, ...props.pools])].map(pool => (
            <option key={pool}>{pool}</option>
          ))}
        </select>
      </div>
      <div className="jp-Flows-field">
        <label htmlFor="jp-Flows-schedule-tags">Tags</label>
        <input
          id="jp-Flows-schedule-tags"
          className="jp-Flows-input"
          placeholder="a, b"
          value={form.tags}
          onChange={input('tags')}
        />
      </div>
      <h3>Parameters</h3>
      {paramsError && <Banner kind="info">{paramsError}</Banner>}
      {form.fields === null ? (
        <p className="jp-Flows-empty">Reading the notebook’s parameters…</p>
      ) : (
        <ParameterForm
          fields={form.fields}
          onChange={fields => change({ fields })}
        />
      )}
    </div>
  );
}

class ScheduleBody extends ReactWidget {
  constructor(
    private _path: string,
    private _form: IScheduleForm,
    private _pools: string[],
    private _error: string | null
  ) {
    super();
  }

  getValue(): IScheduleForm {
    return this._form;
  }

  render(): JSX.Element {
    return (
      <ScheduleForm
        path={this._path}
        initial={this._form}
        pools={this._pools}
        error={this._error}
        onChange={form => (this._form = form)}
      />
    );
  }
}

/** The deployment the form describes (throws on an unparsable parameter). */
export function deploymentOf(
  path: string,
  form: IScheduleForm
): Flows.ICreateDeployment {
  const schedule = scheduleOf(form);
  return {
    name: form.name.trim(),
    entrypoint: path,
    parameters: parseFields(form.fields ?? []),
    tags: form.tags
      .split(',')
      .map(t => t.trim())
      .filter(t => t),
    work_pool: form.workPool,
    schedules: schedule ? [schedule] : []
  };
}

/**
 * Ask how to schedule the notebook at `path` and create the deployment;
 * comes back with the server's reason until it is created or cancelled.
 */
export async function scheduleNotebookDialog(
  path: string,
  pools: string[]
): Promise<Flows.IDescribeDeployment | null> {
  const base = path.split('/').pop() ?? path;
  let form: IScheduleForm = {
    name: base.replace(/\.ipynb$/, ''),
    kind: 'cron',
    cron: '0 6 * * *',
    every: '1',
    unit: 'hours',
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
    workPool:
      pools.includes('default') || pools.length === 0 ? 'default' : pools[0],
    tags: '',
    fields: null
  };
  let error: string | null = null;
  for (;;) {
    const result = await showDialog({
      title: 'Schedule this notebook',
      body: new ScheduleBody(path, form, pools, error),
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Create' })],
      focusNodeSelector: 'input'
    });
    if (!result.button.accept || !result.value) {
      return null;
    }
    form = result.value;
    try {
      return await FlowsAPI.createDeployment(deploymentOf(path, form));
    } catch (e) {
      error = errorMessage(e);
    }
  }
}
