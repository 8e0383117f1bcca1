/** Helpers for tests of the fan-out tree against the real objects. */
import { runInDurableObject } from "cloudflare:test";
import { readLayout } from "../../src/relay/shard-layout";
import { connect, type FeedClient } from "./feed";
import { registrations, shard, sleep } from "./hub";

const unique = () => Math.random().toString(36).slice(2, 8);

/** `count` new clients, each connected and past its first price. */
export async function clients(
  prefix: string,
  count: number,
  query = "",
): Promise<{ ids: string[]; feeds: FeedClient[] }> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}-${unique()}`);
  const feeds = await Promise.all(ids.map((id) => connect(`client_id=${id}${query}`)));
  await Promise.all(feeds.map((f) => f.waitFor("price", 20_000)));
  return { ids, feeds };
}

export const seqsOf = (feed: FeedClient) => feed.prices().map((p) => p.seq);

/** Every listed shard of the tree, root first. */
export async function treeShards(): Promise<string[]> {
  const out: string[] = [];
  const walk = async (prefix: string): Promise<void> => {
    out.push(prefix);
    const layout = await runInDurableObject(shard(prefix), (_i, state) => readLayout(state.storage.kv));
    for (const digit of layout.children) await walk(prefix + digit);
  };
  await walk("");
  return out;
}

/** Waits until no shard is handing members down any more (a split runs after the registration that caused it). */
export async function settledTree(): Promise<Map<string, string[]>> {
  for (let i = 0; i < 100; i++) {
    const listed = await registrations();
    const stillSplitting = await Promise.all(
      [...new Set([...listed.values()].flat())].map((prefix) =>
        runInDurableObject(shard(prefix), (_i, state) => readLayout(state.storage.kv).split),
      ),
    );
    if (!stillSplitting.some(Boolean)) return listed;
    await sleep(20);
  }
  throw new Error("the tree never settled");
}
