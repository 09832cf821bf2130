import React, { useEffect, useRef, useState } from 'react';

import { isFinal, parseTime, stateColor, stateName } from '../format';
import { Flows } from '../tokens';
import { tickLabel, ticks, tickStep } from './ticks';

const LABEL_W = 170;
const ROW_H = 22;
const TOP = 24;
const PAD = 12;
/** Pixels per axis label, at least. */
const TICK_SPACING = 80;
/** The narrowest chart drawn (px); a narrower view scrolls it. */
const MIN_WIDTH = 360;
/** Rows drawn at most (a huge mapped run stays responsive). */
const MAX_ROWS = 500;

interface ISegment {
  start: number;
  end: number;
  kind: string;
}

/**
 * Bars per attempt and retry wait, from a task run's state history
 * (the same reading as `jupyter_flows.reports.svg._segments`).
 */
export function segments(
  run: Flows.IDescribeTaskRun,
  history: Flows.IDescribeState[],
  now: number
): ISegment[] {
  const final = stateName(run);
  const start = parseTime(run.start_time) ?? parseTime(run.end_time) ?? now;
  const end = parseTime(run.end_time) ?? (isFinal(run) ? start : now);
  const ordered = [...history].sort(
    (a, b) => (parseTime(a.timestamp) ?? 0) - (parseTime(b.timestamp) ?? 0)
  );
  const out: ISegment[] = [];
  let openAt: number | null = null;
  let openKind = '';
  const attempt = (k: string) => k === 'Running' || k === 'Retrying';
  for (const s of ordered) {
    const at = parseTime(s.timestamp) ?? start;
    if (openAt !== null && s.name !== openKind) {
      let kind = attempt(openKind) ? final : openKind;
      if (attempt(openKind) && s.name === 'AwaitingRetry') {
        kind = 'Failed';
      }
      out.push({ start: openAt, end: at, kind });
      openAt = null;
    }
    if (attempt(s.name) || s.name === 'AwaitingRetry') {
      openAt = at;
      openKind = s.name;
    }
  }
  if (openAt !== null) {
    out.push({ start: openAt, end, kind: final });
  }
  if (out.length === 0) {
    out.push({ start, end, kind: final });
  }
  return out;
}

/** The inner width of an element, kept up to date as it resizes. */
function useWidth(fallback: number): [React.RefObject<HTMLDivElement>, number] {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const el = ref.current;
    if (!el) {
      return;
    }
    const measure = () => {
      const style = getComputedStyle(el);
      const pad =
        parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
      const inner = Math.floor(el.clientWidth - (pad || 0));
      if (inner > 0) {
        setWidth(inner);
      }
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

/**
 * A Gantt chart of the task runs: one row each, time on the x axis with
 * round ticks; as wide as the view (or `width`).
 */
export function Timeline(props: {
  taskRuns: Flows.IDescribeTaskRun[];
  states: Flows.IDescribeState[];
  now: number;
  width?: number;
}): JSX.Element {
  const [box, measured] = useWidth(800);
  const started = props.taskRuns.filter(t => t.start_time || t.end_time);
  if (started.length === 0) {
    return (
      <div className="jp-Flows-graphScroll" ref={box}>
        <p className="jp-Flows-empty">No task has started yet.</p>
      </div>
    );
  }
  const runs = started.slice(0, MAX_ROWS);
  const byRun = new Map<string, Flows.IDescribeState[]>();
  for (const s of props.states) {
    byRun.set(s.run_id, [...(byRun.get(s.run_id) ?? []), s]);
  }
  const bars = runs.map(run =>
    segments(run, byRun.get(run.id) ?? [], props.now)
  );
  const t0 = Math.min(...bars.map(b => b[0].start));
  const t1 = Math.max(...bars.map(b => b[b.length - 1].end));
  const span = Math.max((t1 - t0) / 1000, 1e-3);
  const width = Math.max(props.width ?? measured, MIN_WIDTH);
  const plotW = width - LABEL_W - PAD;
  const maxTicks = Math.max(1, Math.floor(plotW / TICK_SPACING));
  const step = tickStep(span, maxTicks);
  const axis = ticks(span, maxTicks);
  const height = TOP + ROW_H * runs.length + PAD;
  const x = (at: number) => LABEL_W + (plotW * (at - t0)) / 1000 / span;
  return (
    <div className="jp-Flows-graphScroll" ref={box}>
      <svg
        className="jp-Flows-timeline"
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label="timeline"
      >
        <defs>
          <pattern
            id="jp-Flows-hatch"
            width="6"
            height="6"
            patternUnits="userSpaceOnUse"
            patternTransform="rotate(45)"
          >
            <line
              x1="0"
              y1="0"
              x2="0"
              y2="6"
              stroke="#9aa0a6"
              strokeWidth="2"
            />
          </pattern>
        </defs>
        {axis.map((at, i) => {
          const tx = LABEL_W + (plotW * at) / span;
          const lastTick = i === axis.length - 1 && tx > width - PAD - 20;
          return (
            <g key={at} className="jp-Flows-tick" data-seconds={at}>
              <line
                x1={tx}
                y1={TOP - 6}
                x2={tx}
                y2={height - PAD}
                stroke="#8a8f98"
                strokeOpacity="0.3"
              />
              <text
                x={tx}
                y={TOP - 10}
                fontSize="10"
                textAnchor={i === 0 ? 'start' : lastTick ? 'end' : 'middle'}
                fill="currentColor"
              >
                {tickLabel(at, step)}
              </text>
            </g>
          );
        })}
        {runs.map((run, row) => {
          const y = TOP + row * ROW_H;
          return (
            <g key={run.id} data-task-run={run.id}>
              <text x="4" y={y + 15} fontSize="11" fill="currentColor">
                {run.name.slice(0, 26)}
              </text>
              {bars[row].map((seg, i) => (
                <rect
                  key={i}
                  className="jp-Flows-bar"
                  data-kind={seg.kind}
                  x={x(seg.start).toFixed(1)}
                  y={y + 4}
                  width={Math.max(x(seg.end) - x(seg.start), 2).toFixed(1)}
                  height={ROW_H - 8}
                  rx="3"
                  fill={
                    seg.kind === 'AwaitingRetry'
                      ? 'url(#jp-Flows-hatch)'
                      : stateColor(seg.kind)
                  }
                >
                  <title>
                    {`${run.name}: ${seg.kind} ${((seg.end - seg.start) / 1000).toFixed(3)}s`}
                  </title>
                </rect>
              ))}
            </g>
          );
        })}
      </svg>
      {started.length > runs.length && (
        <p className="jp-Flows-detail">
          Showing the first {runs.length} of {started.length} task runs.
        </p>
      )}
    </div>
  );
}
