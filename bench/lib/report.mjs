// Markdown rendering of a bench report (bench/results/latest.md and stdout).
import { floorSection, floorTargetRows } from "./floor-report.mjs";

const fmt = (x, d = 0) => (x == null || !Number.isFinite(x) ? "–" : x.toFixed(d));
const ratio = (a, b) =>
  a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? "–" : `${(a / b).toFixed(1)}×`;
const int = (x) => (x == null ? "–" : x.toLocaleString("en-US"));

/** Shards the hub's fan-out reached (results from before the tree called them relays). */
function shardsOf(s) {
  if (s.server !== "worker") return "–";
  const r = s.hubFanout?.shards ?? s.hubFanout?.relays;
  return r?.length ? r.join("/") : "?";
}

function serverName(s) {
  if (s.server === "baseline") return "Node `ws` baseline";
  if (s.server === "floor") return "floor";
  if (s.scenario === "auto") return "Worker";
  if (s.scenario === "direct") return "Worker, one unsplit shard";
  return `Worker, ${s.scenario.replace("-", " = ")}`;
}

/** "4,800 (for 5,000)" when a run stands in for a size that did not fit the open-file limit. */
function sizeOf(s) {
  const f = s.substituteFor ?? [];
  return f.length ? `${int(s.n)} (for ${f.map(int).join(", ")})` : int(s.n);
}

/** The Worker's Durable Object storage in a row (what ran, not what was asked). */
function storageOf(s) {
  if (s.server !== "worker" || (s.skipped && !s.storage)) return "–";
  const name = s.storage ?? "disk"; // reports from before --storage: disk
  return s.storageFallbackFrom ? `${name} (${s.storageFallbackFrom} unavailable)` : name;
}

/** For the Targets table: which storage the row ran on. */
function storagePhrase(s) {
  const name = s.storage === "tmpfs" ? "SQLite files on tmpfs" : "SQLite files on disk";
  return s.storageFallbackFrom ? `${name}, ${s.storageFallbackFrom} unavailable` : name;
}

function failure(s) {
  if (s.skipped) return String(s.error ?? "not run").slice(0, 200);
  let why = String(s.error ?? "")
    .split("\n")[0]
    .replace(/^Error: /, "")
    .replace(/; see .*$/, "")
    .slice(0, 90);
  if (/Too many open files/.test(s.error ?? "")) {
    const limit = s.serverOpenFileLimit?.[1] ?? s.serverOpenFileLimit?.[0] ?? "?";
    why = `workerd crashed: too many open files (limit ${limit}, ~4 per client)`;
  }
  const c = s.connect;
  const conn = c ? `${int(c.connected)} of ${int(s.n)} connected in ${fmt(c.seconds, 0)} s, then ` : "";
  return `failed: ${conn}${why}`;
}

function row(s) {
  if (!s.ok) return `| ${sizeOf(s)} | ${serverName(s)} | ${storageOf(s)} | – | ${failure(s)} | | | | | | | | |`;
  const d = s.delivery;
  const l = s.latencyMs;
  const integrity = `${d.duplicates} / ${d.outOfOrder} / ${d.missing}`;
  const connected = s.connect.connected < s.n ? ` (${int(s.connect.connected)} connected)` : "";
  return (
    `| ${sizeOf(s)} | ${serverName(s)} | ${storageOf(s)} | ${shardsOf(s)} | ` +
    `${fmt(s.connect.seconds, 1)}${connected} | ` +
    `${fmt(l.p50)} | ${fmt(l.p99)} | ${fmt(l.max)} | ${int(d.delivered)} / ${int(d.expected)} | ${integrity} | ` +
    `${fmt(s.memory.perClientKiB)} | ${fmt(s.cpu.serverSecondsPerTick, 2)} | ${fmt(d.tickSpacingMs?.p50)} |`
  );
}

const HEADER =
  "| Clients | Server | Storage | Shards | Connect all (s) | p50 (ms) | p99 (ms) | max (ms) | " +
  "Delivered / expected | Dup / out-of-order / missing | RSS per client (KiB) | " +
  "Server CPU per tick (s) | Tick spacing p50 (ms) |\n" +
  "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

