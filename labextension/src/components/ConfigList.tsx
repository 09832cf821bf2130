/**
 * The side panel's configuration: variables (named JSON values) and block
 * documents (secrets among them), as the server lists them: secret fields
 * arrive masked and stay so.
 */
import React from 'react';

import { formatRelative } from '../format';
import { Flows } from '../tokens';

function preview(value: unknown, width = 60): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

export function ConfigList(props: {
  variables: Flows.IDescribeVariable[];
  blocks: Flows.IDescribeBlockDocument[];
  now: number;
}): JSX.Element {
  if (props.variables.length === 0 && props.blocks.length === 0) {
    return (
      <p className="jp-Flows-empty">
        No variables or blocks:{' '}
        <code>jupyter flows variables set NAME VALUE</code>,{' '}
        <code>jupyter flows secret set NAME</code>.
      </p>
    );
  }
  return (
    <ul className="jp-Flows-list" aria-label="Variables and blocks">
      {props.variables.map(v => (
        <li
          key={`v:${v.name}`}
          className="jp-Flows-config"
          data-variable={v.name}
        >
          <div className="jp-Flows-rowMain">
            <span className="jp-Flows-runFlow">{v.name}</span>
            <span className="jp-Flows-detail" title={JSON.stringify(v.value)}>
              variable · <code>{preview(v.value)}</code>
              {v.tags.length ? ` · ${v.tags.join(', ')}` : ''}
            </span>
          </div>
        </li>
      ))}
      {props.blocks.map(b => (
        <li
          key={`b:${b.block_type_slug}/${b.name}`}
          className="jp-Flows-config"
          data-block={`${b.block_type_slug}/${b.name}`}
        >
          <div className="jp-Flows-rowMain">
            <span className="jp-Flows-runFlow">{b.name}</span>
            <span className="jp-Flows-detail">
              {b.block_type_slug}
              {b.secret_fields.length && b.block_type_slug !== 'secret'
                ? ' · has secrets'
                : ''}{' '}
              · {preview(b.data)} · updated{' '}
              {formatRelative(b.updated, props.now)}
            </span>
          </div>
        </li>
      ))}
    </ul>
  );
}
