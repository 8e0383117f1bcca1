// Markdown rendering of a bench report (bench/results/latest.md and stdout).

const fmt = (x, d = 0) => (x == null || !Number.isFinite(x) ? "–" : x.toFixed(d));
const ratio = (a, b) => (a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? "–" : `${(a / b).toFixed(1)}×`);
const int = (x) => (x == null ? "–" : x.toLocaleString("en-US"));

function relaysOf(s) {
  if (s.server !== "worker") return "–";
  const r = s.hubFanout?.relays;
  return r && r.length ? r.join("/") : "?";
}

function serverName(s) {
  if (s.server === "baseline") return "Node `ws` baseline";
  if (s.scenario === "auto") return "Worker";
  if (s.scenario === "direct") return "Worker, direct RPC";
  return `Worker, ${s.scenario.replace("-", " = ")}`;
}

const STORAGE_NAMES = { disk: "disk", tmpfs: "tmpfs", memory: "memory" };

/** The Worker's Durable Object storage in a row (what ran, not what was asked). */
function storageOf(s) {
  if (s.server !== "worker") return "–";
  const name = STORAGE_NAMES[s.storage] ?? "disk"; // reports from before --storage: disk
  return s.storageFallbackFrom ? `${name} (${s.storageFallbackFrom} unavailable)` : name;
}

/** "in-memory storage: …" for the Targets table: which storage the row ran on, and why. */
function storagePhrase(s, info) {
  if (s.storage === "memory") {
    if (s.storageRequested === "auto") {
      const lim = info?.fdLimit ? info.fdLimit.toLocaleString("en-US") : "the limit";
      return `in-memory storage: wrangler dev cannot hold ${int(s.n)} clients here, ${info?.fdsPerClient ?? 4} fds each > ${lim}`;
    }
    return "in-memory storage (--storage memory)";
  }
  const name = s.storage === "tmpfs" ? "SQLite files on tmpfs" : "SQLite files on disk";
  if (s.storageOverFdLimit) return `${name}: over workerd's open-file limit, in-memory storage unavailable`;
  return name;
}

function failure(s) {
  if (s.skipped) return String(s.error ?? "not run").slice(0, 200);
  let why = String(s.error ?? "").split("\n")[0].replace(/^Error: /, "").replace(/; see .*$/, "").slice(0, 90);
  if (/Too many open files/.test(s.error ?? "")) {
    why = `workerd crashed: too many open files (limit ${s.serverOpenFileLimit?.[1] ?? s.serverOpenFileLimit?.[0] ?? "?"}, ~4 per client)`;
  }
  const c = s.connect;
  const conn = c ? `${int(c.connected)} of ${int(s.n)} connected in ${fmt(c.seconds, 0)} s, then ` : "";
  return `failed: ${conn}${why}`;
}

function row(s) {
  if (!s.ok) return `| ${int(s.n)} | ${serverName(s)} | ${storageOf(s)} | – | ${failure(s)} | | | | | | | | |`;
  const d = s.delivery;
  const l = s.latencyMs;
  const integrity = `${d.duplicates} / ${d.outOfOrder} / ${d.missing}`;
  const connected = s.connect.connected < s.n ? ` (${int(s.connect.connected)} connected)` : "";
  return (
    `| ${int(s.n)} | ${serverName(s)} | ${storageOf(s)} | ${relaysOf(s)} | ${fmt(s.connect.seconds, 1)}${connected} | ` +
    `${fmt(l.p50)} | ${fmt(l.p99)} | ${fmt(l.max)} | ${int(d.delivered)} / ${int(d.expected)} | ${integrity} | ` +
    `${fmt(s.memory.perClientKiB)} | ${fmt(s.cpu.serverSecondsPerTick, 2)} | ${fmt(d.tickSpacingMs?.p50)} |`
  );
}

const HEADER =
  "| Clients | Server | Storage | Relays | Connect all (s) | p50 (ms) | p99 (ms) | max (ms) | Delivered / expected | Dup / out-of-order / missing | RSS per client (KiB) | Server CPU per tick (s) | Tick spacing p50 (ms) |\n" +
  "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

function storageSizesOf(report) {
  const v = report.options?.storageSizes;
  return Array.isArray(v) ? v : [];
}

/** What was measured at 2,000 clients before --storage existed (same code, wrangler dev). */
const FSYNC_REFERENCE = "at 2,000 clients, measured before this option: disk connect 29.2 s, p99 507 ms; tmpfs 8.6 s, 425 ms";

