import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { readConfig } from "../../src/config";
import type { SessionRecord } from "../../src/session/session-state";
import { connect, type FeedClient } from "./feed";
import { sessionStub, sleep } from "./hub";

/** Closes the socket and waits until its session has seen the close (and gone offline). */
export async function closeAndSettle(client: FeedClient, stillOpen = 0) {
  const welcome = client.frames[0];
  if (welcome?.type !== "welcome") throw new Error("no welcome yet");
  const clientId = welcome.client_id;
  client.close();
  for (let i = 0; i < 200; i++) {
    const open = await runInDurableObject(
      sessionStub(clientId),
      (_i, state) => state.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN).length,
    );
    if (open === stillOpen) return sleep(20);
    await sleep(10);
  }
  throw new Error(`session ${clientId} never saw the close`);
}

/**
 * Runs the session's alarm as if CLIENT_TTL_S had passed since the client left: its departure is
 * moved back by the TTL first (the runtime's clock cannot be moved in the pool).
 */
export async function expire(clientId: string): Promise<boolean> {
  const stub = sessionStub(clientId);
  const stored = () => runInDurableObject(stub, (_i, state) => state.storage.kv.get<SessionRecord>("session"));
  // A record still saying live (no close event came) goes offline at its first wake: the alarm's.
  if ((await stored())?.link.state === "live") await runDurableObjectAlarm(stub);
  await runInDurableObject(stub, (instance, state) => {
    const record = state.storage.kv.get<SessionRecord>("session");
    if (record?.link.state !== "offline") return;
    const moved = {
      ...record,
      link: { ...record.link, sinceMs: record.link.sinceMs - readConfig(env).clientTtlS * 1000 },
    };
    state.storage.kv.put("session", moved);
    (instance as unknown as { cached: unknown }).cached = undefined;
  });
  return runDurableObjectAlarm(stub);
}

/** A client that connected, got its welcome and snapshot, and has left: its session is offline. */
export async function visitAndLeave(query: string): Promise<void> {
  const client = await connect(query);
  await client.waitForFrames(2);
  await closeAndSettle(client);
}
