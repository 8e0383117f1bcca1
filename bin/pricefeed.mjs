#!/usr/bin/env node
// The `pricefeed` command. Written for any Node, so that an old one gets a clear message
// instead of a crash: the client library needs Node >= 22 (its global WebSocket).
const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  process.stderr.write(
    `pricefeed needs Node.js 22 or later (this is ${process.version}, at ${process.execPath}).\n` +
      "In this repository, run it as `npx pricefeed` (npx puts node_modules/.bin, with the node@22\n" +
      "devDependency, first on PATH), or install Node 22.\n",
  );
  process.exit(1);
}
try {
  await import("../dist/cli.js");
} catch (err) {
  if (err && err.code === "ERR_MODULE_NOT_FOUND" && String(err.message).includes("dist/cli.js")) {
    process.stderr.write(
      "pricefeed: dist/cli.js is missing; build it with `npm run build:sdk` (npm ci does it too).\n",
    );
    process.exit(1);
  }
  throw err;
}
