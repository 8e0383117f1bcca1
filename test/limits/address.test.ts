import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addressKey } from "../../src/limits/address";

const group = fc.integer({ min: 0, max: 0xffff });
const groups = fc.array(group, { minLength: 8, maxLength: 8 });

/** Ways to write the same IPv6 address: full with leading zeros, plain, `::`-compressed at a zero run, any case. */
const spellings = (g: number[]) =>
  fc
    .record({
      padded: fc.boolean(),
      upper: fc.boolean(),
      compress: fc.option(fc.nat({ max: 7 })),
    })
    .map(({ padded, upper, compress }) => {
      const hex = g.map((x) => (padded ? x.toString(16).padStart(4, "0") : x.toString(16)));
      let text = hex.join(":");
      if (compress !== null) {
        // Compress the zero run that starts at or after `compress`, if there is one.
        const start = g.findIndex((x, i) => i >= compress && x === 0);
        if (start >= 0) {
          let end = start;
          while (end < 8 && g[end] === 0) end++;
          text = `${hex.slice(0, start).join(":")}::${hex.slice(end).join(":")}`;
        }
      }
      return upper ? text.toUpperCase() : text;
    });

const isMapped = (g: number[]) => g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;

describe("addressKey", () => {
  it("keys IPv6 by its /64: every spelling of every address in one /64 shares a key", () => {
    const twoInOne64 = groups
      .filter((g) => !isMapped(g))
      .chain((g) =>
        fc.tuple(
          fc.constant(g),
          spellings(g),
          fc.array(group, { minLength: 4, maxLength: 4 }).chain((host) => spellings([...g.slice(0, 4), ...host])),
        ),
      );
    fc.assert(
      fc.property(twoInOne64, ([g, a, b]) => {
        expect(addressKey(a)).toBe(addressKey(b));
        expect(addressKey(a)).toBe(
          `${g
            .slice(0, 4)
            .map((x) => x.toString(16))
            .join(":")}::/64`,
        );
      }),
    );
  });

  it("keys two different /64s apart", () => {
    fc.assert(
      fc.property(groups, groups, (g, h) => {
        fc.pre(g.slice(0, 4).join() !== h.slice(0, 4).join() && !isMapped(g) && !isMapped(h));
        expect(addressKey(g.map((x) => x.toString(16)).join(":"))).not.toBe(
          addressKey(h.map((x) => x.toString(16)).join(":")),
        );
      }),
    );
  });

  it("keys IPv4 by the address, also when written as IPv4-mapped IPv6", () => {
    expect(addressKey("203.0.113.7")).toBe("203.0.113.7");
    expect(addressKey("203.0.113.7")).not.toBe(addressKey("203.0.113.8"));
    expect(addressKey("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(addressKey("::FFFF:cb00:7107")).toBe("203.0.113.7");
  });

  it("reads the usual forms: embedded IPv4, a zone, `::` at either end", () => {
    expect(addressKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressKey("2001:DB8:0:0:1::")).toBe("2001:db8:0:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("64:ff9b::192.0.2.33")).toBe("64:ff9b:0:0::/64");
    expect(addressKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
  });

  it("keeps anything it cannot read as given, so that it is still counted", () => {
    for (const odd of ["unknown", "1:2:3", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "::1.2.3.256", "1.2.3.4::"]) {
      expect(addressKey(odd)).toBe(odd.toLowerCase());
    }
  });
});
