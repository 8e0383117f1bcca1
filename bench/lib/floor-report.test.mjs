// node --test (npm run test:bench): the feed/floor ratios of the bench report.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  floorRatios,
  floorSection,
  floorTargetRows,
  median,
  RESUMING_FLOOR,
  stormPhasesSection,
} from "./floor-report.mjs";

const fanout = (server, round, p99, ok = true) => ({
  scenario: "floor-cmp",
  server,
  n: 1000,
  round,
  comparison: "floor",
  ok,
  latencyMs: { p99 },
});
const storm = (server, round, stormMs, ok = true) => ({
  scenario: "storm",
  server,
  n: 1000,
  round,
  comparison: "floor",
  ok,
  storm: { stormMs },
});

test("median of the values that exist", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.equal(median([null, 5, Number.NaN]), 5);
  assert.equal(median([]), null);
});

test("the ratio is the feed's median over the floor's, per client count and measure", () => {
  const runs = [
    fanout("worker", 1, 130),
    fanout("floor", 1, 100),
    fanout("floor", 2, 120),
    fanout("worker", 2, 150),
    fanout("worker", 3, 400),
    fanout("floor", 3, 110),
    storm("worker", 1, 3000),
    storm("floor", 1, 2000),
    storm("floor", 2, 2000),
    storm("worker", 2, 4000),
    // Runs of the main table do not count.
    { ...fanout("worker", 1, 9999), comparison: undefined },
  ];
  const [row] = floorRatios(runs);
  assert.deepEqual(row.fanoutP99.feed, [130, 150, 400]);
  assert.deepEqual(row.fanoutP99.floor, [100, 120, 110]);
  // Medians, not means: one slow round (400 ms) does not decide the ratio.
  assert.equal(row.fanoutP99.ratio, 150 / 110);
  assert.equal(row.storm.ratio, 3500 / 2000);
  const targets = floorTargetRows(runs);
  assert.equal(targets[0][2], false); // 1.36× > 1.3×
  assert.equal(targets[1][2], false); // 1.75× > 1.5×
  assert.match(
    floorSection(runs).join("\n"),
    /\| 1000 \| reconnect storm, feed \/ floor \| 3000, 4000 \| 2000, 2000 \| 1\.75× \|/,
  );
});

test("a failed run counts as no value; with no value on one side there is no ratio and no target met", () => {
  const runs = [fanout("worker", 1, 100), fanout("floor", 1, null, false), storm("worker", 1, 10, false)];
  const [row] = floorRatios(runs);
  assert.deepEqual(row.fanoutP99.floor, [null]);
  assert.equal(row.fanoutP99.ratio, null);
  assert.equal(row.storm.ratio, null);
  assert.deepEqual(
    floorTargetRows(runs).map((r) => r[2]),
    [false, false],
  );
  assert.match(floorSection(runs).join("\n"), /failed/);
});

test("with the resuming floor: the feed's storm against it, and it against the floor", () => {
  const runs = [
    storm("worker", 1, 3000),
    storm(RESUMING_FLOOR, 1, 2400),
    storm("floor", 1, 2000),
    storm("floor", 2, 2200),
    storm(RESUMING_FLOOR, 2, 2600),
    storm("worker", 2, 2800),
  ];
  const [row] = floorRatios(runs);
  assert.equal(row.storm.ratio, 2900 / 2100);
  assert.deepEqual(row.stormVsResuming.floor, [2400, 2600]);
  assert.equal(row.stormVsResuming.ratio, 2900 / 2500);
  assert.equal(row.resumingVsFloor.ratio, 2500 / 2100);
  // The target stays the floor's.
  assert.equal(floorTargetRows(runs)[1][2], true); // 1.38× ≤ 1.5×
  const text = floorSection(runs).join("\n");
  assert.match(text, /\| 1000 \| storm, feed \/ resuming floor \| 3000, 2800 \| 2400, 2600 \| 1\.16× \| – \|/);
  assert.match(text, /\| 1000 \| storm, resuming floor \/ floor \| 2400, 2600 \| 2000, 2200 \| 1\.19× \| – \|/);
  // Without it, no such rows.
  assert.equal(floorRatios(runs.filter((s) => s.server !== RESUMING_FLOOR))[0].stormVsResuming, undefined);
});

test("no floor runs, no section", () => {
  assert.deepEqual(floorSection([fanout("worker", 1, 100)].map((s) => ({ ...s, comparison: undefined }))), []);
});

test("where a storm's time went: each phase's median over the rounds, feed and floor", () => {
  const phased = (server, round, opened, cpu) => ({
    ...storm(server, round, opened + 300),
    storm: {
      stormMs: opened + 300,
      serverCpuMs: cpu,
      phasesFromReadyMs: {
        opened: { p50: opened / 2, max: opened },
        live: { max: opened + 10 },
        firstLivePublished: { p50: opened / 2 + 100 },
        firstLive: { max: opened + 300 },
      },
    },
  });
  const runs = [
    phased("worker", 1, 2000, 2100),
    phased("worker", 2, 1000, 1200),
    phased("floor", 1, 800, 900),
    phased(RESUMING_FLOOR, 1, 1000, 1100),
  ];
  const text = stormPhasesSection(runs).join("\n");
  assert.match(text, /\| 1000 \| resuming floor \| 500 \| 1000 \| 1010 \| 600 \| 1300 \| 1100 \|/);
  assert.match(text, /\| 1000 \| feed \| 750 \| 1500 \| 1510 \| 850 \| 1800 \| 1650 \|/);
  assert.match(text, /\| 1000 \| floor \| 400 \| 800 \| 810 \| 500 \| 1100 \| 900 \|/);
  assert.deepEqual(stormPhasesSection([storm("worker", 1, 10, false)]), []);
  assert.match(floorSection(runs).join("\n"), /Where each storm's time went/);
});
