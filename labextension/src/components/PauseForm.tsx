/**
 * A paused run's form: the input it waits for (fields from its pause's JSON
 * schema), a Resume button, and the server's reason at the field when it
 * refuses the input.
 */
import React, { useEffect, useState } from 'react';

import { errorMessage, FlowsAPI } from '../api';
import { Flows } from '../tokens';
import {
  fieldsFromSchema,
  IField,
  ParameterForm,
  parseFields
} from './ParameterForm';
import { Banner } from './Section';

export function PauseForm(props: {
  runId: string;
  onResumed: () => void;
}): JSX.Element {
  const [pause, setPause] = useState<Flows.IDescribePause | null>(null);
  const [fields, setFields] = useState<IField[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    let live = true;
    FlowsAPI.pause(props.runId)
      .then(found => {
        if (live) {
          setPause(found);
          setFields(
            fieldsFromSchema(
              (found.input_schema ?? undefined) as
                Flows.IParameterSchema | undefined
            )
          );
        }
      })
      .catch(reason => live && setError(errorMessage(reason)));
    return () => {
      live = false;
    };
  }, [props.runId]);
  const resume = async () => {
    setBusy(true);
    setError(null);
    try {
      const runInput = pause?.input_schema ? parseFields(fields) : null;
      await FlowsAPI.resume(props.runId, runInput);
      props.onResumed();
    } catch (reason) {
      setError(errorMessage(reason));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="jp-Flows-pause" role="form" aria-label="Resume this run">
      <p className="jp-Flows-pauseTitle">
        {pause?.reschedule
          ? 'This run is suspended (its process exited; resuming runs it again)'
          : 'This run is paused'}
        {pause?.description ? `: ${pause.description}` : '.'}
        {pause?.timeout_at
          ? ` It gives up at ${new Date(pause.timeout_at).toLocaleString()}.`
          : ''}
      </p>
      {pause?.input_schema && (
        <ParameterForm
          fields={fields}
          onChange={changed => {
            setFields(changed);
            setError(null);
          }}
        />
      )}
      {error && <Banner kind="error">{error}</Banner>}
      <button
        className="jp-Flows-button jp-mod-accept"
        disabled={busy || !pause}
        onClick={() => void resume()}
      >
        Resume
      </button>
    </div>
  );
}
