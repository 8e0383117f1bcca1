#!/usr/bin/env node
// Builds the client library and the terminal client into dist/ (gitignored): run by `prepare`,
// so a fresh clone has them after `npm ci`.
//
//   dist/client.js          btc-pricefeed/client (ESM, browsers and Node >= 22), from src/sdk/
//   dist/cli.js             the `pricefeed` command (bin/pricefeed.mjs loads it), from src/cli/
//   dist/chunk-*.js         the code both share
//   dist/types/sdk/*.d.ts   the library's declarations (tsc), with the protocol's they import
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");

function fail(message) {
  console.error(`build-sdk: ${message}`);
  process.exit(1);
}

rmSync(dist, { recursive: true, force: true });

const result = await esbuild
  .build({
    entryPoints: { client: join(root, "src/sdk/index.ts"), cli: join(root, "src/cli/main.ts") },
    outdir: dist,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "neutral",
    // Node's built-ins stay imports (the CLI's); the library itself uses none.
    external: ["node:*"],
    target: ["es2022", "node22", "chrome111", "firefox113", "safari16.4"],
    sourcemap: true,
    legalComments: "none",
    charset: "utf8",
    logLevel: "warning",
    metafile: true,
  })
  .catch((err) => fail(err.message));

// The library must stay free of Node built-ins: it runs in browsers unchanged.
const clientInputs = Object.entries(result.metafile.outputs)
  .filter(([file]) => !file.endsWith("cli.js") && file.endsWith(".js"))
  .flatMap(([, out]) => out.imports.map((i) => i.path));
if (clientInputs.some((p) => p.startsWith("node:")))
  fail(`the client library imports a Node built-in: ${clientInputs.join(", ")}`);

// Declarations: tsc emits them; relative specifiers get the .js a Node ESM consumer needs.
const tsc = spawnSync(
  process.execPath,
  [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "src/sdk/tsconfig.build.json")],
  {
    cwd: root,
    stdio: "inherit",
  },
);
if (tsc.status !== 0) fail("tsc could not emit the declarations");

const typesDir = join(dist, "types");
function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (name.endsWith(".d.ts")) yield path;
  }
}
for (const file of files(typesDir)) {
  const text = readFileSync(file, "utf8").replace(
    /(from\s+|import\()(["'])(\.{1,2}\/[^"']+)\2/g,
    (match, lead, quote, spec) => {
      if (/\.(js|mjs|cjs|json)$/.test(spec)) return match;
      const base = join(dirname(file), spec);
      if (existsSync(`${base}.d.ts`)) return `${lead}${quote}${spec}.js${quote}`;
      if (existsSync(join(base, "index.d.ts"))) return `${lead}${quote}${spec}/index.js${quote}`;
      fail(`${relative(root, file)}: cannot resolve ${spec}`);
    },
  );
  writeFileSync(file, text);
}

const size = (f) => `${(statSync(join(dist, f)).size / 1024).toFixed(1)} KiB`;
console.log(
  `build-sdk: dist/client.js ${size("client.js")} (+ shared chunk), dist/cli.js ${size("cli.js")}, ` +
    "declarations in dist/types/",
);
