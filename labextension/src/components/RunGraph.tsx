import React from 'react';

import { STATE_COLORS, stateColor } from '../format';
import { RunViews } from '../runTypes';
import { useUniqueId, useViewport } from './graphViewport';

/** The sizes of `jupyter_flows.core.layout` and the report's padding. */
const NODE_WIDTH = 160;
const NODE_HEIGHT = 36;
const PAD = 12;

type Point = [number, number];

/** Path data of an edge polyline: straight in a layer band, an S-curve between. */
export function edgePath(points: Point[]): string {
  let [x0, y0] = [points[0][0] + PAD, points[0][1] + PAD];
  const d = [`M ${x0} ${y0}`];
  for (const p of points.slice(1)) {
    const [x1, y1] = [p[0] + PAD, p[1] + PAD];
    if (y1 === y0) {
      d.push(`L ${x1} ${y1}`);
    } else {
      const m = (x0 + x1) / 2;
      d.push(`C ${m} ${y0}, ${m} ${y1}, ${x1} ${y1}`);
    }
    [x0, y0] = [x1, y1];
  }
  return d.join(' ');
}

function edgePoints(
  points: Point[] | undefined,
  a: RunViews.IGraphNode,
  b: RunViews.IGraphNode
): Point[] {
  if (points && points.length >= 2) {
    return points;
  }
  return [
    [a.x + NODE_WIDTH, a.y + NODE_HEIGHT / 2],
    [b.x, b.y + NODE_HEIGHT / 2]
  ];
}

/** The states shown, in the order of the report's legend. */
function legendStates(nodes: RunViews.IGraphNode[]): string[] {
  const shown = new Set<string>();
  for (const n of nodes) {
    shown.add(n.state);
    for (const [k, v] of Object.entries(n.states)) {
      if (v) {
        shown.add(k);
      }
    }
  }
  const known = Object.keys(STATE_COLORS).filter(k => shown.has(k));
  const other = [...shown].filter(k => k && !(k in STATE_COLORS)).sort();
  return [...known, ...other];
}

function tooltip(node: RunViews.IGraphNode): string {
  const lines = [`${node.label}: ${node.state}`];
  if (node.count > 1) {
    lines.push(
      Object.entries(node.states)
        .sort()
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')
    );
  }
  const d = node.details;
  if (d?.run_count && d.run_count > 1) {
    lines.push(`attempts: ${d.run_count}`);
  }
  if (d?.message) {
    lines.push(`message: ${d.message}`);
  }
  if (d?.subflow_run_id) {
    lines.push('(opens the subflow run)');
  }
  return lines.join('\n');
}

/**
 * The run graph as SVG: the shared layout, the report's shapes and colours.
 * Nodes are focusable; activating one selects its task (or opens its subflow).
 */
export function RunGraph(props: {
  layout: RunViews.IGraphLayout;
  /** Whether the run is over (no task runs will come). */
  final: boolean;
  selected: string | null;
  onSelect: (node: RunViews.IGraphNode) => void;
}): JSX.Element {
  const { layout } = props;
  if (layout.nodes.length === 0) {
    return (
      <p className="jp-Flows-empty">
        {props.final ? 'This run has no task runs.' : 'No task runs yet.'}
      </p>
    );
  }
  return <GraphCanvas {...props} />;
}

function GraphCanvas(props: {
  layout: RunViews.IGraphLayout;
  selected: string | null;
  onSelect: (node: RunViews.IGraphNode) => void;
}): JSX.Element {
  const { layout } = props;
  const width = layout.width + 2 * PAD;
  const height = layout.height + 2 * PAD;
  const markerId = useUniqueId('jp-Flows-arrow');
  const view = useViewport(width, height);
  const nodes = new Map(layout.nodes.map(n => [n.id, n]));
  const activate = (node: RunViews.IGraphNode) => (e: React.KeyboardEvent) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      props.onSelect(node);
    }
  };
  const vb = view.viewBox;
  return (
    <div className="jp-Flows-graphBox">
      <div className="jp-Flows-graphBar">
        <div className="jp-Flows-legend" aria-label="state colours">
          {legendStates(layout.nodes).map(name => (
            <span key={name} className="jp-Flows-legendItem" data-state={name}>
              <i style={{ background: stateColor(name) }} />
              {name}
            </span>
          ))}
        </div>
        <button
          className="jp-Flows-button jp-Flows-fit"
          title="Fit the whole graph into view (wheel: zoom, drag: pan)"
          disabled={view.fitted}
          onClick={view.fit}
        >
          Fit
        </button>
      </div>
      <svg
        ref={view.svgRef}
        className="jp-Flows-graph"
        style={{ maxWidth: width, aspectRatio: `${width} / ${height}` }}
        viewBox={`${vb.x} ${vb.y} ${vb.w} ${vb.h}`}
        preserveAspectRatio="xMidYMid meet"
        role="img"
        aria-label="run graph"
        data-fitted={view.fitted ? 'true' : 'false'}
        onPointerDown={view.onPointerDown}
        onClickCapture={view.onClickCapture}
      >
        <defs>
          <marker
            id={markerId}
            viewBox="0 0 10 10"
            refX="10"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#8a8f98" />
          </marker>
        </defs>
        {layout.edges.map(edge => {
          const a = nodes.get(edge.source);
          const b = nodes.get(edge.target);
          if (!a || !b) {
            return null;
          }
          return (
            <path
              key={`${edge.source}->${edge.target}`}
              className="jp-Flows-edge"
              d={edgePath(edgePoints(edge.points as Point[], a, b))}
              fill="none"
              stroke="#8a8f98"
              strokeWidth="1.5"
              markerEnd={`url(#${markerId})`}
            />
          );
        })}
        {layout.nodes.map(node => {
          const color = stateColor(node.state);
          const x = node.x + PAD;
          const y = node.y + PAD;
          const label =
            node.label.length <= 22
              ? node.label
              : node.label.slice(0, 21) + '…';
          return (
            <g
              key={node.id}
              className="jp-Flows-node"
              data-id={node.id}
              data-count={node.count}
              data-state={node.state}
              data-selected={props.selected === node.id ? 'true' : undefined}
              tabIndex={0}
              role="button"
              aria-label={`${node.label}: ${node.state}`}
              onClick={() => props.onSelect(node)}
              onKeyDown={activate(node)}
            >
              <title>{tooltip(node)}</title>
              <rect
                x={x}
                y={y}
                width={NODE_WIDTH}
                height={NODE_HEIGHT}
                rx="8"
                fill={color}
                fillOpacity="0.15"
                stroke={color}
                strokeWidth="2"
              />
              <circle cx={x + 14} cy={y + NODE_HEIGHT / 2} r="5" fill={color} />
              <text
                x={x + 26}
                y={y + NODE_HEIGHT / 2 + 4}
                fontSize="12"
                fill="currentColor"
              >
                {label}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
