/** How far back `stats_24h` of `/api/price` looks from the latest tick, in seconds. */
export const STATS_WINDOW_S = 86_400;

/** Decimals `change_pct` is rounded to. */
export const CHANGE_PCT_DECIMALS = 2;

/** How many decimals a number's shortest spelling has (90000.1: 1, 5e-7: 7, 1e21: 0). */
export function decimalsOf(value: number): number {
  const [mantissa = "", exponent = "0"] = String(Math.abs(value)).split("e");
  const fraction = mantissa.split(".")[1]?.length ?? 0;
  return Math.max(0, fraction - Number(exponent));
}

/** The number written with `decimals` decimals, read back; never -0. */
const rounded = (value: number, decimals: number) => Number(value.toFixed(Math.min(decimals, 100))) + 0;

/**
 * The move from `open` to `latest`. `change` is their difference to the decimals the two prices are
 * written with: the exact difference of the two published prices (90123.45 - 90000.1 is 123.35, not
 * the 123.34999999999127 of floating point). `change_pct` is `change` as a percentage of `open`,
 * rounded to CHANGE_PCT_DECIMALS (a 24-hour move of a basis point shows; noise does not).
 */
export function priceChange(open: number, latest: number): { change: number; change_pct: number } {
  const change = rounded(latest - open, Math.max(decimalsOf(open), decimalsOf(latest)));
  return { change, change_pct: rounded((change / open) * 100, CHANGE_PCT_DECIMALS) };
}
