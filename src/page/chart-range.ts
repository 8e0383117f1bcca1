/** The chart's range switch: the last hour of ticks, or the last 24 hours of candles. */

export type ChartRange = "1h" | "24h";

export const CHART_RANGES: readonly ChartRange[] = ["1h", "24h"];

export const RANGE_LABELS: Readonly<Record<ChartRange, string>> = { "1h": "1 h", "24h": "24 h" };

export const RANGE_TITLES: Readonly<Record<ChartRange, string>> = { "1h": "last hour", "24h": "last 24 hours" };

export function isChartRange(value: unknown): value is ChartRange {
  return value === "1h" || value === "24h";
}

/** A stored or asked-for range, else the hour (what the page always showed). */
export function parseRange(value: unknown): ChartRange {
  return isChartRange(value) ? value : "1h";
}
