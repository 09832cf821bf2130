// jupyter-flows run graph: draws the shared layout (core/layout.py) as SVG. No build step.
const COLORS = {
  Completed: "#2e9e5b", Cached: "#1f9e9e", Failed: "#d64545", TimedOut: "#d64545",
  Crashed: "#d64545", Running: "#3b7dd8", Retrying: "#3b7dd8", Pending: "#9aa0a6",
  Scheduled: "#9aa0a6", AwaitingRetry: "#9aa0a6", Late: "#9aa0a6", Cancelled: "#5f6368",
  Cancelling: "#5f6368",
};
const W = 160, H = 36, PAD = 12, NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs, parent) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (parent) parent.appendChild(el);
  return el;
}

function describe(node, details) {
  const d = details[node.id] || {};
  const lines = [`${node.label}: ${d.state || node.state}`];
  if (node.count > 1) {
    lines.push(Object.entries(node.states).map(([k, v]) => `${k}: ${v}`).join(", "));
  }
  if (d.duration !== undefined && d.duration !== null) lines.push(`duration: ${d.duration} s`);
  if (d.attempts) lines.push(`attempts: ${d.attempts}`);
  if (d.message) lines.push(`message: ${d.message}`);
  return lines.join("\n");
}

function draw(model, root, info) {
  const layout = model.get("layout") || {};
  const details = model.get("details") || {};
  const nodes = layout.nodes || [];
  const byId = Object.fromEntries(nodes.map((n) => [n.id, n]));
  root.replaceChildren();
  const width = (layout.width || 0) + 2 * PAD, height = (layout.height || 0) + 2 * PAD;
  const s = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img" }, root);
  const defs = svg("defs", {}, s);
  const marker = svg("marker", { id: "jf-arrow-live", viewBox: "0 0 10 10", refX: 10, refY: 5,
    markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, defs);
  svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#8a8f98" }, marker);
  for (const e of layout.edges || []) {
    const a = byId[e.source], b = byId[e.target];
    if (!a || !b) continue;
    const x1 = a.x + W + PAD, y1 = a.y + H / 2 + PAD, x2 = b.x + PAD, y2 = b.y + H / 2 + PAD;
    const m = (x1 + x2) / 2;
    svg("path", { d: `M ${x1} ${y1} C ${m} ${y1}, ${m} ${y2}, ${x2} ${y2}`, fill: "none",
      stroke: "#8a8f98", "stroke-width": 1.5, "marker-end": "url(#jf-arrow-live)" }, s);
  }
  for (const n of nodes) {
    const state = (details[n.id] && details[n.id].state) || n.state;
    const color = COLORS[state] || "#9aa0a6";
    const g = svg("g", { class: "jf-node", tabindex: 0, "data-state": state }, s);
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
}

export default {
  render({ model, el }) {
    el.classList.add("jf-run-graph");
    const title = document.createElement("div");
    title.className = "jf-title";
    const root = document.createElement("div");
    root.className = "jf-canvas";
    const info = document.createElement("pre");
    info.className = "jf-info";
    info.textContent = "click a task for details";
    el.append(title, root, info);
    const redraw = () => {
      title.textContent = model.get("title") || "";
      draw(model, root, info);
    };
    model.on("change:layout", redraw);
    model.on("change:details", redraw);
    model.on("change:title", redraw);
    redraw();
    return () => {
      model.off("change:layout", redraw);
      model.off("change:details", redraw);
      model.off("change:title", redraw);
    };
  },
};
