import React from 'react';

import { Flows } from '../tokens';

/** How a parameter is edited and parsed. */
export type FieldKind = 'integer' | 'number' | 'boolean' | 'string' | 'json';

export interface IField {
  name: string;
  kind: FieldKind;
  /** The value as edited: text, or a boolean for checkboxes. */
  raw: string | boolean;
  description?: string;
  required?: boolean;
}

const KINDS: Record<string, FieldKind> = {
  integer: 'integer',
  int: 'integer',
  number: 'number',
  float: 'number',
  boolean: 'boolean',
  bool: 'boolean',
  string: 'string',
  str: 'string'
};

function kindOf(type: unknown, value: unknown): FieldKind {
  const names = Array.isArray(type) ? type : [type];
  for (const name of names) {
    if (typeof name === 'string' && KINDS[name]) {
      return KINDS[name];
    }
  }
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isInteger(value) ? 'integer' : 'number';
    case 'string':
      return 'string';
    default:
      return 'json';
  }
}

function toRaw(kind: FieldKind, value: unknown): string | boolean {
  if (kind === 'boolean') {
    return Boolean(value);
  }
  if (value === undefined) {
    return '';
  }
  if (kind === 'json') {
    return JSON.stringify(value);
  }
  return String(value ?? '');
}

/** Fields from a deployment's JSON schema, with its (or given) defaults. */
export function fieldsFromSchema(
  schema: Flows.IParameterSchema | undefined,
  values: Record<string, unknown> = {}
): IField[] {
  const required = new Set(schema?.required ?? []);
  return Object.entries(schema?.properties ?? {}).map(([name, prop]) => {
    const value = name in values ? values[name] : prop.default;
    const kind = kindOf(prop.type, value);
    return {
      name,
      kind,
      raw: toRaw(kind, value),
      description: prop.description ?? prop.title,
      required: required.has(name)
    };
  });
}

/** Fields from a notebook's parameters cell. */
export function fieldsFromNotebook(
  params: Flows.INotebookParameter[]
): IField[] {
  return params.map(p => {
    const kind = kindOf(p.type, p.default);
    return { name: p.name, kind, raw: toRaw(kind, p.default) };
  });
}

/** Why a field's text does not parse (null: it does). */
export function fieldProblem(f: IField): string | null {
  const text = typeof f.raw === 'string' ? f.raw.trim() : '';
  if (f.kind === 'boolean' || f.kind === 'string') {
    return null;
  }
  if (text === '') {
    return f.required ? 'Required.' : null;
  }
  if (f.kind === 'integer' || f.kind === 'number') {
    const value = Number(text);
    if (isNaN(value) || (f.kind === 'integer' && !Number.isInteger(value))) {
      return `“${text}” is not ${f.kind === 'integer' ? 'an integer' : 'a number'}.`;
    }
  } else if (f.kind === 'json') {
    try {
      JSON.parse(text);
    } catch {
      return 'Not valid JSON.';
    }
  }
  return null;
}

/** The first field that does not parse, with why, or null. */
export function firstProblem(
  fields: IField[]
): { field: string; message: string } | null {
  for (const f of fields) {
    const message = fieldProblem(f);
    if (message) {
      return { field: f.name, message };
    }
  }
  return null;
}

/**
 * The typed values of the fields; throws an Error naming a field that
 * does not parse.
 */
export function parseFields(fields: IField[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const problem = fieldProblem(f);
    if (problem) {
      throw new Error(`Parameter “${f.name}”: ${problem}`);
    }
    const text = typeof f.raw === 'string' ? f.raw.trim() : '';
    if (f.kind === 'boolean') {
      out[f.name] = Boolean(f.raw);
    } else if (f.kind === 'string') {
      out[f.name] = typeof f.raw === 'string' ? f.raw : '';
    } else if (text !== '') {
      out[f.name] = f.kind === 'json' ? JSON.parse(text) : Number(text);
    }
  }
  return out;
}

/**
 * Inputs for parameters, one per field, labelled for screen readers; a field
 * whose text does not parse, or that the server refused (`errors`, by
 * name), says why under its input.
 */
export function ParameterForm(props: {
  fields: IField[];
  errors?: Record<string, string>;
  onChange: (fields: IField[]) => void;
}): JSX.Element {
  if (props.fields.length === 0) {
    return <p className="jp-Flows-empty">No parameters.</p>;
  }
  const update = (i: number, raw: string | boolean) =>
    props.onChange(props.fields.map((f, j) => (i === j ? { ...f, raw } : f)));
  return (
    <div className="jp-Flows-form jp-Flows-parameterForm">
      {props.fields.map((f, i) => {
        const id = `jp-Flows-param-${f.name}`;
        const error = fieldProblem(f) ?? props.errors?.[f.name];
        const noteId = `${id}-error`;
        return (
          <div
            className="jp-Flows-field"
            key={f.name}
            data-kind={f.kind}
            data-invalid={error ? 'true' : 'false'}
          >
            <label htmlFor={id}>
              {f.name}
              {f.required ? ' *' : ''}{' '}
              <span className="jp-Flows-detail">{f.kind}</span>
            </label>
            {f.kind === 'boolean' ? (
              <input
                id={id}
                type="checkbox"
                className="jp-Flows-checkboxInput"
                checked={Boolean(f.raw)}
                onChange={e => update(i, e.target.checked)}
              />
            ) : (
              <input
                id={id}
                name={f.name}
                className="jp-Flows-input"
                // text, not type=number: a browser empties a number input it cannot
                // parse, which would drop the value silently instead of saying why
                type="text"
                inputMode={
                  f.kind === 'integer'
                    ? 'numeric'
                    : f.kind === 'number'
                      ? 'decimal'
                      : undefined
                }
                value={String(f.raw)}
                title={f.description}
                aria-invalid={Boolean(error)}
                aria-describedby={error ? noteId : undefined}
                onChange={e => update(i, e.target.value)}
              />
            )}
            {error && (
              <span id={noteId} className="jp-Flows-fieldError" role="alert">
                {error}
              </span>
            )}
          </div>
        );
      })}
    </div>
  );
}
