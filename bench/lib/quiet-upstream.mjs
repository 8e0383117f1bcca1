// The drill's quiet market: the loopback upstream (scripts/fake-upstream.ts) as the feed's three keyless
// sources, its price moved by the drill once per poll interval, or held still. A restart in a held
// market publishes no tick, so a client that resumes with last_seq is at the head when it comes back.
import path from "node:path";
import { freePort, killGroup, spawnGroup } from "./procs.mjs";
import { waitForHealth } from "./servers.mjs";

const SOURCES = ["coinbase", "kraken", "bitstamp"];
const START_USD = 65_000;
/** Each move is this share of the price, up or down: enough to change every currency's rounded price. */
const STEP = 0.0004;

export async function startQuietUpstream({ root, workDir, intervalMs, log }) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const logFile = path.join(workDir, "fake-upstream.log");
  const proc = spawnGroup(
    process.execPath,
    [path.join(root, "scripts", "fake-upstream.ts"), "--port", String(port), "--price", String(START_USD)],
    { cwd: root, env: process.env, logFile },
  );
  try {
    await waitForHealth(base, proc, 15_000, "the fake upstream");
  } catch (error) {
    await killGroup(proc.pid);
    throw error;
  }
  log(`quiet market: fake upstream on :${port}, moved every ${intervalMs} ms until held`);

  let price = START_USD;
  let held = false;
  let step = 0;
  const timer = setInterval(() => {
    if (held) return;
    // Up, up, down: a walk that never repeats a price twice in a row.
    price = Math.round(price * (1 + (step++ % 3 === 2 ? -STEP : STEP)) * 100) / 100;
    fetch(`${base}/__control`, { method: "POST", body: JSON.stringify({ price }) }).catch(() => {});
  }, intervalMs);

  return {
    vars: {
      PRICE_SOURCES: SOURCES.join(","),
      ...Object.fromEntries(SOURCES.map((s) => [`${s.toUpperCase()}_API_URL`, `${base}/${s}`])),
    },
    /** Holds the price where it is (true) or lets it move again (false). */
    hold(value) {
      held = value;
    },
    async stop() {
      clearInterval(timer);
      await killGroup(proc.pid);
    },
  };
}
