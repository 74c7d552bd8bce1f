// Latency over time per function: p50 and p99 kept per function in a bounded ring, drawn as SVG.
import { esc, ms } from "./dashboard-common.js";

const KEEP = 600;
const series = new Map(); // function name → [{at, p50, p99}]

/** Loads the gateway's ring (GET /dashboard/latency) in place of what is kept. */
export function loadLatency(samples) {
  series.clear();
  for (const s of samples) for (const [name, p50, p99] of s.values) push(name, s.at, p50, p99);
}

/** Adds the current sample of every function in a snapshot. */
export function addSnapshot(snapshot) {
  const at = Date.parse(snapshot.at);
  for (const f of snapshot.functions) {
    const list = series.get(f.name);
    if (list && list.length > 0 && list[list.length - 1].at >= at) continue;
    push(f.name, at, f.p50Ms, f.p99Ms);
  }
}

function push(name, at, p50, p99) {
  let list = series.get(name);
  if (!list) series.set(name, (list = []));
  list.push({ at, p50, p99 });
  if (list.length > KEEP) list.splice(0, list.length - KEEP);
}

/** An SVG chart of `name`'s p50 (solid) and p99 (light) over the last `points` samples. */
export function latencyChart(name, { width = 150, height = 30, points = 120, axis = false } = {}) {
  const list = (series.get(name) ?? []).slice(-points);
  if (list.length < 2) return `<svg class="chart" width="${width}" height="${height}" role="img" aria-label="no samples yet"></svg>`;
  const pad = axis ? 22 : 2;
  const top = Math.max(...list.map((p) => p.p99), 0.001);
  const x = (i) => pad + (i * (width - pad - 2)) / (list.length - 1);
  const y = (v) => height - 2 - (v / top) * (height - (axis ? 14 : 4));
  const line = (key) => list.map((p, i) => `${i === 0 ? "M" : "L"}${x(i).toFixed(1)},${y(p[key]).toFixed(1)}`).join("");
  const last = list[list.length - 1];
  const label = `${name}: p50 ${ms(last.p50)} ms, p99 ${ms(last.p99)} ms (peak p99 ${ms(top)} ms)`;
  const grid = axis
    ? `<text class="axis" x="0" y="10">${esc(ms(top))}</text><text class="axis" x="0" y="${height - 2}">0</text>` +
      `<line class="grid" x1="${pad}" x2="${width}" y1="${y(top)}" y2="${y(top)}"/><line class="grid" x1="${pad}" x2="${width}" y1="${y(0)}" y2="${y(0)}"/>`
    : "";
  return (
    `<svg class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(label)}"><title>${esc(label)}</title>` +
    `${grid}<path class="p99" d="${line("p99")}"/><path class="p50" d="${line("p50")}"/></svg>`
  );
}
