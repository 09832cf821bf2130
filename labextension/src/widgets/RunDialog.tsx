/**
 * "Run now": a parameter form built from the deployment's parameter schema.
 */
import { Dialog, ReactWidget, showDialog } from '@jupyterlab/apputils';
import React, { useState } from 'react';

import { FlowsAPI } from '../api';
import { formError, IFormError } from '../components/FormField';
import {
  fieldsFromSchema,
  firstProblem,
  IField,
  ParameterForm,
  parseFields
} from '../components/ParameterForm';
import { Banner } from '../components/Section';
import { Flows } from '../tokens';

interface IRunFormState {
  fields: IField[];
  tags: string;
}

/** Errors at parameters, by name (`tags`: the tags field). */
export function fieldErrors(error: IFormError | null): Record<string, string> {
  return error?.field ? { [error.field]: error.message } : {};
}

function RunForm(props: {
  initial: IRunFormState;
  error: IFormError | null;
  onChange: (state: IRunFormState) => void;
}): JSX.Element {
  const [state, setState] = useState(props.initial);
  const change = (next: IRunFormState) => {
    setState(next);
    props.onChange(next);
  };
  // a server error stays at its field until that field is edited
  const [error, setError] = useState(props.error);
  const errors = fieldErrors(error);
  return (
    <div className="jp-Flows-dialog">
      {error && error.field === null && (
        <Banner kind="error">{error.message}</Banner>
      )}
      <h3>Parameters</h3>
      <ParameterForm
        fields={state.fields}
        errors={errors}
        onChange={fields => {
          setError(null);
          change({ ...state, fields });
        }}
      />
      <div className="jp-Flows-field">
        <label htmlFor="jp-Flows-run-tags">Tags</label>
        <input
          id="jp-Flows-run-tags"
          className="jp-Flows-input"
          placeholder="a, b"
          value={state.tags}
          aria-invalid={Boolean(errors.tags)}
          onChange={e => change({ ...state, tags: e.target.value })}
        />
        {errors.tags && (
          <span className="jp-Flows-fieldError" role="alert">
            {errors.tags}
          </span>
        )}
      </div>
    </div>
  );
}

class RunFormBody extends ReactWidget {
  constructor(
    private _state: IRunFormState,
    private _error: IFormError | null
  ) {
    super();
  }

  getValue(): IRunFormState {
    return this._state;
  }

  render(): JSX.Element {
    return (
      <RunForm
        initial={this._state}
        error={this._error}
        onChange={state => (this._state = state)}
      />
    );
  }
}

/**
 * Ask for parameters and start a run of `deployment`; the dialog comes back
 * with the server's reason until the run is created or the user cancels.
 */
export async function runDeploymentDialog(
  deployment: Flows.IDescribeDeployment
): Promise<Flows.IDescribeFlowRun | null> {
  let state: IRunFormState = {
    fields: fieldsFromSchema(
      deployment.parameter_schema as Flows.IParameterSchema,
      deployment.parameters
    ),
    tags: ''
  };
  let error: IFormError | null = null;
  for (;;) {
    const result = await showDialog({
      title: `Run “${deployment.name}” now`,
      body: new RunFormBody(state, error),
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Run' })],
      focusNodeSelector: 'input'
    });
    if (!result.button.accept || !result.value) {
      return null;
    }
    state = result.value;
    // a parameter that does not parse: back, with the reason at the field
    error = firstProblem(state.fields);
    if (error) {
      continue;
    }
    try {
      const tags = state.tags
        .split(',')
        .map(t => t.trim())
        .filter(t => t);
      return await FlowsAPI.runDeployment(deployment.id, {
        parameters: parseFields(state.fields),
        tags
      });
    } catch (e) {
      error = formError(e, [...state.fields.map(f => f.name), 'tags']);
    }
  }
}
