/**
 * The price chart in plain SVG: the last hour as a step line of ticks, or the last 24 hours as
 * candlesticks. Geometry comes from chart-scale.ts and chart-candles.ts; this file only builds and
 * updates elements (no innerHTML, no style attributes: CSP-clean).
 */
import type { Candle, Currency } from "../protocol";
import { candleDomain, candleMidMs, candleShapes } from "./chart-candles";
import {
  areaPath,
  linearScale,
  linePath,
  nearestIndex,
  niceStep,
  priceDomain,
  ticks,
  timeStep,
  timeTicks,
  type ChartPoint,
  type Scale,
} from "./chart-scale";
import { formatAxisValue, formatClock, formatHourMinute, formatPrice } from "./format";

const SVG = "http://www.w3.org/2000/svg";

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  parent?: Element,
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (parent) parent.appendChild(el);
  return el;
}

export interface ChartData {
  currency: Currency;
  points: ChartPoint[];
  /** When set, the chart draws these candles of `intervalMs` instead of the points. */
  candles: { list: Candle[]; intervalMs: number } | null;
  /** "last hour", "last 24 hours": for the label and the loading text. */
  span: string;
  fromMs: number;
  toMs: number;
  loading: boolean;
}

/** What the pointer and the arrow keys move along: the points, or the candles. */
interface Inspectable {
  count: number;
  /** Each item's time (ms), ordered. */
  times: { t: number }[];
  text(i: number): string;
  /** The cursor's dot. */
  price(i: number): number;
}

function inspectable(data: ChartData): Inspectable {
  const c = data.currency;
  if (data.candles) {
    const { list, intervalMs } = data.candles;
    return {
      count: list.length,
      times: list.map((k) => ({ t: candleMidMs(k, intervalMs) })),
      text(i) {
        const k = list[i]!;
        const p = (v: number) => formatPrice(v, c);
        const when = `${formatHourMinute(k.time * 1000)}–${formatHourMinute(k.time * 1000 + intervalMs)}`;
        return `${when} · open ${p(k.open)} · high ${p(k.high)} · low ${p(k.low)} · close ${p(k.close)}`;
      },
      price: (i) => list[i]!.close,
    };
  }
  const points = data.points;
  return {
    count: points.length,
    times: points,
    text(i) {
      const p = points[i]!;
      return `${formatClock(p.t)} · ${formatPrice(p.price, c)}${p.replayed ? " · replayed" : ""}`;
    },
    price: (i) => points[i]!.price,
  };
}

export interface ChartHandle {
  render(data: ChartData): void;
}

/**
 * @param host the element the SVG fills
 * @param readout where the inspected point is described (pointer or arrow keys)
 */
