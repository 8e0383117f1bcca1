/** The page as a whole: the tab's title shows the focused price; the body says the connection for the stylesheet. */
import { formatPrice } from "../format";
import type { RenderPanel } from "./panel";

export function mount(): RenderPanel {
  return (state) => {
    // Lets the stylesheet dim prices that are not live.
    document.body.dataset.connection = state.connection;
    const v = state.prices[state.focus];
    document.title = v ? `${formatPrice(v.price, state.focus)} · BTC live` : "BTC live price";
  };
}
