/**
 * The side panel's artifacts: the newest version of each key and, a click
 * on a key away, its history (each version: its run, time, type and
 * rendered content; `GET artifacts?key=`).
 */
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import React, { useEffect, useState } from 'react';

import { errorMessage, FlowsAPI } from '../api';
import { formatRelative, formatTime } from '../format';
import { Flows } from '../tokens';
import { ArtifactBody } from './Artifacts';
import { Banner } from './Section';

/** Versions of a key read at once (newest first). */
const HISTORY_PAGE = 50;

/** The versions of one key, newest first; re-read when a newer one appears. */
export function ArtifactHistory(props: {
  artifactKey: string;
  /** The newest version the panel knows of (a change re-reads the history). */
  latestId: string | null;
  now: number;
  rendermime: IRenderMimeRegistry | null;
  onOpenRun: (runId: string) => void;
  onBack: () => void;
}): JSX.Element {
  const { artifactKey } = props;
  const [page, setPage] = useState<Flows.IListArtifactsResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    FlowsAPI.artifacts({ key: artifactKey, limit: HISTORY_PAGE })
      .then(found => {
        if (live) {
          setPage(found);
          setError(null);
        }
      })
      .catch(reason => live && setError(errorMessage(reason)));
    return () => {
      live = false;
    };
  }, [artifactKey, props.latestId]);
  const versions = page?.items ?? [];
  return (
    <div
      className="jp-Flows-artifactHistory"
      role="region"
      aria-label={`History of ${artifactKey}`}
      data-history-key={artifactKey}
    >
      <div className="jp-Flows-historyHeader">
        <button
          className="jp-Flows-button"
          onClick={props.onBack}
          aria-label="Back to all artifact keys"
        >
          ← All keys
        </button>
        <span className="jp-Flows-runFlow" title={artifactKey}>
          {artifactKey}
        </span>
      </div>
      {error && <Banner kind="error">{error}</Banner>}
      {page && (
        <p className="jp-Flows-detail jp-Flows-historyCount">
          {page.total === 1 ? '1 version' : `${page.total} versions`}
          {page.total > versions.length
            ? ` (the newest ${versions.length} shown)`
            : ''}
        </p>
      )}
      {!page && !error && <p className="jp-Flows-empty">Loading…</p>}
      <ol className="jp-Flows-list jp-Flows-versions" reversed>
        {versions.map((a, i) => (
          <li
            key={a.id}
            className="jp-Flows-artifact jp-Flows-version"
            data-artifact-id={a.id}
            data-artifact-type={a.type}
          >
            <header>
              <span className="jp-Flows-detail">
                {i === 0 ? 'latest · ' : ''}
                {a.type} ·{' '}
                <time dateTime={a.created} title={formatTime(a.created)}>
                  {formatRelative(a.created, props.now)}
                </time>
              </span>
              {a.flow_run_id ? (
                <button
                  className="jp-Flows-link jp-Flows-versionRun"
                  title={`Open the run ${a.flow_run_name ?? a.flow_run_id}`}
                  onClick={() =>
                    a.flow_run_id && props.onOpenRun(a.flow_run_id)
                  }
                >
                  {a.flow_run_name ?? 'run'}
                </button>
              ) : (
                <span className="jp-Flows-detail">no run</span>
              )}
            </header>
            {a.description && (
              <div className="jp-Flows-artifactDescription">
                {a.description}
              </div>
            )}
            <ArtifactBody artifact={a} rendermime={props.rendermime} />
          </li>
        ))}
      </ol>
    </div>
  );
}

/**
 * The side panel's list: the newest version of each key; a click on a key
 * shows its history (`ArtifactHistory`) in its place.
 */
export function ArtifactKeyList(props: {
  artifacts: Flows.IDescribeArtifact[];
  now: number;
  rendermime: IRenderMimeRegistry | null;
  onOpenRun: (runId: string) => void;
}): JSX.Element {
  const [shown, setShown] = useState<string | null>(null);
  if (shown !== null) {
    const latest = props.artifacts.find(a => a.key === shown);
    return (
      <ArtifactHistory
        artifactKey={shown}
        latestId={latest?.id ?? null}
        now={props.now}
        rendermime={props.rendermime}
        onOpenRun={props.onOpenRun}
        onBack={() => setShown(null)}
      />
    );
  }
  if (props.artifacts.length === 0) {
    return (
      <p className="jp-Flows-empty">
        No artifacts yet: flows make them with{' '}
        <code>jupyter_flows.artifacts</code>.
      </p>
    );
  }
  return (
    <ul className="jp-Flows-list jp-Flows-artifactKeys">
      {props.artifacts.map(a => (
        <li key={a.id} data-artifact-key={a.key ?? ''}>
          <button
            className="jp-Flows-row"
            disabled={!a.key}
            title={a.key ? `Show the history of ${a.key}` : ''}
            onClick={() => a.key && setShown(a.key)}
          >
            <span className="jp-Flows-rowMain">
              <span className="jp-Flows-runFlow">{a.key}</span>
              <span className="jp-Flows-detail">
                {a.type === 'progress'
                  ? `${Number(a.data).toLocaleString('en-US')}%`
                  : a.type}
                {a.flow_run_name ? ` · ${a.flow_run_name}` : ''} ·{' '}
                {formatRelative(a.updated, props.now)}
              </span>
            </span>
          </button>
        </li>
      ))}
    </ul>
  );
}
