/**
 * Artifacts: the cards of a run view (markdown rendered by JupyterLab's
 * sanitizing renderer, sortable tables, images, links, live progress bars)
 * (the side panel's list of keys and their history: ArtifactKeys.tsx).
 */
import { MimeModel } from '@jupyterlab/rendermime';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import React, { useEffect, useMemo, useRef, useState } from 'react';

import { formatRelative } from '../format';
import { Flows } from '../tokens';

type Cell = string | number | boolean | null;

/** `(columns, rows)` of a table artifact's data (as the report reads it). */
export function tableRows(data: unknown): [string[], Cell[][]] {
  let table: unknown = data;
  if (typeof data === 'string') {
    try {
      table = JSON.parse(data);
    } catch {
      return [['value'], [[data]]];
    }
  }
  const cell = (v: unknown): Cell =>
    v === null || ['string', 'number', 'boolean'].includes(typeof v)
      ? (v as Cell)
      : JSON.stringify(v);
  if (Array.isArray(table)) {
    if (
      table.length > 0 &&
      table.every(r => r && typeof r === 'object' && !Array.isArray(r))
    ) {
      const columns = [...new Set(table.flatMap(r => Object.keys(r)))];
      return [columns, table.map(r => columns.map(c => cell(r[c] ?? null)))];
    }
    const rows = table.map(r => (Array.isArray(r) ? r.map(cell) : [cell(r)]));
    const width = Math.max(0, ...rows.map(r => r.length));
    return [[...Array(width).keys()].map(String), rows];
  }
  if (table && typeof table === 'object') {
    const columns = Object.keys(table);
    const values = Object.values(table).map(v => (Array.isArray(v) ? v : []));
    const height = Math.max(0, ...values.map(v => v.length));
    const rows = [...Array(height).keys()].map(i =>
      values.map(v => cell(i < v.length ? v[i] : null))
    );
    return [columns, rows];
  }
  return [['value'], [[cell(table)]]];
}

function compare(a: Cell, b: Cell): number {
  if (a === b) {
    return 0;
  }
  if (a === null) {
    return 1;
  }
  if (b === null) {
    return -1;
  }
  if (typeof a === 'number' && typeof b === 'number') {
    return a - b;
  }
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

/** A table whose column headers sort it (again: the other way). */
export function SortableTable(props: { data: unknown }): JSX.Element {
  const [columns, rows] = useMemo(() => tableRows(props.data), [props.data]);
  const [sort, setSort] = useState<{ column: number; up: boolean } | null>(
    null
  );
  const sorted = useMemo(() => {
    if (!sort) {
      return rows;
    }
    const out = [...rows].sort((a, b) =>
      compare(a[sort.column], b[sort.column])
    );
    return sort.up ? out : out.reverse();
  }, [rows, sort]);
  const onSort = (column: number) =>
    setSort(
      sort?.column === column ? { column, up: !sort.up } : { column, up: true }
    );
  return (
    <div className="jp-Flows-tableScroll">
      <table className="jp-Flows-artifactTable">
        <thead>
          <tr>
            {columns.map((c, i) => (
              <th
                key={c}
                aria-sort={
                  sort?.column === i
                    ? sort.up
                      ? 'ascending'
                      : 'descending'
                    : 'none'
                }
              >
                <button className="jp-Flows-link" onClick={() => onSort(i)}>
                  {c}
                  {sort?.column === i ? (sort.up ? ' ▲' : ' ▼') : ''}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {sorted.map((row, r) => (
            <tr key={r}>
              {row.map((v, c) => (
                <td key={c}>{v === null ? '' : String(v)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Markdown, rendered untrusted (sanitized) by JupyterLab; as text without it. */
export function Markdown(props: {
  text: string;
  rendermime: IRenderMimeRegistry | null;
}): JSX.Element {
  const host = useRef<HTMLDivElement>(null);
  const { text, rendermime } = props;
  useEffect(() => {
    const node = host.current;
    if (!node || !rendermime) {
      return;
    }
    const renderer = rendermime.createRenderer('text/markdown');
    const model = new MimeModel({
      data: { 'text/markdown': text },
      trusted: false
    });
    void renderer.renderModel(model).then(() => {
      node.replaceChildren(renderer.node);
    });
    return () => renderer.dispose();
  }, [text, rendermime]);
  if (!rendermime) {
    return <pre className="jp-Flows-markdownText">{text}</pre>;
  }
  return <div className="jp-Flows-markdown" ref={host} />;
}

function safeImage(url: string): boolean {
  return /^(https?:\/\/|data:image\/)/i.test(url);
}

/** An artifact's content, rendered by its type. */
export function ArtifactBody(props: {
  artifact: Flows.IDescribeArtifact;
  rendermime: IRenderMimeRegistry | null;
}): JSX.Element {
  const { artifact, rendermime } = props;
  const data = artifact.data;
  switch (artifact.type) {
    case 'markdown':
      return <Markdown text={String(data ?? '')} rendermime={rendermime} />;
    case 'table':
      return <SortableTable data={data} />;
    case 'image':
      return safeImage(String(data)) ? (
        <img
          className="jp-Flows-artifactImage"
          src={String(data)}
          alt={artifact.description ?? artifact.key ?? 'image'}
        />
      ) : (
        <code>{String(data)}</code>
      );
    case 'progress': {
      const pct = Math.max(0, Math.min(Number(data) || 0, 100));
      return (
        <div className="jp-Flows-progressRow">
          <progress
            max={100}
            value={pct}
            aria-label={artifact.key ?? 'progress'}
          />
          <span>
            {pct.toLocaleString('en-US', { maximumFractionDigits: 1 })}%
          </span>
        </div>
      );
    }
    default:
      return <pre>{JSON.stringify(data, null, 2)}</pre>;
  }
}

/** The artifacts of a run, oldest first, each a card. */
export function ArtifactCards(props: {
  artifacts: Flows.IDescribeArtifact[];
  taskNames: Map<string, string>;
  rendermime: IRenderMimeRegistry | null;
  now: number;
}): JSX.Element {
  if (props.artifacts.length === 0) {
    return <p className="jp-Flows-empty">No artifacts.</p>;
  }
  return (
    <div className="jp-Flows-artifacts">
      {props.artifacts.map(a => (
        <article
          key={a.id}
          className="jp-Flows-artifact"
          data-artifact-type={a.type}
          data-artifact-key={a.key ?? ''}
        >
          <header>
            <strong>{a.key ?? a.type}</strong>
            <span className="jp-Flows-detail">
              {a.type}
              {a.task_run_id
                ? ` · ${props.taskNames.get(a.task_run_id) ?? 'task run'}`
                : ''}
              {' · '}
              {formatRelative(a.updated, props.now)}
            </span>
          </header>
          {a.description && (
            <div className="jp-Flows-artifactDescription">
              <Markdown text={a.description} rendermime={props.rendermime} />
            </div>
          )}
          <ArtifactBody artifact={a} rendermime={props.rendermime} />
        </article>
      ))}
    </div>
  );
}
