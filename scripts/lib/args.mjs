// Command-line options of the bench's scripts (run, drill, flood, the capacity model's --measure):
// node:util's parseArgs, with each option's default, an environment variable that stands in for an
// option not given (BENCH_<NAME>, when the script has a prefix), --help, and a clear error.
import { parseArgs } from "node:util";

/**
 * Reads `argv` against `spec` ({ name: { type: "string" | "boolean", default, short?, negatable? } }).
 * Returns { values } (every option, defaults applied), { help: true }, or { error } for an unknown
 * option, a missing value or a stray argument. Never exits: see parseOptions.
 *
 * A negatable boolean also reads --no-<name>. With `envPrefix`, an option not on the command line
 * is read from the environment: `BENCH_` + "fd-limit" → BENCH_FD_LIMIT (booleans: true/false/1/0).
 */
export function readOptions(argv, spec, { envPrefix = null, env = {} } = {}) {
  const options = {
    help: { type: "boolean", short: "h" },
  };
  for (const [name, o] of Object.entries(spec)) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options,
      strict: true,
      allowPositionals: false,
      allowNegative: Object.values(spec).some((o) => o.negatable),
    });
  } catch (error) {
    return { error: String(error.message ?? error).replace(/\. To specify .*$/s, "") };
  }
  if (parsed.values.help) return { help: true };
  const values = {};
  for (const [name, o] of Object.entries(spec)) {
    let value = parsed.values[name];
    if (value === false && o.type === "boolean" && !o.negatable && argv.includes(`--no-${name}`)) {
      return { error: `Unknown option '--no-${name}'` };
    }
    if (value === undefined && envPrefix) {
      const raw = env[`${envPrefix}${name.toUpperCase().replace(/-/g, "_")}`];
      if (raw !== undefined) value = o.type === "boolean" ? /^(1|true|yes)$/i.test(raw.trim()) : raw;
    }
    values[name] = value ?? o.default;
  }
  return { values };
}

/**
 * readOptions for a script: prints `help` and exits 0 on --help; prints the error and the help to
 * stderr and exits 2 on a bad option; otherwise returns the values.
 */
export function parseOptions(argv, spec, { help, envPrefix = null, env = process.env } = {}) {
  const result = readOptions(argv, spec, { envPrefix, env });
  if (result.help) {
    console.log(help);
    process.exit(0);
  }
  if (result.error) {
    console.error(`${result.error}\n${help}`);
    process.exit(2);
  }
  return result.values;
}

/** "100,1000,none" → [100, 1000]: whole positive numbers, "none" and blanks skipped. */
export function sizeList(raw) {
  return String(raw ?? "")
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x && x !== "none")
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}
