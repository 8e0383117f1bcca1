import type { Currency } from "../protocol";

/** What a screen reader says for a currency code, and the picker's tooltip. */
export const CURRENCY_NAMES: Record<Currency, string> = {
  USD: "US dollar",
  EUR: "Euro",
  GBP: "British pound",
  JPY: "Japanese yen",
  CAD: "Canadian dollar",
  CHF: "Swiss franc",
  AUD: "Australian dollar",
};
