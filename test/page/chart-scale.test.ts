import { describe, expect, it } from "vitest";
import {
  linePath,
  linearScale,
  mergeSeries,
  nearestIndex,
  niceStep,
  priceDomain,
  ticks,
  timeDomain,
  timeTicks,
  trimSeries,
} from "../../src/page/chart-scale";
import { pt } from "./support/chart-point";

describe("page: chart scaling", () => {
  it("maps domains to ranges, including an empty domain", () => {
    const x = linearScale([0, 100], [10, 210]);
    expect(x(0)).toBe(10);
    expect(x(50)).toBe(110);
    expect(linearScale([5, 5], [0, 100])(5)).toBe(50);
  });

  it("picks nice steps and ticks", () => {
    expect(niceStep(1000, 5)).toBe(200);
    expect(niceStep(0.3, 3)).toBeCloseTo(0.1);
    expect(niceStep(123, 5)).toBe(25);
    expect(ticks(96_950, 97_410, 100)).toEqual([97_000, 97_100, 97_200, 97_300, 97_400]);
    expect(ticks(0.1, 0.35, 0.1)).toEqual([0.1, 0.2, 0.3]);
    expect(ticks(5, 1, 1)).toEqual([]);
    const hour = timeTicks(Date.UTC(2026, 0, 1, 10, 3), Date.UTC(2026, 0, 1, 11, 3), 4);
    expect(hour.map((t) => new Date(t).toISOString().slice(11, 16))).toEqual(["10:15", "10:30", "10:45", "11:00"]);
    const minute = timeTicks(Date.UTC(2026, 0, 1, 10, 3, 10), Date.UTC(2026, 0, 1, 10, 4, 10), 5);
    expect(minute.map((t) => new Date(t).toISOString().slice(11, 19))).toEqual([
      "10:03:15",
      "10:03:30",
      "10:03:45",
      "10:04:00",
    ]);
    expect(timeTicks(5, 5, 4)).toEqual([]);
  });

  it("pads the price domain and keeps a flat series centred", () => {
    expect(priceDomain([])).toBeNull();
    const [lo, hi] = priceDomain([pt(1, 0, 100), pt(2, 1, 200)])!;
    expect(lo).toBeCloseTo(92);
    expect(hi).toBeCloseTo(208);
    const [flo, fhi] = priceDomain([pt(1, 0, 97_000), pt(2, 1, 97_000)])!;
    expect((flo + fhi) / 2).toBeCloseTo(97_000);
    expect(fhi - flo).toBeGreaterThan(40);
  });

  it("shows the last hour, zoomed in on the data while there is less of it", () => {
    const now = 10_000_000;
    expect(timeDomain([], now, 3_600_000, 180_000)).toEqual([now - 3_600_000, now]);
    expect(timeDomain([pt(1, now - 4_000_000, 1)], now, 3_600_000, 180_000)).toEqual([now - 3_600_000, now]);
    expect(timeDomain([pt(1, now - 60_000, 1)], now, 3_600_000, 180_000)).toEqual([now - 180_000, now]);
    expect(timeDomain([pt(1, now - 1_000_000, 1)], now, 3_600_000, 180_000)).toEqual([now - 1_080_000, now]);
  });

  it("merges series by seq, live points winning, and trims to the window", () => {
    const merged = mergeSeries([pt(1, 1000, 1), pt(2, 2000, 2)], [pt(2, 2000, 2, true), pt(3, 3000, 3)]);
    expect(merged.map((p) => [p.seq, p.replayed])).toEqual([
      [1, false],
      [2, true],
      [3, false],
    ]);
    // Keeps the last point before the window so the line enters from the left edge.
    expect(trimSeries(merged, 2500).map((p) => p.seq)).toEqual([2, 3]);
    expect(trimSeries(merged, 0, 2).map((p) => p.seq)).toEqual([2, 3]);
  });

  it("draws a step line ending at now and finds the nearest point", () => {
    const x = linearScale([0, 100], [0, 100]);
    const y = linearScale([0, 10], [100, 0]);
    expect(linePath([pt(1, -10, 5), pt(2, 50, 7)], x, y, 0, 100)).toBe("M0 50H50V30H100");
    expect(linePath([], x, y, 0, 100)).toBe("");
    const points = [pt(1, 0, 1), pt(2, 10, 1), pt(3, 30, 1)];
    expect(nearestIndex(points, -5)).toBe(0);
    expect(nearestIndex(points, 12)).toBe(1);
    expect(nearestIndex(points, 25)).toBe(2);
    expect(nearestIndex(points, 99)).toBe(2);
    expect(nearestIndex([], 1)).toBe(-1);
  });
});