function storageSizesOf(report) {
  const v = report.options?.storageSizes;
  return Array.isArray(v) ? v : [];
}

/** What was measured at 2,000 clients before --storage existed (same code, wrangler dev). */
const FSYNC_REFERENCE =
  "at 2,000 clients, measured before this option: disk connect 29.2 s, p99 507 ms; tmpfs 8.6 s, 425 ms";

/**
 * Rows of the disk vs tmpfs table: per requested storage size, disk then tmpfs, then the same at
 * the size that ran in its place when it did not fit the open-file limit. A main run at that size
 * on that storage counts (the bench reuses it).
 */
function storageRows(report) {
  const cand = report.scenarios.filter(
    (s) => s.server === "worker" && s.scenario === "auto" && (!s.comparison || s.comparison === "storage"),
  );
  const sizes = [];
  for (const n of storageSizesOf(report)) {
    sizes.push(n);
    const sub = cand.find((s) => s.n === n && s.comparison === "storage" && s.substitutedBy)?.substitutedBy;
    if (sub) sizes.push(sub);
  }
  const rows = [];
  for (const n of new Set(sizes)) {
    for (const mode of ["disk", "tmpfs"]) {
      const at = cand.filter((x) => x.n === n && (x.storage === mode || (x.comparison && x.storageRequested === mode)));
      const s = at.find((x) => x.ok && x.storage === mode) ?? at[0];
      if (s) rows.push({ n, mode, s });
    }
  }
  return rows;
}

/** One paragraph: what each storage mode is, the open-file budget, with this run's numbers. */
function storageText(report) {
  const info = report.storage;
  const fd = report.openFiles;
  const o = report.options ?? {};
  const parts = [];
  parts.push(
    `Storage (the Worker's Durable Objects; \`--storage ${o.storage ?? "disk"}\`): ` +
      `**disk** = \`wrangler dev --persist-to\` under ${o.persistRoot ?? "the tmp dir"}: ` +
      "local workerd commits each object's SQLite writes with an fsync, synchronously on its one thread, " +
      "which production storage does not; " +
      "**tmpfs** = the same wrangler dev and files under /dev/shm, without the disk fsync; " +
      "auto = tmpfs when /dev/shm is a writable tmpfs.",
  );
  if (info?.tmpfs && !info.tmpfs.ok)
    parts.push(`tmpfs was unavailable (${info.tmpfs.reason}): those scenarios ran on disk.`);
  if (fd) {
    const lim = Number.isFinite(fd.limit) ? fd.limit.toLocaleString("en-US") : String(fd.limit);
    parts.push(
      `workerd holds ~${fd.fdsPerClient} file descriptors per client (socket, SQLite .sqlite, -wal, -shm) ` +
        `and may open ${lim} here` +
        (fd.overridden ? " (--fd-limit)" : "") +
        `: a size needing more than ${fd.fdsPerClient} per client + ${fd.fdMargin} is not started, ` +
        "and the largest that fits" +
        (fd.substituteSize ? ` (${int(fd.substituteSize)} here)` : "") +
        ' runs in its place, for the Worker and the baseline, labelled "(for N)".',
    );
  }
  // This run's own numbers, when it compared disk and tmpfs at some size.
  const rows = storageRows(report).filter(({ mode, s }) => s.ok && s.storage === mode && !s.storageFallbackFrom);
  const measured = [];
  for (const n of new Set(rows.map((r) => r.n))) {
    const got = rows.filter((r) => r.n === n);
    if (got.length === 2)
      measured.push(
        `at ${sizeOf(got[0].s)} clients: ` +
          got
            .map(({ mode, s }) => `${mode} connect ${fmt(s.connect.seconds, 1)} s, p99 ${fmt(s.latencyMs.p99)} ms`)
            .join("; "),
      );
  }
  parts.push(`Effect of the fsync: ${measured.length ? `this run, ${measured.join(" / ")}` : FSYNC_REFERENCE}.`);
  return parts.join(" ");
}