export function createChart(host: HTMLElement, readout: HTMLElement): ChartHandle {
  // The host is the focusable, labelled element (arrow keys read the prices); the SVG is decoration to assistive tech.
  host.setAttribute("role", "group");
  host.setAttribute("aria-roledescription", "chart");
  const root = svg("svg", { class: "chart-svg", "aria-hidden": "true", focusable: "false" }, host);
  const defs = svg("defs", {}, root);
  const grad = svg("linearGradient", { id: "chart-area-fill", x1: 0, y1: 0, x2: 0, y2: 1 }, defs);
  svg("stop", { offset: "0%", class: "stop-top" }, grad);
  svg("stop", { offset: "100%", class: "stop-bottom" }, grad);
  const grid = svg("g", { class: "grid" }, root);
  const xAxis = svg("g", { class: "x-axis" }, root);
  const area = svg("path", { class: "area", fill: "url(#chart-area-fill)" }, root);
  const line = svg("path", { class: "line" }, root);
  const replayed = svg("g", { class: "replayed-points" }, root);
  const candleGroup = svg("g", { class: "candles" }, root);
  const lastDot = svg("circle", { class: "last-dot", r: 4 }, root);
  const lastPulse = svg("circle", { class: "last-pulse", r: 4 }, root);
  const cursor = svg("g", { class: "cursor" }, root);
  const cursorLine = svg("line", {}, cursor);
  const cursorDot = svg("circle", { r: 4.5 }, cursor);
  const empty = svg("text", { class: "empty", "text-anchor": "middle" }, root);

  let data: ChartData | null = null;
  let items: Inspectable | null = null;
  let inspected = -1;
  let geometry: { x: (v: number) => number; y: (v: number) => number; invX: (px: number) => number } | null = null;
  let width = 0;
  let height = 0;

  const measure = () => {
    const rect = host.getBoundingClientRect();
    width = Math.max(240, Math.round(rect.width));
    height = Math.max(160, Math.round(rect.height));
  };

  const describe = () => {
    if (!data || !items) return;
    if (inspected < 0 || inspected >= items.count) {
      readout.textContent = "";
      cursor.classList.remove("is-on");
      return;
    }
    readout.textContent = items.text(inspected);
    if (geometry) {
      const cx = geometry.x(Math.max(items.times[inspected]!.t, data.fromMs));
      const cy = geometry.y(items.price(inspected));
      cursorLine.setAttribute("x1", String(cx));
      cursorLine.setAttribute("x2", String(cx));
      cursorLine.setAttribute("y1", "8");
      cursorLine.setAttribute("y2", String(height - 26));
      cursorDot.setAttribute("cx", String(cx));
      cursorDot.setAttribute("cy", String(cy));
      cursor.classList.add("is-on");
    }
  };

  const draw = () => {
    if (!data) return;
    measure();
    root.setAttribute("viewBox", `0 0 ${width} ${height}`);
    root.setAttribute("width", String(width));
    root.setAttribute("height", String(height));
    grid.replaceChildren();
    xAxis.replaceChildren();
    replayed.replaceChildren();
    candleGroup.replaceChildren();

    const pad = { top: 12, right: 64, bottom: 26, left: 10 };
    const plotRight = width - pad.right;
    const plotBottom = height - pad.bottom;
    const x = linearScale([data.fromMs, data.toMs], [pad.left, plotRight]);
    const invX = linearScale([pad.left, plotRight], [data.fromMs, data.toMs]);

    const maxTimeTicks = Math.max(2, Math.floor(width / 110));
    const withSeconds = timeStep(data.fromMs, data.toMs, maxTimeTicks) < 60_000;
    for (const t of timeTicks(data.fromMs, data.toMs, maxTimeTicks)) {
      const tx = x(t);
      svg("line", { x1: tx, x2: tx, y1: pad.top, y2: plotBottom, class: "vline" }, grid);
      // A label centred on a tick near the left edge would be cut off.
      if (tx < pad.left + (withSeconds ? 26 : 16)) continue;
      const label = svg("text", { x: tx, y: height - 8, "text-anchor": "middle" }, xAxis);
      label.textContent = withSeconds ? formatClock(t) : formatHourMinute(t);
    }

    const visible = data.points;
    const candles = data.candles;
    const domain = candles ? candleDomain(candles.list) : priceDomain(visible);
    if (!domain) {
      geometry = null;
      area.setAttribute("d", "");
      line.setAttribute("d", "");
      lastDot.classList.add("is-hidden");
      lastPulse.classList.add("is-hidden");
      empty.setAttribute("x", String(width / 2));
      empty.setAttribute("y", String(height / 2));
      empty.textContent = data.loading ? `Loading the ${data.span}…` : "Waiting for the first price…";
      host.setAttribute("aria-label", `${data.currency} chart: no prices yet`);
      describe();
      return;
    }
    empty.textContent = "";
    const y = linearScale(domain, [plotBottom, pad.top]);
    geometry = { x, y, invX };
    const step = niceStep(domain[1] - domain[0], Math.max(2, Math.floor(height / 55)));
    for (const v of ticks(domain[0], domain[1], step)) {
      const ty = y(v);
      svg("line", { x1: pad.left, x2: plotRight, y1: ty, y2: ty, class: "hline" }, grid);
      const label = svg("text", { x: width - 6, y: ty + 4, "text-anchor": "end" }, grid);
      label.textContent = formatAxisValue(v, step);
    }

    if (candles) {
      drawCandles(candles.list, candles.intervalMs, x, y, pad.left);
      return;
    }
    line.setAttribute("d", linePath(visible, x, y, pad.left, plotRight));
    area.setAttribute("d", areaPath(visible, x, y, pad.left, plotRight, plotBottom));
    for (const p of visible) {
      if (!p.replayed || p.t < data.fromMs) continue;
      svg("circle", { cx: x(p.t), cy: y(p.price), r: 3 }, replayed);
    }
    const last = visible[visible.length - 1]!;
    for (const dot of [lastDot, lastPulse]) {
      dot.setAttribute("cx", String(plotRight));
      dot.setAttribute("cy", String(y(last.price)));
      dot.classList.remove("is-hidden");
    }
    const first = visible.find((p) => p.t >= data!.fromMs) ?? visible[0]!;
    const range = `from ${formatPrice(first.price, data.currency)} to ${formatPrice(last.price, data.currency)}`;
    host.setAttribute(
      "aria-label",
      `${data.currency} over the ${data.span}: ${visible.length} prices, ${range}. ` +
        "Use the arrow keys to read individual prices.",
    );
    if (inspected >= visible.length) inspected = visible.length - 1;
    describe();
  };

  const drawCandles = (list: Candle[], intervalMs: number, x: Scale, y: Scale, minX: number) => {
    if (!data) return;
    area.setAttribute("d", "");
    line.setAttribute("d", "");
    lastDot.classList.add("is-hidden");
    lastPulse.classList.add("is-hidden");
    for (const shape of candleShapes(list, x, y, intervalMs, minX)) {
      const g = svg("g", { class: `candle candle-${shape.dir}` }, candleGroup);
      svg("line", { class: "wick", x1: shape.cx, x2: shape.cx, y1: shape.wickTop, y2: shape.wickBottom }, g);
      svg("rect", { class: "body", x: shape.x, y: shape.bodyTop, width: shape.width, height: shape.bodyHeight }, g);
    }
    const first = list[0]!;
    const last = list[list.length - 1]!;
    const c = data.currency;
    const range = `from ${formatPrice(first.open, c)} to ${formatPrice(last.close, c)}`;
    host.setAttribute(
      "aria-label",
      `${c} over the ${data.span}: ${list.length} candles of ${intervalMs / 60_000} minutes, ${range}. ` +
        "Use the arrow keys to read individual candles.",
    );
    if (inspected >= list.length) inspected = list.length - 1;
    describe();
  };

  const inspectAt = (clientX: number) => {
    if (!items || !geometry || items.count === 0) return;
    const rect = root.getBoundingClientRect();
    const px = ((clientX - rect.left) / rect.width) * width;
    inspected = nearestIndex(items.times, geometry.invX(px));
    describe();
  };

  host.tabIndex = 0;
  host.addEventListener("pointermove", (e) => inspectAt(e.clientX));
  host.addEventListener("pointerdown", (e) => inspectAt(e.clientX));
  host.addEventListener("pointerleave", () => {
    if (document.activeElement === host) return;
    inspected = -1;
    describe();
  });
  host.addEventListener("blur", () => {
    inspected = -1;
    describe();
  });
  host.addEventListener("keydown", (e) => {
    if (!data || !items || items.count === 0) return;
    const n = items.count;
    const firstVisible = Math.max(
      0,
      items.times.findIndex((p) => p.t >= data!.fromMs),
    );
    let next = inspected;
    if (e.key === "ArrowLeft") next = inspected < 0 ? n - 1 : Math.max(firstVisible, inspected - 1);
    else if (e.key === "ArrowRight") next = inspected < 0 ? n - 1 : Math.min(n - 1, inspected + 1);
    else if (e.key === "Home") next = firstVisible;
    else if (e.key === "End") next = n - 1;
    else if (e.key === "Escape") next = -1;
    else return;
    e.preventDefault();
    inspected = next;
    describe();
  });

  if (typeof ResizeObserver !== "undefined") {
    let lastWidth = 0;
    new ResizeObserver(() => {
      const w = Math.round(host.getBoundingClientRect().width);
      if (w !== lastWidth) {
        lastWidth = w;
        draw();
      }
    }).observe(host);
  }

  return {
    render(next) {
      if (data && (next.currency !== data.currency || Boolean(next.candles) !== Boolean(data.candles))) inspected = -1;
      data = next;
      items = inspectable(next);
      draw();
    },
  };
}
