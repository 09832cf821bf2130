/**
 * Round axis ticks for the timeline: steps of 1, 2 and 5 times a power of
 * ten below a minute, whole minutes and hours (1, 2, 5, 10, 15, 30) above.
 */

/** Step candidates (seconds) from a minute up. */
const LONG_STEPS = [
  60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400
];

/** The smallest round step that puts at most `maxTicks` intervals on `span` seconds. */
export function tickStep(span: number, maxTicks: number): number {
  const raw = span / Math.max(1, maxTicks);
  if (raw >= 60) {
    const long = LONG_STEPS.find(step => step >= raw);
    if (long) {
      return long;
    }
    return 86400 * tickStep(raw / 86400, 1);
  }
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) {
    if (m * power >= raw * (1 - 1e-9)) {
      return m * power;
    }
  }
  return 10 * power;
}

/** Tick values (seconds from the start): 0, step, 2 step, ... up to `span`. */
export function ticks(span: number, maxTicks: number): number[] {
  const step = tickStep(span, maxTicks);
  const out: number[] = [];
  for (let i = 0; i * step <= span * (1 + 1e-9) && i < 1000; i++) {
    out.push(i * step);
  }
  return out;
}

/** A tick's label: "0", "250ms", "1.5s", "30s", "2m", "1m 30s", "2h". */
export function tickLabel(seconds: number, step: number): string {
  if (seconds === 0) {
    return '0';
  }
  if (step < 1) {
    const decimals = Math.max(0, -Math.floor(Math.log10(step * 1000) + 1e-9));
    return `${Number((seconds * 1000).toFixed(decimals))}ms`;
  }
  if (seconds < 60) {
    return `${Number(seconds.toFixed(step < 1 ? 1 : 0))}s`;
  }
  const parts: string[] = [];
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.round(seconds % 60);
  if (h) {
    parts.push(`${h}h`);
  }
  if (m) {
    parts.push(`${m}m`);
  }
  if (s) {
    parts.push(`${s}s`);
  }
  return parts.join(' ');
}
