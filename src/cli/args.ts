/** The command line of `pricefeed`, parsed without side effects. */
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
      --no-color           no colours (also NO_COLOR=1); colours are only used on a terminal
  -h, --help               this help`;

export interface CliOptions {
  url: string;
  currencies: Currency[];
  clientId: string | undefined;
  from: number | undefined;
  statePath: string | undefined;
  json: boolean;
  color: boolean | undefined;
}

export type ParsedArgs = { kind: "run"; options: CliOptions } | { kind: "help" } | { kind: "error"; message: string };

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const options: CliOptions = {
    url: DEFAULT_URL,
    currencies: ["USD"],
    clientId: undefined,
    from: undefined,
    statePath: undefined,
    json: false,
    color: undefined,
  };
  let urlSeen = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string | null => {
      if (eq > 0) return arg.slice(eq + 1);
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith("-") && next.length > 1)) return null;
      i++;
      return next;
    };
    switch (name) {
      case "-h":
      case "--help":
        return { kind: "help" };
      case "--json":
        options.json = true;
        break;
      case "--no-color":
        options.color = false;
        break;
      case "--color":
        options.color = true;
        break;
      case "-c":
      case "--currencies": {
        const v = value();
        if (v === null) return { kind: "error", message: `${name} needs a list, e.g. USD,EUR` };
        const parsed = parseCurrencies(v);
        if (!parsed.ok) return { kind: "error", message: `${name}: ${parsed.error.message}` };
        options.currencies = parsed.value;
        break;
      }
      case "--client-id": {
        const v = value();
        if (v === null || !CLIENT_ID_PATTERN.test(v)) {
          return { kind: "error", message: "--client-id needs 1-64 characters of A-Z, a-z, 0-9, _ or -" };
        }
        options.clientId = v;
        break;
      }
      case "--from": {
        const v = value();
        if (v === null || !/^\d{1,12}$/.test(v))
          return { kind: "error", message: "--from needs Unix seconds, e.g. --from $(date -d '-5 min' +%s)" };
        options.from = Number(v);
        break;
      }
      case "--state": {
        const v = value();
        if (v === null || v === "") return { kind: "error", message: "--state needs a file name" };
        options.statePath = v;
        break;
      }
      default:
        if (arg.startsWith("-")) return { kind: "error", message: `unknown option ${arg}` };
        if (urlSeen) return { kind: "error", message: `one URL only (got ${options.url} and ${arg})` };
        if (!/^(wss?|https?):\/\//i.test(arg))
          return { kind: "error", message: `URL ${arg} must start with ws://, wss://, http:// or https://` };
        options.url = arg;
        urlSeen = true;
    }
  }
  return { kind: "run", options };
}
