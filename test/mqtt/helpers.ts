/** Small helpers shared by the MQTT client tests (fake broker, hostile broker, Mosquitto). */
import assert from "node:assert/strict";
import { after, before } from "node:test";
import { MQTTError } from "../../src/errors.js";
import { MQTTClient, type MQTTClientOptions } from "../../src/mqtt/index.js";
import { FakeBroker, type FakePeer } from "./fake-broker.js";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Fails the test instead of hanging it. */
export function within<T>(promise: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${what} after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** An `assert.rejects` validator: an MQTTError with this code (and reason code, if given). */
export function isMQTTError(code: string, reasonCode?: number) {
  return (error: unknown) => {
    assert.ok(error instanceof MQTTError, `expected an MQTTError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (reasonCode !== undefined) assert.equal(error.reasonCode, reasonCode, error.message);
    return true;
  };
}

/** Makes clients (reconnect off unless asked for) and closes them all at the end of a suite. */
export function clientPool() {
  const clients: MQTTClient[] = [];
  return {
    client(options: MQTTClientOptions = {}): MQTTClient {
      const c = new MQTTClient({ reconnect: false, ...options });
      clients.push(c);
      return c;
    },
    async closeAll(): Promise<void> {
      await Promise.all(clients.map((c) => c.close()));
    },
  };
}

/** One round of enhanced authentication (MQTT 5 §4.12): the broker sends AUTH 0x18 with
 * `data`; returns the client's answer (which must be AUTH 0x18) as text. */
export async function authRound(peer: FakePeer, method: string, data: string): Promise<string> {
  peer.send({
    type: "auth",
    reasonCode: 0x18,
    properties: {
      authenticationMethod: method,
      authenticationData: new Uint8Array(Buffer.from(data)),
    },
  });
  const answer = await peer.expect("auth");
  assert.equal(answer.reasonCode, 0x18);
  return Buffer.from(answer.properties?.authenticationData ?? []).toString();
}

type ConnackProperties = Parameters<FakePeer["accept"]>[0];

/**
 * For a describe block: a FakeBroker started before its tests and closed after them, with
 * the clients they made. `connected()` is the usual first step: a client, its connection,
 * CONNECT answered by a successful CONNACK.
 */
export function fakeBrokerSuite() {
  const { client, closeAll } = clientPool();
  let current: FakeBroker | undefined;
  before(async () => {
    current = await FakeBroker.start();
  });
  after(async () => {
    await closeAll();
    await current?.close();
  });
  const suite = {
    get broker(): FakeBroker {
      assert.ok(current, "the fake broker starts in before()");
      return current;
    },
    client,
    async connected(
      options: MQTTClientOptions = {},
      connack: ConnackProperties = {},
      sessionPresent = false,
    ) {
      const c = client(options);
      const peerPromise = suite.broker.connection();
      const connecting = c.connect("127.0.0.1", suite.broker.port);
      const peer = await peerPromise;
      const connect = await peer.accept(connack, sessionPresent);
      const result = await connecting;
      return { c, peer, connect, result };
    },
  };
  return suite;
}
