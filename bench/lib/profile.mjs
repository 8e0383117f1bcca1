// Optional CPU profile of the Worker's isolate (--profile): V8's sampling profiler over the
// DevTools protocol, through wrangler's inspector proxy (ws://127.0.0.1:<inspector-port>/ws).
// Every Durable Object of the Worker runs in that one isolate locally, so this shows where
// the single JS thread spends a tick: our functions, storage calls, GC, idle.
import { writeFileSync } from "node:fs";
import WebSocket from "ws";

export async function startProfile(inspectorPort, { samplingIntervalUs = 200 } = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${inspectorPort}/ws`, { headers: { Origin: "http://localhost" } });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
    setTimeout(() => reject(new Error("inspector did not open within 10 s")), 10_000);
  });
  let id = 0;
  const pending = new Map();
  ws.on("message", (data) => {
    let msg;
    try {
      msg = JSON.parse(data.toString());
    } catch {
      return;
    }
    if (msg.id && pending.has(msg.id)) {
      pending.get(msg.id)(msg);
      pending.delete(msg.id);
    }
  });
  const call = (method, params = {}, timeoutMs = 60_000) =>
    new Promise((resolve, reject) => {
      const myId = 1_000_000 + ++id;
      pending.set(myId, (msg) =>
        msg.error ? reject(new Error(`${method}: ${msg.error.message}`)) : resolve(msg.result),
      );
      ws.send(JSON.stringify({ id: myId, method, params }));
      setTimeout(() => reject(new Error(`${method}: no answer within ${timeoutMs} ms`)), timeoutMs).unref();
    });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: samplingIntervalUs });
  await call("Profiler.start");
  const startedAt = Date.now();
  return {
    async stop(file) {
      try {
        const { profile } = await call("Profiler.stop", {}, 120_000);
        if (file) writeFileSync(file, JSON.stringify(profile));
        return summarizeProfile(profile, Date.now() - startedAt, file);
      } finally {
        ws.close();
      }
    },
  };
}

/** Self and inclusive time per function (name + location), plus idle/GC/program. */
export function summarizeProfile(profile, wallMs, file) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Time per sample = delta to the next sample.
  const selfUs = new Map();
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = deltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + dt);
  }
  const key = (n) => {
    const f = n.callFrame;
    const name = f.functionName || "(anonymous)";
    if (!f.url) return name;
    const file = f.url.split("/").pop();
    return `${name} ${file}:${f.lineNumber + 1}`;
  };
  const self = new Map();
  const incl = new Map();
  let totalUs = 0;
  for (const [nodeId, us] of selfUs) {
    totalUs += us;
    const node = nodes.get(nodeId);
    const k = key(node);
    self.set(k, (self.get(k) ?? 0) + us);
    // Inclusive: credit each distinct function on the stack once.
    const seen = new Set();
    for (let id = nodeId; id !== undefined; id = parent.get(id)) {
      const kk = key(nodes.get(id));
      if (seen.has(kk)) continue;
      seen.add(kk);
      incl.set(kk, (incl.get(kk) ?? 0) + us);
    }
  }
  const ms = (us) => Math.round(us / 100) / 10;
  const top = (m, n) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([fn, us]) => ({ fn, ms: ms(us), pct: Math.round((us / totalUs) * 1000) / 10 }));
  const idle = self.get("(idle)") ?? 0;
  return {
    file: file ?? null,
    wallMs,
    sampledMs: ms(totalUs),
    busyMs: ms(totalUs - idle),
    idlePct: Math.round((idle / totalUs) * 1000) / 10,
    gcMs: ms(self.get("(garbage collector)") ?? 0),
    topSelf: top(self, 25),
    topInclusive: top(incl, 40).filter((x) => !x.fn.startsWith("(root)")),
  };
}
