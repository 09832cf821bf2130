/**
 * "Schedule this notebook": name, parameters from the notebook's parameters
 * cell (near the top, so they are in view), cron or interval with its time
 * zone (with a preview of the next runs), work pool and tags.
 */
import { Dialog, ReactWidget, showDialog } from '@jupyterlab/apputils';
import React, { useEffect, useState } from 'react';

import { errorMessage, FlowsAPI } from '../api';
import { errorAt, Field, formError, IFormError } from '../components/FormField';
import {
  fieldsFromNotebook,
  firstProblem,
  ParameterForm,
  parseFields
} from '../components/ParameterForm';
import {
  IScheduleForm,
  Preview,
  scheduleField,
  scheduleOf,
  UNITS
} from '../components/SchedulePreview';
import { Banner } from '../components/Section';
import { Flows } from '../tokens';
import { fieldErrors } from './RunDialog';

export type { IScheduleForm };

/** The fields a server message may name (`fieldOf`), besides the parameters. */
const FORM_FIELDS = ['name', 'schedules', 'work_pool', 'tags'];

function ScheduleForm(props: {
  path: string;
  initial: IScheduleForm;
  pools: string[];
  error: IFormError | null;
  onChange: (form: IScheduleForm) => void;
}): JSX.Element {
  const [form, setForm] = useState(props.initial);
  const [paramsError, setParamsError] = useState<string | null>(null);
  // a server error stays at its field until the form is edited
  const [error, setError] = useState(props.error);
  const change = (next: Partial<IScheduleForm>) =>
    setForm(current => {
      const merged = { ...current, ...next };
      props.onChange(merged);
      return merged;
    });
  const edit = (next: Partial<IScheduleForm>) => {
    setError(null);
    change(next);
  };
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
      edit({ [key]: e.target.value });
  const [previewError, setPreviewError] = useState<string | null>(null);
  const previewAt = previewError ? scheduleField(previewError) : null;
  // the server names `schedules.0.timezone`: that one goes to the time zone field
  const serverError =
    error?.field === 'schedules' && scheduleField(error.message) === 'timezone'
      ? { ...error, field: 'timezone' }
      : error;
  const at = (field: string) =>
    errorAt(serverError, field) ??
    (previewError && (previewAt ?? 'schedules') === field
      ? previewError
      : undefined);
  return (
    <div className="jp-Flows-dialog jp-Flows-form jp-Flows-scheduleForm">
      {error && error.field === null && (
        <Banner kind="error">{error.message}</Banner>
      )}
      <p className="jp-Flows-detail">Notebook: {props.path}</p>
      <div className="jp-Flows-field">
        <label htmlFor="jp-Flows-schedule-name">Name</label>
        <input
          id="jp-Flows-schedule-name"
          className="jp-Flows-input"
          value={form.name}
          aria-invalid={Boolean(at('name'))}
          onChange={input('name')}
        />
        {at('name') && (
          <span className="jp-Flows-fieldError" role="alert">
            {at('name')}
          </span>
        )}
      </div>
      <section className="jp-Flows-scheduleParameters" aria-label="Parameters">
        <h3>Parameters</h3>
        {paramsError && <Banner kind="info">{paramsError}</Banner>}
        {form.fields === null ? (
          <p className="jp-Flows-empty">Reading the notebook’s parameters…</p>
        ) : (
          <ParameterForm
            fields={form.fields}
            errors={fieldErrors(error)}
            onChange={fields => edit({ fields })}
          />
        )}
      </section>
      <fieldset className="jp-Flows-field">
        <legend>Schedule</legend>
        <div>
          {(['none', 'cron', 'interval'] as const).map(kind => (
            <label key={kind} className="jp-Flows-radio">
              <input
                type="radio"
                name="jp-Flows-schedule-kind"
                value={kind}
                checked={form.kind === kind}
                onChange={() => edit({ kind })}
              />
              {{ none: 'Manual only', cron: 'Cron', interval: 'Every' }[kind]}
            </label>
          ))}
        </div>
        <div className="jp-Flows-scheduleRow">
          {form.kind === 'cron' && (
            <Field
              label="Cron expression"
              hint="minute hour day month weekday"
              error={at('schedules')}
            >
              {ids => (
                <input
                  {...ids}
                  className="jp-Flows-input"
                  value={form.cron}
                  placeholder="0 6 * * 1-5"
                  onChange={input('cron')}
                />
              )}
            </Field>
          )}
          {form.kind === 'interval' && (
            <Field label="Every" error={at('schedules')}>
              {ids => (
                <span className="jp-Flows-inline">
                  <input
                    {...ids}
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
            </Field>
          )}
          {form.kind !== 'none' && (
            <Field
              label="Time zone"
              hint="an IANA name, e.g. Europe/Paris"
              error={at('timezone')}
            >
              {ids => (
                <input
                  {...ids}
                  className="jp-Flows-input"
                  value={form.timezone}
                  onChange={input('timezone')}
                />
              )}
            </Field>
          )}
        </div>
        <Preview
          form={form}
          onError={message => {
            setPreviewError(message);
            if (message === null && error && error.field !== null) {
              setError(null); // the schedule is right now
            }
          }}
        />
      </fieldset>
      <div className="jp-Flows-scheduleRow">
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
          {at('work_pool') && (
            <span className="jp-Flows-fieldError" role="alert">
              {at('work_pool')}
            </span>
          )}
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
          {at('tags') && (
            <span className="jp-Flows-fieldError" role="alert">
              {at('tags')}
            </span>
          )}
        </div>
      </div>
    </div>
  );
}

class ScheduleBody extends ReactWidget {
  constructor(
    private _path: string,
    private _form: IScheduleForm,
    private _pools: string[],
    private _error: IFormError | null
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
  let error: IFormError | null = null;
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
    // a parameter that does not parse: back, with the reason at the field
    error = firstProblem(form.fields ?? []);
    if (error) {
      continue;
    }
    try {
      return await FlowsAPI.createDeployment(deploymentOf(path, form));
    } catch (e) {
      const params = (form.fields ?? []).map(f => f.name);
      error = formError(e, [...FORM_FIELDS, ...params]);
      const field = error.field ?? scheduleField(error.message);
      error = { ...error, field }; // a schedule's error: at the schedule's field
    }
  }
}
