// node --test: scripts/check-imports.mjs on small trees laid out like src/.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const checker = join(dirname(fileURLToPath(import.meta.url)), "check-imports.mjs");

const GOOD = {
  "index.ts":
    'export { PriceHub } from "./hub/PriceHub";\nimport { hubHttp } from "./stubs";\nexport default hubHttp;\n',
  "contracts.ts": "export interface HubHttpApi { health(): Promise<unknown> }\n",
  "stubs.ts":
    'import type { HubHttpApi } from "./contracts";\n' +
    "export const hubHttp = (env: Env): DurableObjectStub<HubHttpApi> => " +
    'env.PRICE_HUB.get(env.PRICE_HUB.idFromName("g"));\n',
  "hub/PriceHub.ts":
    'import { DurableObject } from "cloudflare:workers";\nexport class PriceHub extends DurableObject {}\n',
  "http/api.ts": 'import { hubHttp } from "../stubs";\nexport const read = (env: Env) => hubHttp(env).health();\n',
};

/** Runs the checker on a tree made of GOOD with `changes` applied (null deletes a file). */
function check(changes = {}) {
  const dir = join(mkdtempSync(join(tmpdir(), "check-imports-")), "src");
  for (const [path, text] of Object.entries({ ...GOOD, ...changes })) {
    if (text === null) continue;
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const run = spawnSync(process.execPath, [checker, dir], { encoding: "utf8" });
  return { status: run.status, output: run.stdout + run.stderr };
}

test("a tree that follows the rules passes", () => {
  assert.equal(check().status, 0, check().output);
});

test("a stub typed by its object's class is refused, wherever it is written", () => {
  const typed = check({
    "http/api.ts":
      'import type { PriceHub } from "../hub/PriceHub";\n' +
      "export const hub = (s: DurableObjectStub<PriceHub>) => s;\n",
  });
  assert.equal(typed.status, 1);
  assert.match(typed.output, /types a stub by the class PriceHub/);
});

test("a stub built outside src/stubs.ts is refused: its inferred type is the class", () => {
  const own = check({
    "http/api.ts": 'export const read = (env: Env) => env.PRICE_HUB.get(env.PRICE_HUB.idFromName("g")).health();\n',
  });
  assert.equal(own.status, 1);
  assert.match(own.output, /reaches the object binding PRICE_HUB itself/);
});

test("a stub src/stubs.ts hands out without a contract type is refused", () => {
  const untyped = check({
    "stubs.ts": 'export const hubHttp = (env: Env) => env.PRICE_HUB.get(env.PRICE_HUB.idFromName("g"));\n',
  });
  assert.equal(untyped.status, 1);
  assert.match(untyped.output, /hubHttp has no stub type/);
});

test("an import cycle and an object class imported outside the entry are refused", () => {
  const cycle = check({
    "a.ts": 'import { b } from "./b";\nexport const a = () => b;\n',
    "b.ts": 'import { a } from "./a";\nexport const b = () => a;\n',
  });
  assert.equal(cycle.status, 1);
  assert.match(cycle.output, /import cycle of 2 file/);
  const classImport = check({
    "http/api.ts": 'import { PriceHub } from "../hub/PriceHub";\nexport const h = PriceHub;\n',
  });
  assert.equal(classImport.status, 1);
  assert.match(classImport.output, /imports the object class module/);
});
