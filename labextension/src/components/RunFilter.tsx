import React, { useEffect, useRef, useState } from 'react';

import { FILTER_STATES, RUN_KINDS } from '../format';
import { Flows, IRunFilter } from '../tokens';

/** A text filter that applies after typing pauses, so typing does not flood the server. */
function useDebounced(
  value: string,
  apply: (value: string) => void
): [string, (value: string) => void] {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  useEffect(() => {
    if (text === value) {
      return;
    }
    const timer = window.setTimeout(() => apply(text), 400);
    return () => window.clearTimeout(timer);
  }, [text]);
  return [text, setText];
}

/**
 * Filters of the run list, all applied by the server: name search, flow,
 * state, kind, deployment, tags (comma separated), created from/to (dates).
 */
export function RunFilter(props: {
  filter: IRunFilter;
  flows: Flows.IDescribeFlow[];
  deployments: Flows.IDescribeDeployment[];
  onChange: (filter: IRunFilter) => void;
}): JSX.Element {
  const { filter, onChange } = props;
  // a debounced text applies to the filter as it is then (not as it was when typed)
  const latest = useRef(filter);
  latest.current = filter;
  const [tags, setTags] = useDebounced(filter.tags, tags =>
    onChange({ ...latest.current, tags })
  );
  const [name, setName] = useDebounced(filter.name, name =>
    onChange({ ...latest.current, name })
  );
  const set = (key: keyof IRunFilter) => (e: React.ChangeEvent<any>) =>
    onChange({ ...filter, [key]: e.target.value });
  const flowNames = new Set(props.flows.map(f => f.name));
  if (filter.flowName) {
    flowNames.add(filter.flowName);
  }
  return (
    <div className="jp-Flows-filter" role="search">
      <input
        className="jp-Flows-input jp-Flows-filterWide"
        type="search"
        aria-label="Search runs by name"
        placeholder="Search run or flow name"
        value={name}
        onChange={e => setName(e.target.value)}
      />
      <select
        className="jp-Flows-input"
        aria-label="Filter by flow"
        value={filter.flowName}
        onChange={set('flowName')}
      >
        <option value="">All flows</option>
        {[...flowNames].sort().map(flow => (
          <option key={flow} value={flow}>
            {flow}
          </option>
        ))}
      </select>
      <select
        className="jp-Flows-input"
        aria-label="Filter by state"
        value={filter.state}
        onChange={set('state')}
      >
        <option value="">All states</option>
        {FILTER_STATES.map(state => (
          <option key={state} value={state}>
            {state}
          </option>
        ))}
      </select>
      <select
        className="jp-Flows-input"
        aria-label="Filter by kind"
        value={filter.kind}
        onChange={set('kind')}
      >
        <option value="">All kinds</option>
        {RUN_KINDS.map(kind => (
          <option key={kind} value={kind}>
            {kind}
          </option>
        ))}
      </select>
      <select
        className="jp-Flows-input"
        aria-label="Filter by deployment"
        value={filter.deploymentId}
        onChange={set('deploymentId')}
      >
        <option value="">All deployments</option>
        {props.deployments.map(d => (
          <option key={d.id} value={d.id}>
            {d.name}
          </option>
        ))}
      </select>
      <label className="jp-Flows-dateField">
        Created from
        <input
          className="jp-Flows-input"
          type="date"
          aria-label="Created from"
          value={filter.since}
          max={filter.until || undefined}
          onChange={set('since')}
        />
      </label>
      <label className="jp-Flows-dateField">
        to (inclusive)
        <input
          className="jp-Flows-input"
          type="date"
          aria-label="Created to"
          value={filter.until}
          min={filter.since || undefined}
          onChange={set('until')}
        />
      </label>
      <input
        className="jp-Flows-input jp-Flows-filterWide"
        aria-label="Filter by tags"
        placeholder="tags: a, b"
        value={tags}
        onChange={e => setTags(e.target.value)}
      />
    </div>
  );
}
