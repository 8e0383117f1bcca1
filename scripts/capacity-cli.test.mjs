// node --test (npm run test:bench): `npm run capacity` end to end, as a user runs it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { JSON_FIELDS } from "./capacity-model.ts";

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "capacity.ts");
const run = (...args) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 120_000 });

test("--json prints one row per client count with the promised fields", () => {
  const res = run("--json", "--clients", "1000,20000");
  assert.equal(res.status, 0, res.stderr);
  const rows = JSON.parse(res.stdout);
  assert.deepEqual(
    rows.map((r) => r.clients),
    [1000, 20000],
  );
  for (const row of rows) {
    for (const key of JSON_FIELDS) assert.equal(typeof row[key], "number", key);
    assert.equal(row.hub_calls_per_connect, 0);
  }
  // The code's FANOUT_CHUNK (500) splits 1,000 clients over the root's 16 children.
  assert.equal(rows[0].tree.depth, 1);
  assert.ok(rows[0].tree.busiestLeaf <= 500);
});

test("--chunk and --assume change the rows; the text names every assumption and its source", () => {
  const big = JSON.parse(run("--json", "--clients", "1000", "--chunk", "2000").stdout);
  assert.equal(big[0].tree.depth, 0);
  const text = run("--clients", "1000", "--assume", "noHintShare=0.5").stdout;
  assert.match(text, /noHintShare = 0\.5/);
  assert.match(text, /https:\/\/developers\.cloudflare\.com\/durable-objects\/platform\/limits\//);
  assert.match(text, /https:\/\/developers\.cloudflare\.com\/durable-objects\/platform\/pricing\//);
});

test("a bad option is refused with the help and exit code 2", () => {
  for (const args of [["--nope"], ["--clients", "0"], ["--assume", "nothing=1"], ["--chunk", "x"]]) {
    const res = run(...args);
    assert.equal(res.status, 2, args.join(" "));
    assert.match(res.stderr, /npm run capacity/);
  }
});
