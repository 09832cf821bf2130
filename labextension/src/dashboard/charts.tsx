/**
 * Hand-drawn SVG charts of the dashboard: runs over time by state (stacked
 * bars) and per-flow trend sparklines. Colours are the state palette and
 * JupyterLab theme variables, so light and dark themes need nothing else.
 */
import React from 'react';

import { stateColor } from '../format';
import { Flows } from '../tokens';

/** Stacking order, bottom up: good, busy, waiting, then what went wrong. */
export const STACK: readonly string[] = [
  'COMPLETED',
  'RUNNING',
  'PENDING',
  'SCHEDULED',
  'PAUSED',
  'CANCELLING',
  'CANCELLED',
  'CRASHED',
  'FAILED'
];

/** "COMPLETED" -> "Completed". */
export function typeLabel(type: string): string {
  return type.charAt(0) + type.slice(1).toLowerCase();
}

/** The palette gives Crashed Failed's red: the chart tells them apart. */
const CHART_COLORS: Record<string, string> = { CRASHED: '#e8710a' };

export function typeColor(type: string): string {
  return CHART_COLORS[type] ?? stateColor(typeLabel(type));
}

/** A bucket start as the axis shows it (time of day, or the date). */
export function bucketLabel(start: string, bucketSeconds: number): string {
  const at = new Date(start);
  if (bucketSeconds >= 86400) {
    return at.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  }
  if (bucketSeconds >= 6 * 3600) {
    return at.toLocaleString(undefined, {
      month: 'short',
      day: 'numeric',
      hour: '2-digit'
    });
  }
  return at.toLocaleTimeString(undefined, {
    hour: '2-digit',
    minute: '2-digit'
  });
}

const W = 720;
const H = 200;
const PAD = { left: 36, right: 8, top: 8, bottom: 22 };

function order(counts: Record<string, number>): string[] {
  const known = STACK.filter(t => counts[t]);
  const other = Object.keys(counts).filter(t => !STACK.includes(t));
  return [...known, ...other];
}

/** Axis ticks at a round step (1, 2 or 5 times a power of ten), about 4. */
export function niceTicks(top: number): { max: number; ticks: number[] } {
  const raw = Math.max(1, top / 4);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step =
    [1, 2, 5, 10].map(m => m * power).find(s => s >= raw) ?? 10 * power;
  const max = Math.ceil(top / step) * step;
  const ticks: number[] = [];
  for (let t = 0; t <= max; t += step) {
    ticks.push(t);
  }
  return { max, ticks };
}

/**
 * Flow runs per bucket, stacked by state type.
 */
