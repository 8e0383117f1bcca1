/**
 * Pure geometry for the price chart: domains, nice ticks, SVG path strings.
 * The chart's DOM code (chart.ts) only turns these numbers into elements.
 */

export interface ChartPoint {
  seq: number;
  /** Milliseconds since the epoch. */
  t: number;
  price: number;
  replayed: boolean;
}

export interface Box {
  width: number;
  height: number;
  top: number;
  right: number;
  bottom: number;
  left: number;
}

export type Scale = (value: number) => number;

export function linearScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0;
  if (span === 0) {
    const mid = (r0 + r1) / 2;
    return () => mid;
  }
  const k = (r1 - r0) / span;
  return (v) => r0 + (v - d0) * k;
}

/** A "nice" step (1, 2, 2.5 or 5 × 10^k) giving about `count` intervals over `span`. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0) || !(count > 0)) return 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const nice = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10;
  return nice * mag;
}

/** Multiples of `step` within [min, max]. */
export function ticks(min: number, max: number, step: number): number[] {
  if (!(step > 0) || !Number.isFinite(min) || !Number.isFinite(max) || max < min) return [];
  const out: number[] = [];
  const first = Math.ceil(min / step - 1e-9) * step;
  for (let v = first, i = 0; v <= max + step * 1e-9 && i < 1000; i++, v = first + i * step) {
    // Avoid 0.30000000000000004-style labels.
    out.push(Number(v.toPrecision(12)));
  }
  return out;
}

/**
 * The price axis for a series: its min and max padded by 8 % of the spread, with a
 * floor on the spread (0.05 % of the price) so that a flat line sits mid-chart instead
 * of every cent looking like a cliff.
 */
export function priceDomain(points: readonly ChartPoint[]): [number, number] | null {
  if (points.length === 0) return null;
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of points) {
    if (p.price < lo) lo = p.price;
    if (p.price > hi) hi = p.price;
  }
  const mid = (lo + hi) / 2;
  const minSpread = Math.max(Math.abs(mid) * 0.0005, 0.01);
  if (hi - lo < minSpread) {
    lo = mid - minSpread / 2;
    hi = mid + minSpread / 2;
  }
  const pad = (hi - lo) * 0.08;
  return [lo - pad, hi + pad];
}

const TIME_STEPS_MS = [15, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map(
  (s) => s * 1000,
);

/** The time-axis step: the smallest round one (15 s, 30 s, 1 min, 2 min, 5 min, …) giving at most `maxTicks` ticks. */
export function timeStep(fromMs: number, toMs: number, maxTicks: number): number {
  const span = toMs - fromMs;
  return TIME_STEPS_MS.find((s) => span / s <= Math.max(1, maxTicks)) ?? TIME_STEPS_MS[TIME_STEPS_MS.length - 1]!;
}

/** Time-axis ticks: multiples of timeStep() inside [fromMs, toMs]. */
export function timeTicks(fromMs: number, toMs: number, maxTicks: number): number[] {
  if (!(toMs - fromMs > 0) || maxTicks < 1) return [];
  const step = timeStep(fromMs, toMs, maxTicks);
  const out: number[] = [];
  for (let t = Math.ceil(fromMs / step) * step; t <= toMs; t += step) out.push(t);
  return out;
}

/** Keeps the points inside the window, plus the last one before it so the line enters from the edge. */
export function clipToWindow(points: readonly ChartPoint[], fromMs: number): ChartPoint[] {
  let start = 0;
  while (start < points.length && points[start]!.t < fromMs) start++;
  return points.slice(Math.max(0, start - 1));
}

/**
 * Merges two seq-ordered series into one, ordered by seq, one point per seq
 * (on a clash the one from `b` wins: live data over fetched history).
 */
export function mergeSeries(a: readonly ChartPoint[], b: readonly ChartPoint[]): ChartPoint[] {
  const bySeq = new Map<number, ChartPoint>();
  for (const p of a) bySeq.set(p.seq, p);
  for (const p of b) bySeq.set(p.seq, p);
  return [...bySeq.values()].sort((x, y) => x.seq - y.seq);
}

/** Drops points older than `fromMs` except the last one before it, and caps the count. */
export function trimSeries(points: readonly ChartPoint[], fromMs: number, maxPoints = 5000): ChartPoint[] {
  const clipped = clipToWindow(points, fromMs);
  return clipped.length > maxPoints ? clipped.slice(clipped.length - maxPoints) : clipped;
}

function round(n: number): string {
  return (Math.round(n * 10) / 10).toString();
}

/**
 * A step line ("the price was X until it changed"): the price holds until the next tick.
 * The last point's level continues to `endX` (now).
 */
export function linePath(points: readonly ChartPoint[], x: Scale, y: Scale, minX: number, endX: number): string {
  if (points.length === 0) return "";
  const parts: string[] = [];
  points.forEach((p, i) => {
    const px = Math.max(minX, x(p.t));
    const py = y(p.price);
    if (i === 0) parts.push(`M${round(px)} ${round(py)}`);
    else parts.push(`H${round(px)}`, `V${round(py)}`);
  });
  parts.push(`H${round(Math.max(endX, minX))}`);
  return parts.join("");
}

/** The line's path closed down to `baseY`, for the filled area under it. */
export function areaPath(
  points: readonly ChartPoint[],
  x: Scale,
  y: Scale,
  minX: number,
  endX: number,
  baseY: number,
): string {
  const line = linePath(points, x, y, minX, endX);
  if (!line) return "";
  const startX = Math.max(minX, x(points[0]!.t));
  return `${line}V${round(baseY)}H${round(startX)}Z`;
}

/** Index of the point whose time is closest to `t` (points ordered by time). */
export function nearestIndex(points: readonly { t: number }[], t: number): number {
  if (points.length === 0) return -1;
  let lo = 0;
  let hi = points.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid]!.t < t) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(points[lo - 1]!.t - t) <= Math.abs(points[lo]!.t - t)) return lo - 1;
  return lo;
}

export interface SeriesSummary {
  first: number;
  last: number;
  high: number;
  low: number;
  change: number;
}

export function summarize(points: readonly ChartPoint[]): SeriesSummary | null {
  if (points.length === 0) return null;
  let high = -Infinity;
  let low = Infinity;
  for (const p of points) {
    high = Math.max(high, p.price);
    low = Math.min(low, p.price);
  }
  const first = points[0]!.price;
  const last = points[points.length - 1]!.price;
  return { first, last, high, low, change: last - first };
}

/**
 * The chart's time axis: the last `windowMs`, or (while there is less data than that, e.g. on a
 * fresh deployment) from a little before the first point, but never less than `minSpanMs`.
 */
export function timeDomain(
  points: readonly ChartPoint[],
  nowMs: number,
  windowMs: number,
  minSpanMs: number,
): [number, number] {
  const windowStart = nowMs - windowMs;
  const first = points[0];
  if (!first || first.t <= windowStart) return [windowStart, nowMs];
  const span = Math.max(minSpanMs, (nowMs - first.t) * 1.08);
  return [Math.max(windowStart, nowMs - span), nowMs];
}
