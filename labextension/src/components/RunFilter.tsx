import React, { useEffect, useState } from 'react';

import { FILTER_STATES } from '../format';
import { Flows, IRunFilter } from '../tokens';

/**
 * Filters of the run list: flow, state, tags (comma separated), deployment.
 */
export function RunFilter(props: {
  filter: IRunFilter;
  flows: Flows.IDescribeFlow[];
  deployments: Flows.IDescribeDeployment[];
  onChange: (filter: IRunFilter) => void;
}): JSX.Element {
  const { filter, onChange } = props;
  const [tags, setTags] = useState(filter.tags);
  useEffect(() => setTags(filter.tags), [filter.tags]);
  // tags apply after typing pauses, so that typing does not flood the server
  useEffect(() => {
    if (tags === filter.tags) {
      return;
    }
    const timer = window.setTimeout(() => onChange({ ...filter, tags }), 400);
    return () => window.clearTimeout(timer);
  }, [tags]);
  const set = (key: keyof IRunFilter) => (e: React.ChangeEvent<any>) =>
    onChange({ ...filter, [key]: e.target.value });
  const flowNames = new Set(props.flows.map(f => f.name));
  if (filter.flowName) {
    flowNames.add(filter.flowName);
  }
  return (
    <div className="jp-Flows-filter" role="search">
      <select
        className="jp-Flows-input"
        aria-label="Filter by flow"
        value={filter.flowName}
        onChange={set('flowName')}
      >
        <option value="">All flows</option>
        {[...flowNames].sort().map(name => (
          <option key={name} value={name}>
            {name}
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
      <input
        className="jp-Flows-input"
        aria-label="Filter by tags"
        placeholder="tags: a, b"
        value={tags}
        onChange={e => setTags(e.target.value)}
      />
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
    </div>
  );
}
