// jupyter-flows run graph: draws the shared layout (core/layout.py) as SVG. No build step.
// The synced trait is `graph` (not `layout`, which is DOMWidget's Layout model).
const COLORS = {
  Completed: "#2e9e5b", Cached: "#1f9e9e", Failed: "#d64545", TimedOut: "#d64545",
  Crashed: "#d64545", Running: "#3b7dd8", Retrying: "#3b7dd8", Pending: "#9aa0a6",
  Scheduled: "#9aa0a6", AwaitingRetry: "#9aa0a6", Late: "#9aa0a6", Cancelled: "#5f6368",
  Cancelling: "#5f6368",
};
const W = 160, H = 36, PAD = 12, NS = "http://www.w3.org/2000/svg";
const MAX_HEIGHT = 520, MIN_HEIGHT = 120;
let views = 0; // a marker id per view: two views of one page keep their arrowheads

function svg(tag, attrs, parent) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (parent) parent.appendChild(el);
  return el;
}

/** Path data of an edge polyline: straight in a layer band, an S-curve between layers. */
export function edgePath(points) {
  let [x0, y0] = [points[0][0] + PAD, points[0][1] + PAD];
  const d = [`M ${x0} ${y0}`];
  for (const p of points.slice(1)) {
    const [x1, y1] = [p[0] + PAD, p[1] + PAD];
    if (y1 === y0) d.push(`L ${x1} ${y1}`);
    else {
      const m = (x0 + x1) / 2;
      d.push(`C ${m} ${y0}, ${m} ${y1}, ${x1} ${y1}`);
    }
    [x0, y0] = [x1, y1];
  }
  return d.join(" ");
}

function edgePoints(e, a, b) {
  if (e.points && e.points.length >= 2) return e.points;
  return [[a.x + W, a.y + H / 2], [b.x, b.y + H / 2]];
}

function stateOf(node, details) {
  return (details[node.id] && details[node.id].state) || node.state;
}

function describe(node, details) {
  const d = details[node.id] || {};
  const lines = [`${node.label}: ${stateOf(node, details)}`];
  if (node.count > 1) {
    lines.push(Object.entries(node.states).map(([k, v]) => `${k}: ${v}`).join(", "));
  }
  if (d.duration !== undefined && d.duration !== null) lines.push(`duration: ${d.duration} s`);
  if (d.attempts) lines.push(`attempts: ${d.attempts}`);
  if (d.message) lines.push(`message: ${d.message}`);
  return lines.join("\n");
}

function legend(root, nodes, details) {
  root.replaceChildren();
  const shown = new Set();
  for (const n of nodes) {
    shown.add(stateOf(n, details));
    for (const [k, v] of Object.entries(n.states || {})) if (v && n.count > 1) shown.add(k);
  }
  for (const name of Object.keys(COLORS).filter((k) => shown.has(k))
    .concat([...shown].filter((k) => !(k in COLORS)).sort())) {
    const item = document.createElement("span");
    item.className = "jf-legend-item";
    item.dataset.state = name;
    const dot = document.createElement("i");
    dot.style.background = COLORS[name] || "#9aa0a6";
    item.append(dot, name);
    root.append(item);
  }
}

/** Zoom (wheel), pan (drag) and fit of an SVG through its viewBox. */
class Viewport {
  constructor(svgEl, width, height) {
    this.svg = svgEl;
    this.full = { x: 0, y: 0, w: width, h: height };
    this.box = { ...this.full };
    this.fitted = true;
    svgEl.addEventListener("wheel", (ev) => this.wheel(ev), { passive: false });
    svgEl.addEventListener("pointerdown", (ev) => this.down(ev));
  }
  apply() {
    const b = this.box;
    this.svg.setAttribute("viewBox", `${b.x} ${b.y} ${b.w} ${b.h}`);
  }
  fit() {
    this.box = { ...this.full };
    this.fitted = true;
    this.apply();
  }
  zoom(factor, cx, cy) {
    const b = this.box;
    const w = Math.min(Math.max(b.w * factor, 40), this.full.w * 4);
    const h = b.h * (w / b.w);
    this.box = { x: cx - (cx - b.x) * (w / b.w), y: cy - (cy - b.y) * (h / b.h), w, h };
    this.fitted = false;
    this.apply();
  }
  point(ev) {
    const m = this.svg.getScreenCTM();
    if (!m) return { x: 0, y: 0 };
    const p = new DOMPoint(ev.clientX, ev.clientY).matrixTransform(m.inverse());
    return { x: p.x, y: p.y };
  }
  wheel(ev) {
    ev.preventDefault();
    const p = this.point(ev);
    this.zoom(ev.deltaY > 0 ? 1.15 : 1 / 1.15, p.x, p.y);
  }
  down(ev) {
    if (ev.button !== 0) return;
    const start = { x: ev.clientX, y: ev.clientY, box: { ...this.box } };
    const rect = this.svg.getBoundingClientRect();
    const scale = Math.max(start.box.w / rect.width, start.box.h / rect.height) || 1;
    let dragging = false;
    const move = (e) => {
      const dx = e.clientX - start.x, dy = e.clientY - start.y;
      if (!dragging && Math.hypot(dx, dy) < 4) return;
      dragging = true;
      this.svg.classList.add("jf-dragging");
      this.box = { ...start.box, x: start.box.x - dx * scale, y: start.box.y - dy * scale };
      this.fitted = false;
      this.apply();
    };
    const up = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      this.svg.classList.remove("jf-dragging");
      if (dragging) {
        // the click that ends a drag does not select a node
        const stop = (e) => { e.stopPropagation(); };
        this.svg.addEventListener("click", stop, { capture: true, once: true });
        setTimeout(() => this.svg.removeEventListener("click", stop, { capture: true }), 0);
      }
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  }
}