/** One paragraph: what each storage mode is, why auto picks what it picks, with this run's numbers. */
function storageText(report) {
  const info = report.storage;
  const o = report.options ?? {};
  const parts = [];
  parts.push(
    `Storage (the Worker's Durable Objects; \`--storage ${o.storage ?? "disk"}\`): ` +
      `**disk** = \`wrangler dev --persist-to\` under ${o.persistRoot ?? "the tmp dir"}: local workerd commits each object's SQLite writes with an fsync, synchronously on its one thread, which production storage does not; ` +
      "**tmpfs** = the same wrangler dev and files under /dev/shm, without the disk fsync; " +
      "**memory** = the same bundle on Miniflare (same workerd) with workerd's in-memory Durable Object storage: no files, one workerd, no wrangler proxy.",
  );
  if (info) {
    const lim = Number.isFinite(info.fdLimit) ? info.fdLimit.toLocaleString("en-US") : String(info.fdLimit);
    parts.push(
      `On SQLite files workerd holds ~${info.fdsPerClient} file descriptors per client (socket, .sqlite, -wal, -shm), and its open-file limit here is ${lim}: ` +
        `auto runs tmpfs up to ${int(info.maxClientsOnFiles)} clients, memory above` +
        (info.memory && !info.memory.ok ? ` when it can. In-memory storage could not run here (${info.memory.reason}), so larger sizes ran on SQLite files anyway.` : "."),
    );
    if (info.tmpfs && !info.tmpfs.ok) parts.push(`tmpfs was unavailable (${info.tmpfs.reason}): those scenarios ran on disk.`);
  }
  // This run's own numbers, when it compared disk and tmpfs at some size.
  const sc = report.scenarios.filter((s) => s.ok && s.server === "worker" && s.scenario === "auto" && !s.storageFallbackFrom);
  const measured = [];
  for (const n of storageSizesOf(report)) {
    const by = (m) => sc.find((s) => s.n === n && s.storage === m);
    const got = ["disk", "tmpfs", "memory"].map((m) => [m, by(m)]).filter(([, s]) => s);
    if (got.length >= 2) measured.push(`at ${int(n)} clients: ${got.map(([m, s]) => `${m} connect ${fmt(s.connect.seconds, 1)} s, p99 ${fmt(s.latencyMs.p99)} ms`).join("; ")}`);
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
  const find = (server, scenario, n) => main.find((s) => s.server === server && s.scenario === scenario && s.n === n && s.ok);
  const lines = [];
  lines.push(`## Benchmark results (${report.finishedAt.slice(0, 19).replace("T", " ")} UTC)`);
  lines.push("");
  lines.push(
    `Machine: ${m.nproc} cores (\`nproc\`), ${m.cpuModel}, ${m.ramGiB} GiB RAM, ${m.platform}; Node ${report.clientNode} (bench clients, baseline, wrangler); ` +
      `open-file limit ${m.openFiles?.soft ?? "?"}. Shared, noisy machine: read the numbers as one run, not a guarantee.`,
  );
  lines.push(
    `Settings: simulated source, POLL_INTERVAL_MS=${o.intervalMs}, ${o.ticks} ticks measured per scenario after all clients connected, ` +
      `${o.concurrency} handshakes in flight, one \`currencies=USD\` socket per distinct \`client_id\`, all clients in one Node process with \`ws\`. ` +
      `Worker: local workerd, a fresh server and storage per scenario (Storage column, below), ` +
      (o.via === "proxy" ? "clients through wrangler's port (its proxy workerd in front of the Worker)" : "clients on the Worker's own runtime socket (wrangler's proxy workerd bypassed: production has no such hop)") +
      (o.localObservability ? ", wrangler's local trace store on (X_LOCAL_OBSERVABILITY)" : ", wrangler's local trace store off (X_LOCAL_OBSERVABILITY=false)") +
      `${report.workerBundleSha256 ? ", one pre-built bundle for every scenario" : ""}.` +
      (report.git?.head ? ` Code: ${report.git.head}${report.git.dirtyFiles ? ` + ${report.git.dirtyFiles} uncommitted files` : ""}.` : ""),
  );
  lines.push("");
  lines.push(
    "Latency = receive time − the frame's `time` (when the hub/baseline published the tick), over every live frame of the measured ticks (the snapshot at connect is excluded). " +
      "Expected = measured ticks × connected clients. RSS per client = (RSS after connecting − RSS before) / clients, summed over the server's processes (both workerd processes for the Worker). " +
      "Server CPU per tick = CPU seconds the server processes used during the measurement window / ticks. " +
      "Tick spacing = time between consecutive published ticks while measuring (the poll interval when fan-out keeps up; more when the hub's loop waits for its fan-out).",
  );
  lines.push("");
  lines.push(storageText(report));
  lines.push("");
  lines.push("### Worker vs single-process baseline");
  lines.push("");
  lines.push(HEADER);
  for (const s of main.filter((s) => s.scenario === "auto" || s.scenario === "baseline")) lines.push(row(s));
  lines.push("");

  const sizes = [...new Set(main.filter((s) => s.scenario === "auto").map((s) => s.n))];
  const withBaseline = sizes.filter((n) => find("baseline", "baseline", n) && find("worker", "auto", n));
  if (withBaseline.length) {
    lines.push("### Ratios (Worker / baseline; lower is better for all)");
    lines.push("");
    lines.push("| Clients | p50 | p99 | Connect all | RSS per client |");
    lines.push("|---:|---:|---:|---:|---:|");
    for (const n of withBaseline) {
      const w = find("worker", "auto", n);
      const b = find("baseline", "baseline", n);
      lines.push(
        `| ${int(n)} | ${ratio(w.latencyMs.p50, b.latencyMs.p50)} | ${ratio(w.latencyMs.p99, b.latencyMs.p99)} | ` +
          `${ratio(w.connect.seconds, b.connect.seconds)} | ${ratio(w.memory.perClientKiB, b.memory.perClientKiB)} |`,
      );
    }
    lines.push("");
  }

  const fanoutRuns = main.filter((s) => s.server === "worker" && s.scenario !== "auto");
  const fanoutSizes = [...new Set(fanoutRuns.map((s) => s.n))];
  if (fanoutSizes.length) {
    lines.push("### Fan-out: direct RPC (before) vs relay tree (after)");
    lines.push("");
    lines.push("Hub fan-out = the hub's own `last_fanout.durationMs` from `/health` (publish → every RPC settled), median over the measured ticks.");
    lines.push("");
    lines.push("| Clients | Fan-out | Storage | Relays | p50 (ms) | p99 (ms) | max (ms) | Delivered / expected | Hub fan-out p50 (ms) | Server CPU per tick (s) | Tick spacing p50 (ms) |");
    lines.push("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const n of fanoutSizes) {
      const w = main.filter((s) => s.server === "worker" && s.n === n);
      const runs = [...w.filter((s) => s.scenario === "direct"), ...w.filter((s) => s.scenario === "auto"), ...w.filter((s) => s.scenario.startsWith("relays-"))];
      for (const s of runs) {
        const mode = s.scenario === "direct" ? "direct RPC (FANOUT_CHUNK=100000)" : s.scenario === "auto" ? "relay tree, auto sizing" : `relay tree, ${s.scenario.replace("relays-", "FANOUT_RELAYS=")}`;
        if (!s.ok) {
          lines.push(`| ${int(n)} | ${mode} | ${storageOf(s)} | – | ${failure(s)} | | | | | | |`);
          continue;
        }
        lines.push(
          `| ${int(n)} | ${mode} | ${storageOf(s)} | ${relaysOf(s)} | ${fmt(s.latencyMs.p50)} | ${fmt(s.latencyMs.p99)} | ${fmt(s.latencyMs.max)} | ` +
            `${int(s.delivery.delivered)} / ${int(s.delivery.expected)} | ${fmt(s.hubFanout?.durationMs?.p50)} | ${fmt(s.cpu.serverSecondsPerTick, 2)} | ${fmt(s.delivery.tickSpacingMs?.p50)} |`,
        );
      }
    }
    lines.push("");
  }

  const compared = sc.filter((s) => s.server === "worker" && s.scenario === "auto" && (s.comparison === "storage" || storageSizesOf(report).includes(s.n)));
  const compareSizes = storageSizesOf(report).filter((n) => compared.some((s) => s.n === n));
  if (compareSizes.length) {
    lines.push("### Storage: disk vs tmpfs vs memory");
    lines.push("");
    lines.push("The same bundle with the relay tree's auto sizing; only where the Durable Objects keep their storage changes (see Storage above). Open files = the user workerd's, per connected client.");
    lines.push("");
    lines.push("| Clients | Storage | Connect all (s) | p50 (ms) | p99 (ms) | Delivered / expected | Server CPU per tick (s) | Hub fan-out p50 (ms) | Open files per client |");
    lines.push("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    for (const n of compareSizes) {
      for (const mode of ["disk", "tmpfs", "memory"]) {
        // A main run with that storage counts; an extra comparison run otherwise.
        const s = compared.find((x) => x.n === n && x.storage === mode && x.ok && !x.storageFallbackFrom) ?? compared.find((x) => x.n === n && (x.storage === mode || x.storageRequested === mode) && x.comparison);
        if (!s) continue;
        if (!s.ok) {
          lines.push(`| ${int(n)} | ${mode} | ${failure(s)} | | | | | | |`);
          continue;
        }
        lines.push(
          `| ${int(n)} | ${storageOf(s)} | ${fmt(s.connect.seconds, 1)} | ${fmt(s.latencyMs.p50)} | ${fmt(s.latencyMs.p99)} | ` +
            `${int(s.delivery.delivered)} / ${int(s.delivery.expected)} | ${fmt(s.cpu.serverSecondsPerTick, 2)} | ${fmt(s.hubFanout?.durationMs?.p50)} | ${fmt(s.openFiles?.perClient, 1)} |`,
        );
      }
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
        `- ${int(s.n)} clients, ${s.scenario}: JS thread busy ${fmt(100 - p.idlePct)}% of ${fmt(p.sampledMs / 1000, 1)} s (GC ${fmt(p.gcMs)} ms). ` +
          `Top self time: ${p.topSelf.filter((x) => x.fn !== "(idle)").slice(0, 8).map((x) => `\`${x.fn}\` ${x.pct}%`).join(", ")}.`,
      );
    }
    lines.push("");
  }

  lines.push("### Targets (issue 7)");
  lines.push("");
  lines.push("| Target | Measured | Reached |");
  lines.push("|---|---|---|");
  const allDelivered = (s) => s.delivery.delivered === s.delivery.expected && s.connect.connected === s.n && s.delivery.duplicates === 0;
  const w1k = find("worker", "auto", 1000);
  const w5k = find("worker", "auto", 5000);
  const b1k = find("baseline", "baseline", 1000);
  const yes = (c) => (c ? "yes" : "**no**");
  if (w1k) {
    lines.push(`| 1,000 clients: p99 < 150 ms | ${fmt(w1k.latencyMs.p99)} ms (${storagePhrase(w1k, report.storage)}) | ${yes(w1k.latencyMs.p99 < 150)} |`);
    lines.push(`| 1,000 clients: every frame delivered | ${int(w1k.delivery.delivered)} / ${int(w1k.delivery.expected)}, ${int(w1k.connect.connected)} of 1,000 connected | ${yes(allDelivered(w1k))} |`);
  } else {
    const failed1k = sc.find((s) => s.server === "worker" && s.scenario === "auto" && s.n === 1000);
    lines.push(failed1k ? `| 1,000 clients: p99 < 150 ms, all delivered | ${failure(failed1k)} | **no** |` : "| 1,000 clients | not run | – |");
  }
  if (w5k) {
    const on = ` (${storagePhrase(w5k, report.storage)})`;
    lines.push(`| 5,000 clients: p99 < 1 s | ${fmt(w5k.latencyMs.p99)} ms${on} | ${yes(w5k.latencyMs.p99 < 1000)} |`);
    lines.push(`| 5,000 clients: every frame delivered | ${int(w5k.delivery.delivered)} / ${int(w5k.delivery.expected)}, ${int(w5k.connect.connected)} of 5,000 connected | ${yes(allDelivered(w5k))} |`);
    lines.push(`| 5,000 clients: connect < 60 s | ${fmt(w5k.connect.seconds, 1)} s | ${yes(w5k.connect.seconds < 60 && w5k.connect.connected === 5000)} |`);
  } else {
    const failed5k = main.find((s) => s.server === "worker" && s.scenario === "auto" && s.n === 5000);
    lines.push(failed5k ? `| 5,000 clients: p99 < 1 s, all delivered, connect < 60 s | ${failure(failed5k)} (${storagePhrase(failed5k, report.storage)}) | **no** |` : "| 5,000 clients | not run | – |");
    // The nearest size that did run (e.g. 4,800 when the open-file limit stops 5,000 on files).
    const near = main.filter((s) => s.ok && s.server === "worker" && s.scenario === "auto" && s.n >= 4000 && s.n < 5000).sort((a, b) => b.n - a.n)[0];
    if (near) {
      const n = int(near.n);
      lines.push(`| (${n} clients instead) p99 < 1 s | ${fmt(near.latencyMs.p99)} ms (${storagePhrase(near, report.storage)}) | ${yes(near.latencyMs.p99 < 1000)} |`);
      lines.push(`| (${n} clients instead) every frame delivered | ${int(near.delivery.delivered)} / ${int(near.delivery.expected)}, ${int(near.connect.connected)} of ${n} connected | ${yes(allDelivered(near))} |`);
      lines.push(`| (${n} clients instead) connect < 60 s | ${fmt(near.connect.seconds, 1)} s | ${yes(near.connect.seconds < 60 && near.connect.connected === near.n)} |`);
    }
  }
  if (w1k && b1k) {
    const r = w1k.latencyMs.p99 / b1k.latencyMs.p99;
    lines.push(`| p99 within 5× of the baseline at 1,000 | ${fmt(w1k.latencyMs.p99)} vs ${fmt(b1k.latencyMs.p99)} ms = ${ratio(w1k.latencyMs.p99, b1k.latencyMs.p99)} | ${yes(r <= 5)} |`);
  }
  lines.push("");
  lines.push(`Full data (per-tick latency spread, hub fan-out per tick, CPU per process, connect failures): \`bench/results/${report.finishedAt.replace(/[:]/g, "-").replace(/\..*/, "Z")}.json\`.`);
  lines.push("");
  return lines.join("\n");
}
