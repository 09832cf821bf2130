import React from 'react';

import {
  durationSeconds,
  formatDuration,
  formatRelative,
  formatTime,
  stateName
} from '../format';
import { Flows } from '../tokens';
import { StateBadge } from './StateBadge';

/** Fixed row height (px) of the windowed run list; matches `.jp-Flows-runRow`. */
const ROW_HEIGHT = 56;
/** Rows rendered above and below the visible window. */
const OVERSCAN = 8;
/** Height (px) of the scrolling viewport. */
const VIEWPORT = 448;

/**
 * The flow runs loaded so far, newest first, as a windowed list: only the rows in view
 * (plus a few) are in the DOM, so thousands of loaded runs stay fast; scrolling to the end
 * loads the next page from the server. A row opens the run.
 */
export function RunList(props: {
  runs: Flows.IDescribeFlowRunItem[];
  total: number;
  loading: boolean;
  now: number;
  onOpen: (run: Flows.IDescribeFlowRunItem) => void;
  onLoadMore: () => void;
}): JSX.Element {
  const { runs, total, now } = props;
  const [scrollTop, setScrollTop] = React.useState(0);
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(
    runs.length,
    Math.ceil((scrollTop + VIEWPORT) / ROW_HEIGHT) + OVERSCAN
  );
  const viewport = React.useRef<HTMLDivElement>(null);
  const loadIfAtEnd = (el: HTMLDivElement): void => {
    const nearEnd =
      el.scrollTop + el.clientHeight >= el.scrollHeight - ROW_HEIGHT * 4;
    if (nearEnd && runs.length < total && !props.loading) {
      props.onLoadMore();
    }
  };
  const onScroll = (event: React.UIEvent<HTMLDivElement>): void => {
    setScrollTop(event.currentTarget.scrollTop);
    loadIfAtEnd(event.currentTarget);
  };
  // a scroll to the end while a page was loading asked for nothing: ask once it is in
  React.useEffect(() => {
    const el = viewport.current;
    if (el && el.clientHeight > 0 && el.scrollTop > 0 && !props.loading) {
      loadIfAtEnd(el); // (only a list the user scrolled: not a hidden or short one)
    }
  }, [props.loading, runs.length, total]);
  if (runs.length === 0) {
    return (
      <p className="jp-Flows-empty">
        {props.loading ? 'Loading runs…' : 'No flow runs match.'}
      </p>
    );
  }
  return (
    <>
      <div
        className="jp-Flows-runsViewport"
        ref={viewport}
        style={{ maxHeight: VIEWPORT }}
        onScroll={onScroll}
      >
        <ul
          className="jp-Flows-list jp-Flows-runs"
          aria-label="Flow runs"
          data-rendered={last - first}
          style={{
            height: runs.length * ROW_HEIGHT,
            paddingTop: first * ROW_HEIGHT,
            boxSizing: 'border-box'
          }}
        >
          {runs.slice(first, last).map(run => {
            const state = stateName(run);
            return (
              <li key={run.id}>
                <button
                  className="jp-Flows-row jp-Flows-runRow"
                  data-run-id={run.id}
                  data-state={state}
                  title={`${run.flow_name} / ${run.name}\ncreated ${formatTime(
                    run.created
                  )}${run.state_message ? '\n' + run.state_message : ''}`}
                  onClick={() => props.onOpen(run)}
                >
                  <span className="jp-Flows-rowMain">
                    <span className="jp-Flows-runFlow">{run.flow_name}</span>
                    <span className="jp-Flows-runName">{run.name}</span>
                  </span>
                  <span className="jp-Flows-rowMeta">
                    <StateBadge state={state} />
                    <span className="jp-Flows-duration">
                      {formatDuration(durationSeconds(run, now))}
                    </span>
                    <span className="jp-Flows-when">
                      {formatRelative(run.start_time ?? run.created, now)}
                    </span>
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      </div>
      <div className="jp-Flows-more">
        <span>
          {runs.length} of {total}
        </span>
        {runs.length < total && (
          <button
            className="jp-Flows-button"
            disabled={props.loading}
            onClick={props.onLoadMore}
          >
            {props.loading ? 'Loading…' : 'Load more'}
          </button>
        )}
      </div>
    </>
  );
}
