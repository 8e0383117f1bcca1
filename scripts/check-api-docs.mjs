#!/usr/bin/env node
// Parses docs/asyncapi.yaml and docs/openapi.yaml with the ecosystem's own tools, as a client
// author's generator or viewer would read them: @asyncapi/parser (the AsyncAPI spec and its
// ruleset) for the feed, Redocly's linter (its recommended rules) for both. Any error or warning
// fails `npm test`. Whether the server's frames and bodies match the documents is checked by the
// vitest suite (test/docs/), which reads the same files.
import { readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { Parser } from "@asyncapi/parser";
import { createConfig, lint } from "@redocly/openapi-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const ASYNCAPI = join(root, "docs/asyncapi.yaml");
const OPENAPI = join(root, "docs/openapi.yaml");

// Spectral's severities: 0 error, 1 warning, 2 information, 3 hint.
const SPECTRAL_FAILS = new Set([0, 1]);

/** @returns {Promise<string[]>} */
async function asyncapiProblems(path) {
  const { document, diagnostics } = await new Parser().parse(readFileSync(path, "utf8"), { source: path });
  const problems = diagnostics
    .filter((d) => SPECTRAL_FAILS.has(d.severity))
    .map((d) => `${d.code}: ${d.message} at ${d.path.join(".") || "(root)"} (line ${(d.range?.start.line ?? -1) + 1})`);
  if (!document && problems.length === 0) problems.push("the parser gave no document");
  return problems;
}

const REDOCLY_CONFIG = {
  extends: ["recommended"],
  rules: {
    // The project declares no license, and its documents must not invent one.
    "info-license": "off",
    "info-license-strict": "off",
  },
  // The feed is public and takes no credentials: there is no security scheme to name.
  async3Rules: { "security-defined": "off" },
};

/** Problems of the recommended rules that do not apply here, each with the reason. */
const ACCEPTED = [
  ...["api~1price/options", "api~1history/options", "api~1candles/options"].map((op) => ({
    rule: "operation-4xx-response",
    pointer: `#/paths/~1${op}/responses`,
    why: "a CORS preflight is answered 204 whatever it asks",
  })),
  ...["/get", "/head", "home/get", "home/head"].map((op) => ({
    rule: "operation-4xx-response",
    pointer: `#/paths/~1${op}/responses`,
    why: "the page answers its own methods with 200 or 304; other methods are the documented 405",
  })),
];

/** @returns {Promise<string[]>} */
async function redoclyProblems(path) {
  const config = await createConfig(REDOCLY_CONFIG);
  const found = await lint({ ref: path, config });
  return found
    .filter((p) => p.severity === "error" || p.severity === "warn")
    .filter((p) => !ACCEPTED.some((a) => a.rule === p.ruleId && a.pointer === p.location?.[0]?.pointer))
    .map((p) => {
      const where = p.location?.[0]?.pointer ?? "";
      return `${p.ruleId}: ${p.message}${where ? ` at ${where}` : ""}`;
    });
}

const checks = [
  ["@asyncapi/parser", ASYNCAPI, asyncapiProblems],
  ["redocly lint", ASYNCAPI, redoclyProblems],
  ["redocly lint", OPENAPI, redoclyProblems],
];
let failed = 0;
for (const [tool, path, check] of checks) {
  // A document that does not even parse is one problem, said in one line.
  const problems = await check(path).catch((error) => [String(error?.message ?? error).split("\n")[0]]);
  const name = relative(root, path);
  if (problems.length === 0) {
    console.log(`check-api-docs: ${name}: ${tool}: ok`);
    continue;
  }
  failed += problems.length;
  console.error(`check-api-docs: ${name}: ${tool}: ${problems.length} problem(s)`);
  for (const p of problems) console.error(`  - ${p}`);
}
if (failed > 0) process.exit(1);
