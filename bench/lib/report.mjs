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

function failure(s) {
  let why = String(s.error ?? "").split("\n")[0].replace(/^Error: /, "").replace(/; see .*$/, "").slice(0, 90);
  if (/Too many open files/.test(s.error ?? "")) {
    why = `workerd crashed: too many open files (limit ${s.serverOpenFileLimit?.[1] ?? s.serverOpenFileLimit?.[0] ?? "?"}, ~4 per client)`;
  }
  const c = s.connect;
  const conn = c ? `${int(c.connected)} of ${int(s.n)} connected in ${fmt(c.seconds, 0)} s, then ` : "";
  return `failed: ${conn}${why}`;
}

function row(s) {
  if (!s.ok) return `| ${int(s.n)} | ${serverName(s)} | – | ${failure(s)} | | | | | | | | |`;
  const d = s.delivery;
  const l = s.latencyMs;
  const integrity = `${d.duplicates} / ${d.outOfOrder} / ${d.missing}`;
  const connected = s.connect.connected < s.n ? ` (${int(s.connect.connected)} connected)` : "";
  return (
    `| ${int(s.n)} | ${serverName(s)} | ${relaysOf(s)} | ${fmt(s.connect.seconds, 1)}${connected} | ` +
    `${fmt(l.p50)} | ${fmt(l.p99)} | ${fmt(l.max)} | ${int(d.delivered)} / ${int(d.expected)} | ${integrity} | ` +
    `${fmt(s.memory.perClientKiB)} | ${fmt(s.cpu.serverSecondsPerTick, 2)} | ${fmt(d.tickSpacingMs?.p50)} |`
  );
}

const HEADER =
  "| Clients | Server | Relays | Connect all (s) | p50 (ms) | p99 (ms) | max (ms) | Delivered / expected | Dup / out-of-order / missing | RSS per client (KiB) | Server CPU per tick (s) | Tick spacing p50 (ms) |\n" +
  "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

export function renderMarkdown(report) {
  const m = report.machine;
  const o = report.options;
  const sc = report.scenarios;
  const find = (server, scenario, n) => sc.find((s) => s.server === server && s.scenario === scenario && s.n === n && s.ok);
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
      `Worker: \`wrangler dev\` (local workerd) with a fresh --persist-to per scenario under ${o.persistRoot}, ` +
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
  lines.push("### Worker vs single-process baseline");
  lines.push("");
  lines.push(HEADER);
  for (const s of sc.filter((s) => s.scenario === "auto" || s.scenario === "baseline")) lines.push(row(s));
  lines.push("");

  const sizes = [...new Set(sc.filter((s) => s.scenario === "auto").map((s) => s.n))];
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

  const fanoutRuns = sc.filter((s) => s.server === "worker" && s.scenario !== "auto");
  const fanoutSizes = [...new Set(fanoutRuns.map((s) => s.n))];
  if (fanoutSizes.length) {
    lines.push("### Fan-out: direct RPC (before) vs relay tree (after)");
    lines.push("");
    lines.push("Hub fan-out = the hub's own `last_fanout.durationMs` from `/health` (publish → every RPC settled), median over the measured ticks.");
    lines.push("");
    lines.push("| Clients | Fan-out | Relays | p50 (ms) | p99 (ms) | max (ms) | Delivered / expected | Hub fan-out p50 (ms) | Server CPU per tick (s) | Tick spacing p50 (ms) |");
    lines.push("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const n of fanoutSizes) {
      const runs = [...sc.filter((s) => s.server === "worker" && s.n === n && s.scenario === "direct"), ...sc.filter((s) => s.server === "worker" && s.n === n && s.scenario === "auto"), ...sc.filter((s) => s.server === "worker" && s.n === n && s.scenario.startsWith("relays-"))];
      for (const s of runs) {
        const mode = s.scenario === "direct" ? "direct RPC (FANOUT_CHUNK=100000)" : s.scenario === "auto" ? "relay tree, auto sizing" : `relay tree, ${s.scenario.replace("relays-", "FANOUT_RELAYS=")}`;
        if (!s.ok) {
          lines.push(`| ${int(n)} | ${mode} | – | ${failure(s)} | | | | | | |`);
          continue;
        }
        lines.push(
          `| ${int(n)} | ${mode} | ${relaysOf(s)} | ${fmt(s.latencyMs.p50)} | ${fmt(s.latencyMs.p99)} | ${fmt(s.latencyMs.max)} | ` +
            `${int(s.delivery.delivered)} / ${int(s.delivery.expected)} | ${fmt(s.hubFanout?.durationMs?.p50)} | ${fmt(s.cpu.serverSecondsPerTick, 2)} | ${fmt(s.delivery.tickSpacingMs?.p50)} |`,
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
    lines.push(`| 1,000 clients: p99 < 150 ms | ${fmt(w1k.latencyMs.p99)} ms | ${yes(w1k.latencyMs.p99 < 150)} |`);
    lines.push(`| 1,000 clients: every frame delivered | ${int(w1k.delivery.delivered)} / ${int(w1k.delivery.expected)}, ${int(w1k.connect.connected)} of 1,000 connected | ${yes(allDelivered(w1k))} |`);
  } else {
    const failed1k = sc.find((s) => s.server === "worker" && s.scenario === "auto" && s.n === 1000);
    lines.push(failed1k ? `| 1,000 clients: p99 < 150 ms, all delivered | ${failure(failed1k)} | **no** |` : "| 1,000 clients | not run | – |");
  }
  if (w5k) {
    lines.push(`| 5,000 clients: p99 < 1 s | ${fmt(w5k.latencyMs.p99)} ms | ${yes(w5k.latencyMs.p99 < 1000)} |`);
    lines.push(`| 5,000 clients: every frame delivered | ${int(w5k.delivery.delivered)} / ${int(w5k.delivery.expected)}, ${int(w5k.connect.connected)} of 5,000 connected | ${yes(allDelivered(w5k))} |`);
    lines.push(`| 5,000 clients: connect < 60 s | ${fmt(w5k.connect.seconds, 1)} s | ${yes(w5k.connect.seconds < 60 && w5k.connect.connected === 5000)} |`);
  } else {
    const failed5k = sc.find((s) => s.server === "worker" && s.scenario === "auto" && s.n === 5000);
    lines.push(failed5k ? `| 5,000 clients: p99 < 1 s, all delivered, connect < 60 s | ${failure(failed5k)} | **no** |` : "| 5,000 clients | not run | – |");
    // The nearest size that did run (e.g. 4,800 when the open-file limit stops 5,000).
    const near = sc.filter((s) => s.ok && s.server === "worker" && s.scenario === "auto" && s.n >= 4000 && s.n < 5000).sort((a, b) => b.n - a.n)[0];
    if (near) {
      const n = int(near.n);
      lines.push(`| (${n} clients instead) p99 < 1 s | ${fmt(near.latencyMs.p99)} ms | ${yes(near.latencyMs.p99 < 1000)} |`);
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
