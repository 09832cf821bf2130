import { caretDownIcon, caretRightIcon } from '@jupyterlab/ui-components';
import React, { useState } from 'react';

/**
 * A collapsible section of the panel, with optional header actions.
 */
export function Section(props: {
  id: string;
  title: string;
  count?: number;
  actions?: React.ReactNode;
  children: React.ReactNode;
}): JSX.Element {
  const [open, setOpen] = useState(true);
  const Caret = open ? caretDownIcon : caretRightIcon;
  const bodyId = `jp-Flows-section-${props.id}`;
  return (
    <section className="jp-Flows-section" data-section={props.id}>
      <div className="jp-Flows-sectionHeader">
        <button
          className="jp-Flows-sectionToggle"
          aria-expanded={open}
          aria-controls={bodyId}
          onClick={() => setOpen(!open)}
        >
          <Caret.react tag="span" className="jp-Flows-caret" />
          <h3>{props.title}</h3>
          {props.count !== undefined && (
            <span className="jp-Flows-count">{props.count}</span>
          )}
        </button>
        <div className="jp-Flows-sectionActions">{props.actions}</div>
      </div>
      {open && (
        <div className="jp-Flows-sectionBody" id={bodyId}>
          {props.children}
        </div>
      )}
    </section>
  );
}

/**
 * An error (or notice) line; errors are announced to screen readers.
 */
export function Banner(props: {
  kind: 'error' | 'info';
  children: React.ReactNode;
  action?: React.ReactNode;
}): JSX.Element {
  return (
    <div
      className={`jp-Flows-banner jp-Flows-banner-${props.kind}`}
      role={props.kind === 'error' ? 'alert' : 'status'}
    >
      <span>{props.children}</span>
      {props.action}
    </div>
  );
}
