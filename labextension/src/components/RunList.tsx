import React from 'react';

import { Flows } from '../tokens';
import { RunRow } from './RunRow';

/** Fixed row height (px) of the windowed run list; matches `.jp-Flows-runRow`. */
const ROW_HEIGHT = 56;
/** Rows rendered above and below the visible window. */
const OVERSCAN = 8;
/** Height (px) of the scrolling viewport. */
const VIEWPORT = 448;

/** A row of the list: a run at a nesting depth (subflows under their parent). */
export interface IRunRow {
  run: Flows.IDescribeFlowRunItem;
  depth: number;
}

/** The top-level runs with the subflows of the expanded ones after each (depth first). */
export function flattenRuns(
  runs: Flows.IDescribeFlowRunItem[],
  subflows: ReadonlyMap<string, Flows.IDescribeFlowRunItem[]>,
  expanded: ReadonlySet<string>,
  depth = 0,
  out: IRunRow[] = []
): IRunRow[] {
  for (const run of runs) {
    out.push({ run, depth });
    const children = subflows.get(run.id);
    if (expanded.has(run.id) && children && depth < 8) {
      flattenRuns(children, subflows, expanded, depth + 1, out);
    }
  }
  return out;
}

/**
 * The flow runs loaded so far, newest first, as a windowed list: only the rows in view
 * (plus a few) are in the DOM, so thousands of loaded runs stay fast; scrolling to the end
 * loads the next page from the server. A row opens the run; a parent's toggle shows its
 * subflow runs under it.
 */
export function RunList(props: {
  runs: Flows.IDescribeFlowRunItem[];
  total: number;
  loading: boolean;
  now: number;
  subflows: ReadonlyMap<string, Flows.IDescribeFlowRunItem[]>;
  expanded: ReadonlySet<string>;
  deploymentNames: ReadonlyMap<string, string>;
  onOpen: (run: Flows.IDescribeFlowRunItem) => void;
  onToggle: (run: Flows.IDescribeFlowRunItem) => void;
  onLoadMore: () => void;
}): JSX.Element {
  const { runs, total, now } = props;
  const rows = flattenRuns(runs, props.subflows, props.expanded);
  const [scrollTop, setScrollTop] = React.useState(0);
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(
    rows.length,
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
            height: rows.length * ROW_HEIGHT,
            paddingTop: first * ROW_HEIGHT,
            boxSizing: 'border-box'
          }}
        >
          {rows.slice(first, last).map(({ run, depth }) => (
            <RunRow
              key={run.id}
              run={run}
              depth={depth}
              now={now}
              expanded={props.expanded.has(run.id)}
              deployment={
                run.deployment_id
                  ? (props.deploymentNames.get(run.deployment_id) ??
                    run.deployment_id.slice(0, 8))
                  : null
              }
              onOpen={props.onOpen}
              onToggle={props.onToggle}
            />
          ))}
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
