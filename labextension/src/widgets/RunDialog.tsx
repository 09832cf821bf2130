/**
 * "Run now": a parameter form built from the deployment's parameter schema.
 */
import { Dialog, ReactWidget, showDialog } from '@jupyterlab/apputils';
import React, { useState } from 'react';

import { errorMessage, FlowsAPI } from '../api';
import {
  fieldsFromSchema,
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

function RunForm(props: {
  initial: IRunFormState;
  error: string | null;
  onChange: (state: IRunFormState) => void;
}): JSX.Element {
  const [state, setState] = useState(props.initial);
  const change = (next: IRunFormState) => {
    setState(next);
    props.onChange(next);
  };
  return (
    <div className="jp-Flows-dialog">
      {props.error && <Banner kind="error">{props.error}</Banner>}
      <h3>Parameters</h3>
      <ParameterForm
        fields={state.fields}
        onChange={fields => change({ ...state, fields })}
      />
      <div className="jp-Flows-field">
        <label htmlFor="jp-Flows-run-tags">Tags</label>
        <input
          id="jp-Flows-run-tags"
          className="jp-Flows-input"
          placeholder="a, b"
          value={state.tags}
          onChange={e => change({ ...state, tags: e.target.value })}
        />
      </div>
    </div>
  );
}

class RunFormBody extends ReactWidget {
  constructor(
    private _state: IRunFormState,
    private _error: string | null
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
  let error: string | null = null;
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
      error = errorMessage(e);
    }
  }
}
