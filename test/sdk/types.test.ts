import { describe, expect, expectTypeOf, it } from "vitest";
import type { ErrorCode } from "../../src/protocol";
import type {
  Currency,
  Dispute,
  FeedStatus,
  GapRange,
  PriceTick,
  ReplayInfo,
  ResetInfo,
  ServerError,
  WelcomeInfo,
} from "../../src/sdk";
import { frameInfo, type CamelCase } from "../../src/sdk/camel-case";

// The library's public types are derived from src/protocol; these are the shapes its users see
// (checked by `tsc` in `npm test`), the same as when they were written out by hand, plus `protocol`.
describe("the client library's event types", () => {
  it("are the protocol's frames in camelCase", () => {
    expectTypeOf<PriceTick>().toEqualTypeOf<{
      seq: number;
      ts: number;
      time: string;
      prices: Partial<Record<Currency, number>>;
      sources: string[];
      sourcesByCurrency?: Partial<Record<Currency, string[]>>;
      replayed: boolean;
    }>();
    expectTypeOf<GapRange>().toEqualTypeOf<{ fromSeq: number; toSeq: number }>();
    expectTypeOf<FeedStatus>().toEqualTypeOf<
      { state: "live" } | { state: "stale"; since: number } | { state: "disputed"; since: number; disputes: Dispute[] }
    >();
    expectTypeOf<WelcomeInfo>().toEqualTypeOf<{
      clientId: string;
      currencies: Currency[];
      resumed: boolean;
      intervalMs: number;
      epoch: string;
      protocol: string;
      heartbeatS: number;
    }>();
    expectTypeOf<ResetInfo>().toEqualTypeOf<{ epoch: string; previousEpoch: string; message: string }>();
    expectTypeOf<ReplayInfo>().toEqualTypeOf<{ count: number }>();
    expectTypeOf<ServerError>().toEqualTypeOf<{ code: ErrorCode; message: string }>();
    expectTypeOf<CamelCase<"sources_by_currency">>().toEqualTypeOf<"sourcesByCurrency">();
  });

  it("are filled at run time by the same renaming", () => {
    expect(frameInfo({ type: "reset", epoch: "e2", previous_epoch: "e1", message: "m" }) satisfies ResetInfo).toEqual({
      epoch: "e2",
      previousEpoch: "e1",
      message: "m",
    });
    expect(frameInfo({ type: "gap", from_seq: 1, to_seq: 2 })).toEqual({ fromSeq: 1, toSeq: 2 });
  });
});
