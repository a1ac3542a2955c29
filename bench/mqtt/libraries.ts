/**
 * The two clients under test behind one small interface, so every scenario runs the same code
 * path for mtaio and MQTT.js (the `mqtt` package).
 */
import mqtt from "mqtt";
import { MQTTClient } from "../../src/mqtt/index.js";
import { connectFloor } from "./floor.js";

export type QoSLevel = 0 | 1 | 2;

export interface BenchClient {
  publish(topic: string, payload: Buffer, qos: QoSLevel): Promise<unknown>;
  subscribe(topic: string, qos: QoSLevel): Promise<unknown>;
  onMessage(handler: () => void): void;
  close(): Promise<void>;
}

/** The "floor" clients (floor.ts) only subscribe: for the inbound scenario. */
export type LibraryName = "mtaio" | "mqtt.js" | "floor" | "floor-onread" | "floor-copy";

export async function connectClient(
  library: LibraryName,
  port: number,
  clientId: string,
): Promise<BenchClient> {
  if (library === "mtaio") {
    const client = new MQTTClient({ clientId, protocolVersion: 5, reconnect: false, timeout: 0 });
    await client.connect("127.0.0.1", port);
    return {
      publish: (topic, payload, qos) => client.publish(topic, payload, { qos }),
      subscribe: (topic, qos) => client.subscribe(topic, { qos }),
      onMessage: (handler) => {
        client.onMessage(handler);
      },
      close: () => client.close(),
    };
  }
  if (library.startsWith("floor")) {
    const floor = await connectFloor(port, clientId, library !== "floor", library === "floor-copy");
    return {
      publish: () => Promise.reject(new Error(`${library} only subscribes`)),
      subscribe: (topic) => floor.subscribe(topic),
      onMessage: (handler) => floor.onMessage(handler),
      close: () => floor.close(),
    };
  }
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    clientId,
    protocolVersion: 5,
    reconnectPeriod: 0,
    clean: true,
  });
  return {
    publish: (topic, payload, qos) => client.publishAsync(topic, payload, { qos }),
    subscribe: (topic, qos) => client.subscribeAsync(topic, { qos }),
    onMessage: (handler) => {
      client.on("message", handler);
    },
    close: () => client.endAsync(),
  };
}