export function renderMarkdown(report) {
  const m = report.machine;
  const o = report.options;
  const sc = report.scenarios;
  // Rows of the storage comparison (extra runs at --storage-sizes) appear only in its own table.
  const main = sc.filter((s) => !s.comparison);
  const find = (server, scenario, n) =>
    main.find((s) => s.server === server && s.scenario === scenario && s.n === n && s.ok);
  const lines = [];
  lines.push(`## Benchmark results (${report.finishedAt.slice(0, 19).replace("T", " ")} UTC)`);
  lines.push("");
  lines.push(
    `Machine: ${m.nproc} cores (\`nproc\`), ${m.cpuModel}, ${m.ramGiB} GiB RAM, ${m.platform}; ` +
      `Node ${report.clientNode} (bench clients, baseline, wrangler); ` +
      `open-file limit ${m.openFiles?.soft ?? "?"}. ` +
      "Shared, noisy machine: read the numbers as one run, not a guarantee.",
  );
  lines.push(
    `Settings: simulated source, POLL_INTERVAL_MS=${o.intervalMs}, ` +
      `${o.ticks} ticks measured per scenario after all clients connected, ` +
      `${o.concurrency} handshakes in flight, one \`currencies=USD\` socket per distinct \`client_id\`, ` +
      "all clients in one Node process: the client library (`btc-pricefeed/client`) on `ws` sockets. " +
      `Worker: local workerd, a fresh server and storage per scenario (Storage column, below), ` +
      (o.via === "proxy"
        ? "clients through wrangler's port (its proxy workerd in front of the Worker)"
        : "clients on the Worker's own runtime socket " +
          "(wrangler's proxy workerd bypassed: production has no such hop)") +
      (o.localObservability
        ? ", wrangler's local trace store on (X_LOCAL_OBSERVABILITY)"
        : ", wrangler's local trace store off (X_LOCAL_OBSERVABILITY=false)") +
      `${report.workerBundleSha256 ? ", one pre-built bundle for every scenario" : ""}.` +
      (report.git?.head
        ? " Code: the commit in the JSON's `git`" +
          `${report.git.dirtyFiles ? ` + ${report.git.dirtyFiles} uncommitted files` : ""}.`
        : ""),
  );
  lines.push("");
  lines.push(
    "Latency = receive time − the frame's `time` (when the hub/baseline published the tick), " +
      "over every live frame of the measured ticks (the snapshot at connect is excluded). " +
      "Expected = measured ticks × connected clients. " +
      "RSS per client = (RSS after connecting − RSS before) / clients, " +
      "summed over the server's processes (both workerd processes for the Worker). " +
      "Server CPU per tick = CPU seconds the server processes used during the measurement window / ticks. " +
      "Tick spacing = time between consecutive published ticks while measuring " +
      "(the poll interval when fan-out keeps up; more when the hub's loop waits for its fan-out).",
  );
  lines.push("");
  lines.push(storageText(report));
  lines.push("");
  lines.push("### Worker vs single-process baseline");
  lines.push("");
  lines.push(HEADER);
  for (const s of main.filter((s) => s.scenario === "auto" || s.scenario === "baseline")) lines.push(row(s));
  lines.push("");

  // Worker and baseline at the same size (a substitute size included: the baseline ran it too).
  const withBaseline = main.filter(
    (s) => s.ok && s.server === "worker" && s.scenario === "auto" && find("baseline", "baseline", s.n),
  );
  if (withBaseline.length) {
    lines.push("### Ratios (Worker / baseline; lower is better for all)");
    lines.push("");
    lines.push("| Clients | p50 | p99 | Connect all | RSS per client |");
    lines.push("|---:|---:|---:|---:|---:|");
    for (const w of withBaseline) {
      const b = find("baseline", "baseline", w.n);
      lines.push(
        `| ${sizeOf(w)} | ${ratio(w.latencyMs.p50, b.latencyMs.p50)} | ${ratio(w.latencyMs.p99, b.latencyMs.p99)} | ` +
          `${ratio(w.connect.seconds, b.connect.seconds)} | ${ratio(w.memory.perClientKiB, b.memory.perClientKiB)} |`,
      );
    }
    lines.push("");
  }

  const fanoutRuns = main.filter((s) => s.server === "worker" && s.scenario !== "auto");
  const fanoutSizes = [...new Set(fanoutRuns.map((s) => s.n))];
  if (fanoutSizes.length) {
    lines.push("### Fan-out: one unsplit shard vs the tree");
    lines.push("");
    lines.push(
      "Hub fan-out = the hub's own `last_fanout.durationMs` from `/health` (publish → every RPC settled), " +
        "median over the measured ticks.",
    );
    lines.push("");
    lines.push(
      "| Clients | Fan-out | Storage | Shards | p50 (ms) | p99 (ms) | max (ms) | Delivered / expected | " +
        "Hub fan-out p50 (ms) | Server CPU per tick (s) | Tick spacing p50 (ms) |",
    );
    lines.push("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const n of fanoutSizes) {
      const w = main.filter((s) => s.server === "worker" && s.n === n);
      const runs = [...w.filter((s) => s.scenario === "direct"), ...w.filter((s) => s.scenario === "auto")];
      for (const s of runs) {
        const mode =
          s.scenario === "direct" ? "one unsplit shard (FANOUT_CHUNK=100000)" : `the tree (FANOUT_CHUNK default)`;
        if (!s.ok) {
          lines.push(`| ${sizeOf(s)} | ${mode} | ${storageOf(s)} | – | ${failure(s)} | | | | | | |`);
          continue;
        }
        lines.push(
          `| ${sizeOf(s)} | ${mode} | ${storageOf(s)} | ${shardsOf(s)} | ` +
            `${fmt(s.latencyMs.p50)} | ${fmt(s.latencyMs.p99)} | ${fmt(s.latencyMs.max)} | ` +
            `${int(s.delivery.delivered)} / ${int(s.delivery.expected)} | ${fmt(s.hubFanout?.durationMs?.p50)} | ` +
            `${fmt(s.cpu.serverSecondsPerTick, 2)} | ${fmt(s.delivery.tickSpacingMs?.p50)} |`,
        );
      }
    }
    lines.push("");
  }

  const stRows = storageRows(report);
  if (stRows.length) {
    lines.push("### Storage: disk vs tmpfs");
    lines.push("");
    lines.push(
      "The same bundle with the default FANOUT_CHUNK; " +
        "only where the Durable Objects keep their storage changes (see Storage above). " +
        "Open files = the user workerd's, per connected client.",
    );
    lines.push("");
    lines.push(
      "| Clients | Storage | Connect all (s) | p50 (ms) | p99 (ms) | Delivered / expected | " +
        "Server CPU per tick (s) | Hub fan-out p50 (ms) | Open files per client |",
    );
    lines.push("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    for (const { mode, s } of stRows) {
      if (!s.ok) {
        lines.push(`| ${sizeOf(s)} | ${mode} | ${failure(s)} | | | | | | |`);
        continue;
      }
      lines.push(
        `| ${sizeOf(s)} | ${storageOf(s)} | ${fmt(s.connect.seconds, 1)} | ` +
          `${fmt(s.latencyMs.p50)} | ${fmt(s.latencyMs.p99)} | ` +
          `${int(s.delivery.delivered)} / ${int(s.delivery.expected)} | ${fmt(s.cpu.serverSecondsPerTick, 2)} | ` +
          `${fmt(s.hubFanout?.durationMs?.p50)} | ${fmt(s.openFiles?.perClient, 1)} |`,
      );
    }
    lines.push("");
  }

  const profiled = sc.filter((s) => s.ok && s.profile);
  if (profiled.length) {
    lines.push("### CPU profile of the Worker's isolate during the measured ticks (--profile)");
    lines.push("");
    lines.push("The profiler itself slows the isolate: latency in profiled runs is higher than without it.");
    lines.push("");
    for (const s of profiled) {
      const p = s.profile;
      lines.push(
        `- ${sizeOf(s)} clients, ${s.scenario}: ` +
          `JS thread busy ${fmt(100 - p.idlePct)}% of ${fmt(p.sampledMs / 1000, 1)} s (GC ${fmt(p.gcMs)} ms). ` +
          `Top self time: ${p.topSelf
            .filter((x) => x.fn !== "(idle)")
            .slice(0, 8)
            .map((x) => `\`${x.fn}\` ${x.pct}%`)
            .join(", ")}.`,
      );
    }
    lines.push("");
  }

  lines.push(...floorSection(sc, { stormIntervalMs: o.stormIntervalMs }));

  lines.push("### Targets");
  lines.push("");
  lines.push("| Target | Measured | Reached |");
  lines.push("|---|---|---|");
  const allDelivered = (s) =>
    s.delivery.delivered === s.delivery.expected && s.connect.connected === s.n && s.delivery.duplicates === 0;
  const yes = (c) => (c ? "yes" : "**no**");
  const p99Below = (ms) => ({
    label: ms >= 1000 ? `p99 < ${ms / 1000} s` : `p99 < ${ms} ms`,
    measured: (s) => `${fmt(s.latencyMs.p99)} ms (${storagePhrase(s)})`,
    ok: (s) => s.latencyMs.p99 < ms,
  });
  const everyFrame = {
    label: "every frame delivered",
    measured: (s) =>
      `${int(s.delivery.delivered)} / ${int(s.delivery.expected)}, ` +
      `${int(s.connect.connected)} of ${int(s.n)} connected`,
    ok: allDelivered,
  };
  const connectBelow = (sec) => ({
    label: `connect < ${sec} s`,
    measured: (s) => `${fmt(s.connect.seconds, 1)} s`,
    ok: (s) => s.connect.seconds < sec && s.connect.connected === s.n,
  });
  /**
   * The rows of one size's targets. A size that did not fit the open-file limit is a **no** with
   * that reason, followed by the size that ran in its place, judged by the same thresholds.
   * Returns the Worker run the targets were judged on (for the baseline ratio), or null.
   */
  const targetsAt = (N, checks) => {
    const all = checks.map((c) => c.label).join(", ");
    const judge = (s, who) => {
      if (!s.ok) {
        lines.push(`| ${who}: ${all} | ${failure(s)} (${storagePhrase(s)}) | **no** |`);
        return null;
      }
      for (const c of checks) lines.push(`| ${who}: ${c.label} | ${c.measured(s)} | ${yes(c.ok(s))} |`);
      return s;
    };
    const r =
      main.find((s) => s.server === "worker" && s.scenario === "auto" && s.n === N && s.ok) ??
      main.find((s) => s.server === "worker" && s.scenario === "auto" && s.n === N);
    if (!r) {
      lines.push(`| ${int(N)} clients | not run | – |`);
      return null;
    }
    if (!(r.skipped && r.skipReason === "open-files")) return judge(r, `${int(N)} clients`);
    lines.push(
      `| ${int(N)} clients: ${all} | ${r.error} — the open-file limit of this container, not the feed | **no** |`,
    );
    const sub = main.find(
      (s) =>
        s.server === "worker" &&
        s.scenario === "auto" &&
        s.n === r.substitutedBy &&
        (s.substituteFor ?? []).includes(N),
    );
    return sub ? judge(sub, `${int(sub.n)} clients (for ${int(N)})`) : null;
  };
  const w1k = targetsAt(1000, [p99Below(150), everyFrame]);
  targetsAt(5000, [p99Below(1000), everyFrame, connectBelow(60)]);
  const b1k = w1k && find("baseline", "baseline", w1k.n);
  if (w1k && b1k) {
    const r = w1k.latencyMs.p99 / b1k.latencyMs.p99;
    lines.push(
      `| p99 within 5× of the baseline at ${sizeOf(w1k)} | ` +
        `${fmt(w1k.latencyMs.p99)} vs ${fmt(b1k.latencyMs.p99)} ms = ` +
        `${ratio(w1k.latencyMs.p99, b1k.latencyMs.p99)} | ` +
        `${yes(r <= 5)} |`,
    );
  }
  for (const [target, measured, ok] of floorTargetRows(sc)) lines.push(`| ${target} | ${measured} | ${yes(ok)} |`);
  lines.push("");
  lines.push(
    "Full data (per-tick latency spread, hub fan-out per tick, CPU per process, connect failures): " +
      `\`${report.options?.out ?? "bench/results"}/` +
      `${report.finishedAt.replace(/[:]/g, "-").replace(/\..*/, "Z")}.json\`.`,
  );
  lines.push("");
  return lines.join("\n");
}