export function StackedBars(props: {
  buckets: Flows.IDescribeDashboard['buckets'];
  bucketSeconds: number;
}): JSX.Element {
  const { buckets, bucketSeconds } = props;
  const totals = buckets.map(b =>
    Object.values(b.counts).reduce((a, n) => a + n, 0)
  );
  const { max, ticks } = niceTicks(Math.max(1, ...totals));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const step = plotW / Math.max(1, buckets.length);
  const barW = Math.max(1, step * 0.8);
  const y = (n: number) => PAD.top + plotH - (n / max) * plotH;
  const every = Math.max(1, Math.ceil(buckets.length / 8));
  return (
    <svg
      className="jp-Flows-chart"
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label="Flow runs over time by state"
    >
      {ticks.map(t => (
        <g key={t} className="jp-Flows-chartGrid">
          <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} />
          <text x={PAD.left - 4} y={y(t) + 4} textAnchor="end">
            {t}
          </text>
        </g>
      ))}
      {buckets.map((b, i) => {
        let base = 0;
        const x = PAD.left + i * step + (step - barW) / 2;
        const title = order(b.counts)
          .map(t => `${b.counts[t]} ${typeLabel(t)}`)
          .join(', ');
        return (
          <g
            key={b.start}
            className="jp-Flows-chartBar"
            data-bucket={i}
            data-total={totals[i]}
          >
            <title>
              {`${bucketLabel(b.start, bucketSeconds)}: ${title || 'no runs'}`}
            </title>
            <rect
              className="jp-Flows-chartHit"
              x={PAD.left + i * step}
              y={PAD.top}
              width={step}
              height={plotH}
            />
            {order(b.counts).map(t => {
              const n = b.counts[t];
              const top = y(base + n);
              const rect = (
                <rect
                  key={t}
                  data-state={t}
                  x={x}
                  y={top}
                  width={barW}
                  height={Math.max(0, y(base) - top)}
                  fill={typeColor(t)}
                />
              );
              base += n;
              return rect;
            })}
            {i % every === 0 && (
              <text
                className="jp-Flows-chartLabel"
                x={PAD.left + i * step + step / 2}
                y={H - 6}
                textAnchor="middle"
              >
                {bucketLabel(b.start, bucketSeconds)}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}

/**
 * A flow's or deployment's runs per bucket (failed part in red), over the
 * dashboard's buckets.
 */
export function Sparkline(props: {
  series: Flows.IDashboardGroup['series'];
  starts: string[];
}): JSX.Element {
  const { series, starts } = props;
  const at = new Map(series.map(p => [Date.parse(p.start), p]));
  const points = starts.map(s => at.get(Date.parse(s)));
  const max = Math.max(1, ...points.map(p => p?.runs ?? 0));
  const w = 120;
  const h = 22;
  const step = w / Math.max(1, starts.length);
  return (
    <svg
      className="jp-Flows-sparkline"
      viewBox={`0 0 ${w} ${h}`}
      width={w}
      height={h}
      aria-hidden="true"
    >
      <line className="jp-Flows-sparkBase" x1={0} x2={w} y1={h} y2={h} />
      {points.map((p, i) =>
        p ? (
          <g key={i}>
            <rect
              className="jp-Flows-sparkRuns"
              x={i * step + step * 0.1}
              y={h - (p.runs / max) * h}
              width={Math.max(1, step * 0.8)}
              height={(p.runs / max) * h}
            />
            {p.failed > 0 && (
              <rect
                x={i * step + step * 0.1}
                y={h - (p.failed / max) * h}
                width={Math.max(1, step * 0.8)}
                height={(p.failed / max) * h}
                fill={typeColor('FAILED')}
              />
            )}
          </g>
        ) : null
      )}
    </svg>
  );
}

/**
 * A flow's or deployment's mean duration per bucket (a line over the
 * buckets with ended runs; a dot when only one has).
 */
export function DurationLine(props: {
  series: Flows.IDashboardGroup['series'];
  starts: string[];
}): JSX.Element {
  const { series, starts } = props;
  const index = new Map(starts.map((s, i) => [Date.parse(s), i]));
  const points = series
    .filter(p => p.mean_duration !== null)
    .map(p => ({
      i: index.get(Date.parse(p.start)) ?? 0,
      d: p.mean_duration!
    }));
  const max = Math.max(...points.map(p => p.d));
  const min = Math.min(...points.map(p => p.d));
  const w = 120;
  const h = 22;
  const step = w / Math.max(1, starts.length);
  // from the shortest (bottom) to the longest (top) mean of the window
  const y = (d: number) =>
    max > min ? h - 3 - ((d - min) / (max - min)) * (h - 6) : h / 2;
  const xy = points.map(p => [p.i * step + step / 2, y(p.d)]);
  return (
    <svg
      className="jp-Flows-sparkline"
      viewBox={`0 0 ${w} ${h}`}
      width={w}
      height={h}
      aria-hidden="true"
    >
      <line className="jp-Flows-sparkBase" x1={0} x2={w} y1={h} y2={h} />
      {xy.length > 1 && (
        <polyline
          className="jp-Flows-sparkLine"
          points={xy.map(([x, y]) => `${x},${y}`).join(' ')}
        />
      )}
      {xy.length === 1 && (
        <circle
          className="jp-Flows-sparkDot"
          cx={xy[0][0]}
          cy={xy[0][1]}
          r={2}
        />
      )}
    </svg>
  );
}
