/**
 * The command line of `pricefeed`, parsed without side effects. node:util parseArgs splits it
 * (long and short options, `--name=value`, `-cUSD`, `--`); this file checks each option in the
 * order given, so that the first problem is the one reported, in words a user can act on.
 */
import { parseArgs as splitArgs } from "node:util";
import { CLIENT_ID_PATTERN, parseCurrencies, type Currency } from "../protocol";

export const DEFAULT_URL = "ws://localhost:8787/pricefeed";

export const USAGE = `Usage: pricefeed [URL] [options]

Prints the BTC price feed, one line per tick; reconnects and resumes by itself (no tick missed or
repeated; ticks that can never come are reported as a gap). Ctrl-C to stop.

  URL                      the feed's WebSocket URL (default ${DEFAULT_URL}, the \`npm start\` server)
  -c, --currencies LIST    comma-separated, e.g. USD,EUR (default USD)
      --client-id ID       resume as this client (1-64 of A-Z a-z 0-9 _ -)
      --from UNIX_S        first replay the ticks since this time (start_timedate)
      --state FILE         keep client_id, last_seq and epoch in FILE to resume across runs
      --json               one JSON object per line: {"event":"price",...}
  -v, --verbose            also print heartbeats (the feed is alive, nothing moved)
      --no-color           no colours (also NO_COLOR=1); colours are only used on a terminal
  -h, --help               this help`;

export interface CliOptions {
  url: string;
  currencies: Currency[];
  clientId: string | undefined;
  from: number | undefined;
  statePath: string | undefined;
  json: boolean;
  verbose: boolean;
  color: boolean | undefined;
}

export type ParsedArgs = { kind: "run"; options: CliOptions } | { kind: "help" } | { kind: "error"; message: string };

/** `--color` forces colours on (undocumented: FORCE_COLOR=1 is the documented way). */
const OPTIONS = {
  help: { type: "boolean", short: "h" },
  json: { type: "boolean" },
  verbose: { type: "boolean", short: "v" },
  color: { type: "boolean" },
  "no-color": { type: "boolean" },
  currencies: { type: "string", short: "c" },
  "client-id": { type: "string" },
  from: { type: "string" },
  state: { type: "string" },
} as const;

type OptionName = keyof typeof OPTIONS;
type ValueOption = Exclude<OptionName, "help" | "json" | "verbose" | "color" | "no-color">;

const isOptionName = (name: string): name is OptionName => Object.hasOwn(OPTIONS, name);

/** What parseArgs took as the value of a string option may be the next option: `--from --json`. */
const looksLikeOption = (value: string) => value.length > 1 && value.startsWith("-");

/** Applies one string option's value to `options`; returns the error message, or null. */
function applyValue(options: CliOptions, name: ValueOption, flag: string, value: string | null): string | null {
  switch (name) {
    case "currencies": {
      if (value === null) return `${flag} needs a list, e.g. USD,EUR`;
      const parsed = parseCurrencies(value);
      if (!parsed.ok) return `${flag}: ${parsed.error.message}`;
      options.currencies = parsed.value;
      return null;
    }
    case "client-id":
      if (value === null || !CLIENT_ID_PATTERN.test(value)) {
        return "--client-id needs 1-64 characters of A-Z, a-z, 0-9, _ or -";
      }
      options.clientId = value;
      return null;
    case "from":
      if (value === null || !/^\d{1,12}$/.test(value)) {
        return "--from needs Unix seconds, e.g. --from $(date -d '-5 min' +%s)";
      }
      options.from = Number(value);
      return null;
    case "state":
      if (value === null || value === "") return "--state needs a file name";
      options.statePath = value;
      return null;
  }
}

function applyUrl(options: CliOptions, urlSeen: boolean, arg: string): string | null {
  if (urlSeen) return `one URL only (got ${options.url} and ${arg})`;
  if (!/^(wss?|https?):\/\//i.test(arg)) return `URL ${arg} must start with ws://, wss://, http:// or https://`;
  options.url = arg;
  return null;
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const options: CliOptions = {
    url: DEFAULT_URL,
    currencies: ["USD"],
    clientId: undefined,
    from: undefined,
    statePath: undefined,
    json: false,
    verbose: false,
    color: undefined,
  };
  // Not strict: an unknown option or a missing value becomes a token this function words itself.
  const { tokens } = splitArgs({
    args: [...argv],
    options: OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  let urlSeen = false;
  for (const token of tokens) {
    if (token.kind === "option-terminator") continue;
    if (token.kind === "positional") {
      const error = applyUrl(options, urlSeen, token.value);
      if (error !== null) return { kind: "error", message: error };
      urlSeen = true;
      continue;
    }
    const { name, rawName: flag, value } = token;
    if (!isOptionName(name)) return { kind: "error", message: `unknown option ${flag}` };
    switch (name) {
      case "help":
      case "json":
      case "verbose":
      case "color":
      case "no-color":
        if (value !== undefined) return { kind: "error", message: `${flag} takes no value` };
        if (name === "help") return { kind: "help" };
        if (name === "json") options.json = true;
        else if (name === "verbose") options.verbose = true;
        else options.color = name === "color";
        break;
      default: {
        const given = value === undefined || (!token.inlineValue && looksLikeOption(value)) ? null : value;
        const error = applyValue(options, name, flag, given);
        if (error !== null) return { kind: "error", message: error };
      }
    }
  }
  return { kind: "run", options };
}
