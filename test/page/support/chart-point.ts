import type { ChartPoint } from "../../../src/page/chart-scale";

export const pt = (seq: number, t: number, price: number, replayed = false): ChartPoint => ({
  seq,
  t,
  price,
  replayed,
});
