/**
 * The last-hour chart in plain SVG. Geometry comes from chart-scale.ts; this file only
 * builds and updates elements (no innerHTML, no style attributes: CSP-clean).
 */
import type { Currency } from "../protocol";
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
  fromMs: number;
  toMs: number;
  loading: boolean;
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
  const lastDot = svg("circle", { class: "last-dot", r: 4 }, root);
  const lastPulse = svg("circle", { class: "last-pulse", r: 4 }, root);
  const cursor = svg("g", { class: "cursor" }, root);
  const cursorLine = svg("line", {}, cursor);
  const cursorDot = svg("circle", { r: 4.5 }, cursor);
  const empty = svg("text", { class: "empty", "text-anchor": "middle" }, root);

  let data: ChartData | null = null;
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
    if (!data) return;
    const p = inspected >= 0 ? data.points[inspected] : undefined;
    if (!p) {
      readout.textContent = "";
      cursor.classList.remove("is-on");
      return;
    }
    readout.textContent = `${formatClock(p.t)} · ${formatPrice(p.price, data.currency)}${p.replayed ? " · replayed" : ""}`;
    if (geometry) {
      const cx = geometry.x(Math.max(p.t, data.fromMs));
      const cy = geometry.y(p.price);
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
    const domain = priceDomain(visible);
    if (!domain) {
      geometry = null;
      area.setAttribute("d", "");
      line.setAttribute("d", "");
      lastDot.classList.add("is-hidden");
      lastPulse.classList.add("is-hidden");
      empty.setAttribute("x", String(width / 2));
      empty.setAttribute("y", String(height / 2));
      empty.textContent = data.loading ? "Loading the last hour…" : "Waiting for the first price…";
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
    host.setAttribute(
      "aria-label",
      `${data.currency} over the last hour: ${visible.length} prices, from ${formatPrice(first.price, data.currency)} to ${formatPrice(last.price, data.currency)}. Use the arrow keys to read individual prices.`,
    );
    if (inspected >= visible.length) inspected = visible.length - 1;
    describe();
  };

  const inspectAt = (clientX: number) => {
    if (!data || !geometry || data.points.length === 0) return;
    const rect = root.getBoundingClientRect();
    const px = ((clientX - rect.left) / rect.width) * width;
    inspected = nearestIndex(data.points, geometry.invX(px));
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
    if (!data || data.points.length === 0) return;
    const n = data.points.length;
    const firstVisible = Math.max(
      0,
      data.points.findIndex((p) => p.t >= data!.fromMs),
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
      if (data && next.currency !== data.currency) inspected = -1;
      data = next;
      draw();
    },
  };
}
