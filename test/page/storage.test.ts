import { describe, expect, it } from "vitest";
import { adoptSharedResumePoint, createPrefsSaver, loadPrefs, storedClientId } from "../../src/page/storage";
import { memoryStorage, type KeyValueStorage } from "../../src/sdk";

const contents = (storage: KeyValueStorage, keys: string[]) =>
  Object.fromEntries(keys.map((k) => [k, storage.getItem(k)]).filter(([, v]) => v !== null));
const RESUME_KEYS = ["btcfeed.client_id", "btcfeed.last_seq", "btcfeed.epoch"];

function profileWithOldResumePoint(): KeyValueStorage {
  const profile = memoryStorage();
  profile.setItem("btcfeed.client_id", "old-shared");
  profile.setItem("btcfeed.last_seq", "41");
  profile.setItem("btcfeed.epoch", "e1");
  profile.setItem("btcfeed.currencies", "USD,EUR");
  return profile;
}

describe("page: storage", () => {
  it("keeps the preferences in the profile's storage, and reads the tab's client id from its own", () => {
    const profile = memoryStorage();
    createPrefsSaver(profile)({ currencies: ["USD", "GBP"], focus: "GBP", range: "24h" });
    expect(loadPrefs(profile)).toEqual({ currencies: ["USD", "GBP"], focus: "GBP", range: "24h" });
    expect(profile.getItem("btcfeed.range")).toBe("24h");
    const tab = memoryStorage();
    expect(storedClientId(tab)).toBeNull();
    tab.setItem("btcfeed.client_id", "tab-1");
    expect(storedClientId(tab)).toBe("tab-1");
    tab.setItem("btcfeed.client_id", "not an id");
    expect(storedClientId(tab)).toBeNull();
    expect(storedClientId(null)).toBeNull();
  });

  it("reads a range it does not know, or none, as never chosen", () => {
    const profile = memoryStorage();
    expect(loadPrefs(profile).range).toBeNull();
    profile.setItem("btcfeed.range", "7d");
    expect(loadPrefs(profile)).toEqual({ currencies: [], focus: null, range: null });
    createPrefsSaver(profile)({ currencies: ["USD"], focus: null, range: "1h" });
    expect(loadPrefs(profile).range).toBe("1h");
  });

  it("hands the resume point an earlier page left in localStorage to the first tab without one, once", () => {
    const profile = profileWithOldResumePoint();
    const first = memoryStorage();
    adoptSharedResumePoint(profile, first);
    expect(contents(first, RESUME_KEYS)).toEqual({
      "btcfeed.client_id": "old-shared",
      "btcfeed.last_seq": "41",
      "btcfeed.epoch": "e1",
    });
    expect(contents(profile, [...RESUME_KEYS, "btcfeed.currencies"])).toEqual({ "btcfeed.currencies": "USD,EUR" });
    const second = memoryStorage();
    adoptSharedResumePoint(profile, second);
    expect(contents(second, RESUME_KEYS)).toEqual({});
  });

  it("leaves a tab's own resume point alone, and clears the old shared one all the same", () => {
    const profile = profileWithOldResumePoint();
    const tab = memoryStorage();
    tab.setItem("btcfeed.client_id", "mine");
    tab.setItem("btcfeed.last_seq", "7");
    adoptSharedResumePoint(profile, tab);
    expect(contents(tab, RESUME_KEYS)).toEqual({ "btcfeed.client_id": "mine", "btcfeed.last_seq": "7" });
    expect(contents(profile, RESUME_KEYS)).toEqual({});
    // No sessionStorage (blocked): nothing to hand over to, nothing crashes.
    const blocked = profileWithOldResumePoint();
    adoptSharedResumePoint(blocked, null);
    expect(contents(blocked, RESUME_KEYS)).toEqual({});
    adoptSharedResumePoint(null, tab);
  });
});
