// The feed against the floor (bench/floor): fan-out p99 and reconnect-storm time as ratios to the
// floor's, from runs that alternated feed and floor in the same bench run.

/** The floor that also resumes as the feed's contract asks (bench/floor, FLOOR_RESUME=1): a storm reference. */
export const RESUMING_FLOOR = "floor-resume";

/** Targets: the feed may cost this much more than the floor. */
export const FLOOR_TARGETS = { fanoutP99: 1.3, storm: 1.5 };

export function median(values) {
  const s = values.filter((x) => x != null && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const ratioOf = (a, b) => (a == null || b == null || !(b > 0) ? null : a / b);

/**
 * Per client count: the feed's and the floor's values per round (fan-out p99 over every frame of
 * the measured ticks; storm = server ready → every client's first live price again) and the ratio
 * of their medians. A failed run counts as no value (and its size as not judged).
 */
export function floorRatios(scenarios) {
  const runs = scenarios.filter((s) => s.comparison === "floor");
  const sizes = [...new Set(runs.map((s) => s.n))].sort((a, b) => a - b);
  return sizes.map((n) => {
    const at = runs.filter((s) => s.n === n);
    const values = (server, scenario, pick) =>
      at
        .filter((s) => s.server === server && s.scenario === scenario)
        .sort((a, b) => (a.round ?? 0) - (b.round ?? 0))
        .map((s) => (s.ok ? pick(s) : null));
    const side = (scenario, pick, server = "worker", reference = "floor") => {
      const feed = values(server, scenario, pick);
      const floor = values(reference, scenario, pick);
      return { feed, floor, ratio: ratioOf(median(feed), median(floor)) };
    };
    const stormMs = (s) => s.storm?.stormMs ?? null;
    const resuming = at.some((s) => s.server === RESUMING_FLOOR);
    return {
      n,
      substituteFor: at.find((s) => s.substituteFor)?.substituteFor ?? [],
      fanoutP99: side("floor-cmp", (s) => s.latencyMs?.p99 ?? null),
      storm: side("storm", stormMs),
      // The resuming floor: the feed against what its contract alone costs, and that against the floor.
      ...(resuming
        ? {
            stormVsResuming: side("storm", stormMs, "worker", RESUMING_FLOOR),
            resumingVsFloor: side("storm", stormMs, RESUMING_FLOOR, "floor"),
          }
        : {}),
    };
  });
}

const ms = (xs) => xs.map((x) => (x == null ? "failed" : `${Math.round(x)}`)).join(", ");
const times = (r) => (r == null ? "–" : `${r.toFixed(2)}×`);

/** The markdown section (empty when the run had no floor comparison). */
export function floorSection(scenarios, { stormIntervalMs } = {}) {
  const rows = floorRatios(scenarios);
  if (rows.length === 0) return [];
  const lines = [
    "### Against the floor (bench/floor)",
    "",
    "The floor is the feed's topology doing nothing but forwarding one frame per tick (a hub with an alarm loop, " +
      "the same shard tree, one object per client), run in the same bench run, alternating with the feed. " +
      "Fan-out = p99 of tick → receive over every frame of the measured ticks. Storm = the server stopped and " +
      "started again on the same persist folder, every client reconnecting at once with its last_seq: server ready → " +
      `the last client's first live price${stormIntervalMs ? ` (polls every ${stormIntervalMs} ms)` : ""}. ` +
      "Ratio = median of the feed's runs / median of the floor's. The resuming floor (when run) is the floor plus " +
      "the least the feed's contract asks of a reconnect after a restart: a register call at once that brings the " +
      "missed ticks, a welcome, those ticks and a replay_end, and one durable write.",
    "",
    "| Clients | Measure | Measured, per round (ms) | Against, per round (ms) | Ratio | Target |",
    "|---:|---|---:|---:|---:|---:|",
  ];
  const row = (size, measure, side, target) =>
    `| ${size} | ${measure} | ${ms(side.feed)} | ${ms(side.floor)} | ${times(side.ratio)} | ${target} |`;
  for (const r of rows) {
    const size = r.substituteFor.length ? `${r.n} (for ${r.substituteFor.join(", ")})` : `${r.n}`;
    lines.push(row(size, "fan-out p99, feed / floor", r.fanoutP99, `≤ ${FLOOR_TARGETS.fanoutP99}×`));
    lines.push(row(size, "reconnect storm, feed / floor", r.storm, `≤ ${FLOOR_TARGETS.storm}×`));
    if (r.stormVsResuming) {
      lines.push(row(size, "storm, feed / resuming floor", r.stormVsResuming, "–"));
      lines.push(row(size, "storm, resuming floor / floor", r.resumingVsFloor, "–"));
    }
  }
  lines.push("", ...stormPhasesSection(scenarios));
  return lines;
}

/** The phases of a storm, from ready (lib/storm.mjs): [label, phase, statistic]. */
const STORM_PHASES = [
  ["101, p50", "opened", "p50"],
  ["last 101", "opened", "max"],
  ["last replay end", "live", "max"],
  ["first live tick published, p50", "firstLivePublished", "p50"],
  ["last client live", "firstLive", "max"],
];

/**
 * Where a storm's time went, feed and floor side by side: each phase's median over the rounds, and the
 * server's CPU over the storm (near its wall time: the runtime's one thread was busy all along).
 */
export function stormPhasesSection(scenarios) {
  const runs = scenarios.filter((s) => s.comparison === "floor" && s.scenario === "storm" && s.ok && s.storm);
  if (runs.length === 0) return [];
  const lines = [
    "Where each storm's time went (ms from ready, median over the rounds):",
    "",
    `| Clients | Server | ${STORM_PHASES.map(([label]) => label).join(" | ")} | server CPU |`,
    `|---:|---|${STORM_PHASES.map(() => "---:|").join("")}---:|`,
  ];
  for (const n of [...new Set(runs.map((s) => s.n))].sort((a, b) => a - b)) {
    for (const server of ["worker", RESUMING_FLOOR, "floor"]) {
      const mine = runs.filter((s) => s.n === n && s.server === server);
      if (mine.length === 0) continue;
      const cell = (pick) => {
        const m = median(mine.map(pick));
        return m == null ? "–" : `${Math.round(m)}`;
      };
      const phases = STORM_PHASES.map(([, phase, stat]) => cell((s) => s.storm.phasesFromReadyMs?.[phase]?.[stat]));
      const name = { worker: "feed", [RESUMING_FLOOR]: "resuming floor", floor: "floor" }[server];
      lines.push(`| ${n} | ${name} | ${phases.join(" | ")} | ${cell((s) => s.storm.serverCpuMs)} |`);
    }
  }
  lines.push("");
  return lines;
}

/** Rows for the Targets table: [target, measured, reached]. */
export function floorTargetRows(scenarios) {
  return floorRatios(scenarios).flatMap((r) => [
    [
      `${r.n} clients: fan-out p99 ≤ ${FLOOR_TARGETS.fanoutP99}× the floor's`,
      times(r.fanoutP99.ratio),
      r.fanoutP99.ratio != null && r.fanoutP99.ratio <= FLOOR_TARGETS.fanoutP99,
    ],
    [
      `${r.n} clients: reconnect storm ≤ ${FLOOR_TARGETS.storm}× the floor's`,
      times(r.storm.ratio),
      r.storm.ratio != null && r.storm.ratio <= FLOOR_TARGETS.storm,
    ],
  ]);
}
