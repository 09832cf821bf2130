import React from 'react';

import { FILTER_STATES } from '../format';
import { ITaskQuery } from '../runModel';

/** One row (style/ has no rule for it yet). */
const ROW: React.CSSProperties = {
  display: 'flex',
  flexWrap: 'wrap',
  alignItems: 'center',
  gap: '8px',
  margin: '4px 0 8px'
};

/**
 * Above the task table: the state filter, the task filter (set by a node of
 * the graph), the range shown and the previous/next page buttons.
 */
export function TaskPager(props: {
  query: ITaskQuery;
  total: number;
  shown: number;
  pageSize: number;
  onChange: (change: Partial<ITaskQuery>) => void;
}): JSX.Element {
  const { query, total, shown, pageSize, onChange } = props;
  const first = shown ? query.offset + 1 : 0;
  const last = query.offset + shown;
  return (
    <div className="jp-Flows-taskPager" role="navigation" style={ROW}>
      <select
        className="jp-Flows-input"
        aria-label="Filter task runs by state"
        value={query.state}
        onChange={e => onChange({ state: e.target.value, offset: 0 })}
      >
        <option value="">All states</option>
        {FILTER_STATES.map(state => (
          <option key={state} value={state}>
            {state}
          </option>
        ))}
      </select>
      {query.taskKey && (
        <button
          className="jp-Flows-button"
          title="Show the runs of every task"
          onClick={() => onChange({ taskKey: null, offset: 0 })}
        >
          Task {query.taskKey} ✕
        </button>
      )}
      <span className="jp-Flows-detail jp-Flows-pageRange">
        {first}–{last} of {total.toLocaleString('en-US')}
      </span>
      <button
        className="jp-Flows-button"
        disabled={query.offset === 0}
        onClick={() =>
          onChange({ offset: Math.max(0, query.offset - pageSize) })
        }
      >
        Previous
      </button>
      <button
        className="jp-Flows-button"
        disabled={last >= total}
        onClick={() => onChange({ offset: query.offset + pageSize })}
      >
        Next
      </button>
    </div>
  );
}
