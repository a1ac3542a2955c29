/**
 * From a parsed command line to a connected MQTTClient: reads the TLS files, fills the client
 * and connect() options, and connects once (a command-line tool reports a failure rather than
 * retrying, so reconnection is off); with several brokers, the first that accepts.
 */
import { readFile } from "node:fs/promises";
import type { ConnectionOptions } from "node:tls";
import { MQTTClient } from "../client/client.js";
import type { MQTTClientOptions, WillOptions } from "../client/options.js";
import { MemoryStore } from "../client/store.js";
import type { ConnectionConfig } from "./args.js";
import { usageError } from "./exit-codes.js";

/** Reads the --cafile/--cert/--key files; a missing file is a usage error. */
export async function tlsOptions(config: ConnectionConfig): Promise<ConnectionOptions | undefined> {
  const tls = config.tls;
  if (!tls) return undefined;
  const read = async (path: string | undefined, flag: string) => {
    if (path === undefined) return undefined;
    try {
      return await readFile(path);
    } catch (error) {
      throw usageError(`${flag}: cannot read ${path}: ${(error as Error).message}`);
    }
  };
  const options: ConnectionOptions = {};
  const ca = await read(tls.caFile, "--cafile");
  if (ca) options.ca = ca;
  const cert = await read(tls.certFile, "--cert");
  if (cert) options.cert = cert;
  const key = await read(tls.keyFile, "--key");
  if (key) options.key = key;
  // mosquitto's --insecure skips only the host name check; the chain is still verified.
  if (tls.insecure) options.checkServerIdentity = () => undefined;
  return options;
}

export function clientOptions(config: ConnectionConfig): MQTTClientOptions {
  const connect = config.properties.connect;
  const v5 = config.protocolVersion === 5;
  let will: WillOptions | undefined;
  if (config.will) {
    will = {
      topic: config.will.topic,
      payload: config.will.payload,
      qos: config.will.qos,
      retain: config.will.retain,
    };
    if (v5 && Object.keys(config.properties.will).length > 0) {
      will.properties = config.properties.will;
    }
  }
  return {
    clientId:
      config.clientId ??
      (config.idPrefix !== undefined ? `${config.idPrefix}${process.pid}` : undefined),
    protocolVersion: config.protocolVersion,
    keepalive: config.keepalive,
    clean: config.clean,
    sessionExpiryInterval: config.sessionExpiryInterval ?? connect.sessionExpiryInterval,
    receiveMaximum: connect.receiveMaximum,
    maximumPacketSize: connect.maximumPacketSize,
    topicAliasMaximum: connect.topicAliasMaximum,
    requestResponseInformation: connect.requestResponseInformation,
    userProperties: connect.userProperties,
    will,
    reconnect: false,
    // -c resumes the broker's session; a store tells the client it may (MQTT 5 §3.2.2.1.1).
    // It lives in memory: what was in flight when an earlier run ended is the broker's to
    // resend, as with mosquitto_sub -c.
    store: config.clean ? undefined : new MemoryStore(),
  };
}

/**
 * Connects a new client, or throws the client's MQTTError. The caller closes the client.
 * `prepare` runs before CONNECT goes out: a resumed session (-c) may deliver queued messages
 * in the same read as the CONNACK, so whoever wants them must be listening by then.
 */
export async function connectClient(
  config: ConnectionConfig,
  prepare?: (client: MQTTClient) => void,
): Promise<MQTTClient> {
  const tls = await tlsOptions(config);
  const client = new MQTTClient(clientOptions(config));
  prepare?.(client);
  try {
    // One broker or several: with several, each is tried in turn until one accepts.
    await client.connect({
      servers: config.servers,
      username: config.username,
      password: config.password,
      tls,
    });
  } catch (error) {
    await client.close();
    throw error;
  }
  return client;
}

/** DISCONNECT with the `-D disconnect …` properties, then close. */
export async function closeClient(client: MQTTClient, config: ConnectionConfig): Promise<void> {
  const properties = config.properties.disconnect;
  await client.disconnect({
    sessionExpiryInterval: properties.sessionExpiryInterval,
    reasonString: properties.reasonString,
    userProperties: properties.userProperties,
  });
  await client.close();
}
