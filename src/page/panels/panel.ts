/**
 * What a panel of the page is: `mount(actions)` finds its part of index.html, builds what it
 * needs once and returns its render, which view.ts calls with every new state. A panel reads the
 * state and calls actions; it never changes the state itself.
 */
import type { Currency } from "../../protocol";
import type { ChartRange } from "../chart-range";
import type { ViewState } from "../state";

/** What the user can do; main.ts performs it. */
export interface ViewActions {
  open(): void;
  close(): void;
  toggleCurrency(currency: Currency, on: boolean): void;
  focus(currency: Currency): void;
  setRange(range: ChartRange): void;
  dismissMissed(): void;
  dismissError(): void;
}

/** Updates the panel's elements in place to show `state` at `nowMs` (ages, countdowns, the chart window). */
export type RenderPanel = (state: ViewState, nowMs: number) => void;