function draw(model, canvas, legendEl, info, state) {
  const layout = model.get("graph") || {};
  const details = model.get("details") || {};
  const nodes = layout.nodes || [];
  const byId = Object.fromEntries(nodes.map((n) => [n.id, n]));
  canvas.replaceChildren();
  legend(legendEl, nodes, details);
  const width = (layout.width || 0) + 2 * PAD, height = (layout.height || 0) + 2 * PAD;
  const avail = canvas.clientWidth || 900;
  const shown = Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, height * Math.min(1, avail / width)));
  const s = svg("svg", { class: "jf-graph", width: "100%", height: shown,
    viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "xMidYMid meet", role: "img",
    "aria-label": model.get("title") || "run graph" }, canvas);
  const defs = svg("defs", {}, s);
  const marker = svg("marker", { id: state.markerId, viewBox: "0 0 10 10", refX: 10, refY: 5,
    markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, defs);
  svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#8a8f98" }, marker);
  for (const e of layout.edges || []) {
    const a = byId[e.source], b = byId[e.target];
    if (!a || !b) continue;
    svg("path", { class: "jf-edge", d: edgePath(edgePoints(e, a, b)), fill: "none",
      stroke: "#8a8f98", "stroke-width": 1.5, "marker-end": `url(#${state.markerId})` }, s);
  }
  for (const n of nodes) {
    const st = stateOf(n, details);
    const color = COLORS[st] || "#9aa0a6";
    const g = svg("g", { class: "jf-node", tabindex: 0, "data-id": n.id, "data-state": st }, s);
    svg("title", {}, g).textContent = describe(n, details);
    svg("rect", { x: n.x + PAD, y: n.y + PAD, width: W, height: H, rx: 8, fill: color,
      "fill-opacity": 0.15, stroke: color, "stroke-width": 2 }, g);
    svg("circle", { cx: n.x + PAD + 14, cy: n.y + PAD + H / 2, r: 5, fill: color }, g);
    const t = svg("text", { x: n.x + PAD + 26, y: n.y + PAD + H / 2 + 4, "font-size": 12 }, g);
    t.textContent = n.label.length > 22 ? n.label.slice(0, 21) + "…" : n.label;
    const show = () => { info.textContent = describe(n, details); };
    g.addEventListener("click", show);
    g.addEventListener("keydown", (ev) => { if (ev.key === "Enter") show(); });
  }
  // keep the user's zoom across live updates of the same picture; fit otherwise
  const previous = state.viewport;
  state.viewport = new Viewport(s, width, height);
  if (previous && !previous.fitted && previous.full.w === width && previous.full.h === height) {
    state.viewport.box = previous.box;
    state.viewport.fitted = false;
    state.viewport.apply();
  }
}

export default {
  render({ model, el }) {
    el.classList.add("jf-run-graph");
    const header = document.createElement("div");
    header.className = "jf-header";
    const title = document.createElement("div");
    title.className = "jf-title";
    const legendEl = document.createElement("div");
    legendEl.className = "jf-legend";
    const fit = document.createElement("button");
    fit.className = "jf-fit";
    fit.type = "button";
    fit.textContent = "Fit";
    fit.title = "Fit the whole graph into view (wheel: zoom, drag: pan)";
    header.append(title, legendEl, fit);
    const canvas = document.createElement("div");
    canvas.className = "jf-canvas";
    const info = document.createElement("pre");
    info.className = "jf-info";
    info.textContent = "click a task for details";
    el.append(header, canvas, info);
    const state = { markerId: `jf-arrow-live-${++views}-${Math.random().toString(36).slice(2, 8)}` };
    fit.addEventListener("click", () => state.viewport && state.viewport.fit());
    const redraw = () => {
      title.textContent = model.get("title") || "";
      draw(model, canvas, legendEl, info, state);
    };
    model.on("change:graph", redraw);
    model.on("change:details", redraw);
    model.on("change:title", redraw);
    redraw();
    return () => {
      model.off("change:graph", redraw);
      model.off("change:details", redraw);
      model.off("change:title", redraw);
    };
  },
};
