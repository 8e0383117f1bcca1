/**
 * fast-check arbitraries for every server frame, each made by the protocol's own builder from
 * inputs the server can have. Keyed by frame type: a frame type added to ServerMessage does not
 * compile here until it has an arbitrary (and so a place in the document and round-trip tests).
 */
import fc from "fast-check";
import {
  CLIENT_ID_PATTERN,
  disputedStatus,
  EPOCH_PATTERN,
  ERROR_CODES,
  errorMessage,
  gapMessage,
  liveStatus,
  priceMessage,
  replayEndMessage,
  resetMessage,
  staleStatus,
  subscribedMessage,
  SUPPORTED_CURRENCIES,
  welcomeMessage,
  heartbeatMessage,
  type Currency,
  type Dispute,
  type ServerFrame,
  type ServerMessage,
  type Tick,
} from "../../src/protocol";

export const currency = fc.constantFrom(...SUPPORTED_CURRENCIES);
export const currencySet = (minLength = 0) => fc.uniqueArray(currency, { minLength });

const seq = fc.integer({ min: 1, max: 2 ** 40 });
/** Up to the last millisecond of year 9999: what an ISO 8601 time can spell. */
const tsMs = fc.integer({ min: 0, max: 253_402_300_799_999 });
const unixSeconds = fc.integer({ min: 0, max: 253_402_300_799 });
const price = fc.double({ min: 1e-6, max: 1e12, noNaN: true, noDefaultInfinity: true });
const sourceName = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);
const sortedSources = fc.uniqueArray(sourceName, { maxLength: 5 }).map((s) => [...s].sort());

const prices = fc.dictionary(currency, price, { noNullPrototype: true }) as fc.Arbitrary<
  Partial<Record<Currency, number>>
>;

export const tick: fc.Arbitrary<Tick> = fc
  .record({
    seq,
    tsMs,
    prices,
    changed: currencySet(),
    sources: sortedSources,
    currencySources: fc.option(fc.dictionary(currency, sortedSources, { noNullPrototype: true }), { nil: undefined }),
  })
  .map(({ currencySources, ...rest }) => (currencySources ? { ...rest, currencySources } : rest));

const dispute: fc.Arbitrary<Dispute> = fc.record({
  currency,
  quotes: fc.dictionary(sourceName, price, { noNullPrototype: true }),
});

export const clientId = fc.stringMatching(CLIENT_ID_PATTERN);
export const epoch = fc.stringMatching(EPOCH_PATTERN);

export const serverFrames: { [T in ServerMessage["type"]]: fc.Arbitrary<ServerFrame<T>> } = {
  welcome: fc
    .record({
      client_id: clientId,
      currencies: currencySet(1),
      resumed: fc.boolean(),
      interval_ms: fc.integer({ min: 1, max: 86_400_000 }),
      epoch,
      heartbeat_s: fc.integer({ min: 0, max: 3600 }),
    })
    .map(welcomeMessage),
  price: fc
    .tuple(tick, currencySet(), fc.boolean())
    .map(([t, currencies, replayed]) => priceMessage(t, currencies, replayed)),
  replay_end: fc.nat().map(replayEndMessage),
  gap: fc.tuple(seq, seq).map(([a, b]) => gapMessage({ fromSeq: Math.min(a, b), toSeq: Math.max(a, b) })),
  subscribed: currencySet().map(subscribedMessage),
  status: fc.oneof(
    fc.constant(liveStatus()),
    unixSeconds.map(staleStatus),
    fc.tuple(unixSeconds, fc.array(dispute, { maxLength: 7 })).map(([since, d]) => disputedStatus(since, d)),
  ),
  reset: fc.tuple(epoch, epoch).map(([now, before]) => resetMessage(now, before)),
  heartbeat: fc.tuple(seq, unixSeconds).map(([s, t]) => heartbeatMessage(s, t * 1000)),
  error: fc.tuple(fc.constantFrom(...ERROR_CODES), fc.string({ maxLength: 200 })).map(([c, m]) => errorMessage(c, m)),
};

/** Any frame the builders can make. */
export const serverFrame: fc.Arbitrary<ServerMessage> = fc.oneof(
  ...Object.values<fc.Arbitrary<ServerMessage>>(serverFrames),
);
