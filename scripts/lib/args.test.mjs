// node --test (npm run test:bench): the bench scripts' option parsing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { readOptions, sizeList } from "./args.mjs";

const SPEC = {
  sizes: { type: "string", default: "100,1000" },
  "fd-limit": { type: "string", default: "" },
  snapshot: { type: "boolean", default: true, negatable: true },
  profile: { type: "boolean", default: false },
};

test("defaults apply to every option not given", () => {
  assert.deepEqual(readOptions([], SPEC), {
    values: { sizes: "100,1000", "fd-limit": "", snapshot: true, profile: false },
  });
});

test("--name value, --name=value and flags", () => {
  const { values } = readOptions(["--sizes", "5", "--fd-limit=1400", "--profile"], SPEC);
  assert.equal(values.sizes, "5");
  assert.equal(values["fd-limit"], "1400");
  assert.equal(values.profile, true);
});

test("a negatable flag reads --no-<name>; another one refuses it", () => {
  assert.equal(readOptions(["--no-snapshot"], SPEC).values.snapshot, false);
  assert.match(readOptions(["--no-profile"], SPEC).error, /Unknown option '--no-profile'/);
});

test("the environment stands in for an option not given, never for one given", () => {
  const env = { BENCH_SIZES: "7", BENCH_FD_LIMIT: "900", BENCH_SNAPSHOT: "false", BENCH_PROFILE: "1" };
  const { values } = readOptions(["--sizes", "3"], SPEC, { envPrefix: "BENCH_", env });
  assert.deepEqual(values, { sizes: "3", "fd-limit": "900", snapshot: false, profile: true });
  // Without a prefix the environment is not read at all.
  assert.equal(readOptions([], SPEC, { env }).values.sizes, "100,1000");
});

test("--help and -h ask for the help", () => {
  assert.deepEqual(readOptions(["--help"], SPEC), { help: true });
  assert.deepEqual(readOptions(["-h", "--sizes", "1"], SPEC), { help: true });
});

test("an unknown option, a missing value or a stray argument is an error", () => {
  assert.match(readOptions(["--nope"], SPEC).error, /Unknown option '--nope'/);
  assert.match(readOptions(["--sizes"], SPEC).error, /argument missing/);
  assert.match(readOptions(["stray"], SPEC).error, /Unexpected argument 'stray'/);
});

test("sizeList keeps whole positive numbers and skips none", () => {
  assert.deepEqual(sizeList("100, 1000,none,,0,-5,2.5,x"), [100, 1000]);
  assert.deepEqual(sizeList("none"), []);
  assert.deepEqual(sizeList(undefined), []);
});
