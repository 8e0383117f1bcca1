/** The currency picker: one checkbox chip per supported currency, pending until the server confirms. */
import { SUPPORTED_CURRENCIES, type Currency } from "../../protocol";
import { CURRENCY_NAMES } from "../currency-names";
import { byId, el } from "../dom";
import type { RenderPanel, ViewActions } from "./panel";

export function mount(actions: Pick<ViewActions, "toggleCurrency">): RenderPanel {
  const options = byId("picker-options");
  const checkboxes = new Map<Currency, HTMLInputElement>();
  for (const c of SUPPORTED_CURRENCIES) {
    const input = el("input", { attrs: { type: "checkbox", id: `ccy-${c}`, value: c, "data-testid": `pick-${c}` } });
    input.addEventListener("change", () => actions.toggleCurrency(c, input.checked));
    const label = el(
      "label",
      { class: "chip", attrs: { for: `ccy-${c}`, title: CURRENCY_NAMES[c] } },
      input,
      el("span", { class: "chip-code", text: c }),
      el("span", { class: "visually-hidden", text: ` (${CURRENCY_NAMES[c]})` }),
    );
    options.append(label);
    checkboxes.set(c, input);
  }

  return (state) => {
    const pending = state.confirmed !== null && state.confirmed.join() !== state.wanted.join();
    for (const [c, input] of checkboxes) {
      input.checked = state.wanted.includes(c);
      // The last currency cannot be removed: the socket always has one.
      input.disabled = state.wanted.length === 1 && input.checked;
      input.parentElement!.dataset.pending = String(
        pending && state.wanted.includes(c) !== state.confirmed!.includes(c),
      );
    }
  };
}
