/**
 * A file-backed MQTTStore: an append-only log of state changes, compacted when it grows.
 *
 * Record layout (little endian): u32 length of what follows, u8 kind, u16 packet id, body.
 * Kinds: 1 put outgoing (body below), 2 release outgoing, 3 delete outgoing, 4 put incoming,
 * 5 delete incoming, 6 clear. Put-outgoing body: u8 qos, u8 retain, u16 topic length, topic,
 * u32 properties-JSON length, properties JSON (binary values as {"$b64": …}), payload (rest).
 *
 * Durability: changes are buffered and written with one `writeSync` per `flush()`, which the
 * client calls before each batch of packets reaches the socket. Data handed to the kernel
 * survives the death of the process (kill -9 included). With `fsync: true` each flush also
 * calls `fdatasync`, which additionally survives an OS crash or power loss, at a large cost per
 * batch. A torn last record (power loss mid-write) is detected by its length and dropped.
 *
 * One store file belongs to one client at a time: opening it takes `<path>.lock` (StoreLock),
 * and a second live user gets MQTTError MQTT_STORE_LOCKED; a lock left by a dead process is
 * taken over.
 */
import { Buffer } from "node:buffer";
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  truncateSync,
  writeSync,
} from "node:fs";
import { MQTTError } from "../../errors.js";
import type { Properties } from "../codec/index.js";
import type { MQTTStore, StoredPublish, StoredSession } from "./store.js";
import { StoreLock } from "./store-lock.js";

/** Options of `new FileStore(path, options)`. */
export interface FileStoreOptions {
  /** fdatasync after every flush (survives power loss; much slower). Default false. */
  fsync?: boolean;
  /** Compact when the log exceeds this many bytes and is mostly dead records (default 4 MiB). */
  compactAfterBytes?: number;
}

const PUT_OUT = 1;
const RELEASE_OUT = 2;
const DELETE_OUT = 3;
const PUT_IN = 4;
const DELETE_IN = 5;
const CLEAR = 6;

/**
 * An `MQTTStore` in an append-only file: each QoS 1/2 state change is written before the
 * packet that depends on it is sent, so a client restarted after a crash (even `kill -9`)
 * resumes its flows. One process at a time: the file is locked.
 *
 * @example
 * ```ts
 * const client = new MQTTClient({
 *   clientId: "meter-7",
 *   clean: false,
 *   sessionExpiryInterval: 3600,
 *   store: new FileStore("./meter-7.mqtt-store"),
 * });
 * ```
 */
export class FileStore implements MQTTStore {
  /** The file the state is kept in. */
  readonly path: string;
  private readonly fsync: boolean;
  private readonly compactAfterBytes: number;
  private fd = -1;
  private pending: Buffer[] = [];
  private fileBytes = 0;
  /** The live state, so compaction can rewrite it without reading the log back. */
  private readonly outgoing = new Map<number, StoredPublish>();
  private readonly incoming = new Set<number>();
  private readonly lock: StoreLock;

  constructor(path: string, options: FileStoreOptions = {}) {
    this.path = path;
    this.lock = new StoreLock(path);
    this.fsync = options.fsync ?? false;
    this.compactAfterBytes = options.compactAfterBytes ?? 4 * 1024 * 1024;
  }

  load(): StoredSession {
    if (this.fd < 0) this.open();
    return {
      outgoing: [...this.outgoing.values()].map((m) => ({ ...m })),
      incoming: [...this.incoming],
    };
  }

  putOutgoing(message: StoredPublish): void {
    this.outgoing.delete(message.packetId);
    this.outgoing.set(message.packetId, { ...message });
    this.pending.push(encodePut(message));
  }

  releaseOutgoing(packetId: number): void {
    const message = this.outgoing.get(packetId);
    if (message) message.state = "pubrel";
    this.pending.push(encodeSmall(RELEASE_OUT, packetId));
  }

  deleteOutgoing(packetId: number): void {
    this.outgoing.delete(packetId);
    this.pending.push(encodeSmall(DELETE_OUT, packetId));
  }

  putIncoming(packetId: number): void {
    this.incoming.add(packetId);
    this.pending.push(encodeSmall(PUT_IN, packetId));
  }

  deleteIncoming(packetId: number): void {
    this.incoming.delete(packetId);
    this.pending.push(encodeSmall(DELETE_IN, packetId));
  }

  clear(): void {
    this.outgoing.clear();
    this.incoming.clear();
    this.pending.push(encodeSmall(CLEAR, 0));
  }

  flush(): void {
    if (this.pending.length === 0) return;
    if (this.fd < 0) this.open();
    const data = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    this.pending = [];
    let offset = 0;
    while (offset < data.length) offset += writeSync(this.fd, data, offset);
    this.fileBytes += data.length;
    if (this.fsync) fdatasyncSync(this.fd);
    if (this.fileBytes > this.compactAfterBytes) this.compact();
  }

  /**
   * Writes what is pending, releases the lock and closes the file (the client calls it on `close()`).
   */
  async close(): Promise<void> {
    if (this.fd < 0) return;
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
      this.fd = -1;
      this.lock.release();
    }
  }

  /** Rewrites the log with only the live state, atomically (write, fsync, rename). */
  private compact(): void {
    const live: Buffer[] = [];
    for (const message of this.outgoing.values()) {
      live.push(encodePut(message));
      if (message.state === "pubrel") live.push(encodeSmall(RELEASE_OUT, message.packetId));
    }
    for (const id of this.incoming) live.push(encodeSmall(PUT_IN, id));
    const data = Buffer.concat(live);
    // Only worth it when most of the log is dead records.
    if (data.length * 2 > this.fileBytes && this.fileBytes < this.compactAfterBytes * 4) return;
    const temp = `${this.path}.compact`;
    const fd = openSync(temp, "w");
    try {
      let offset = 0;
      while (offset < data.length) offset += writeSync(fd, data, offset);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.path);
    closeSync(this.fd);
    this.fd = openSync(this.path, "a");
    this.fileBytes = data.length;
  }

  private open(): void {
    this.lock.acquire();
    try {
      if (existsSync(this.path)) {
        const data = readFileSync(this.path);
        const valid = this.replay(data);
        // Drop a torn tail so new records do not land after garbage.
        if (valid < data.length) truncateSync(this.path, valid);
        this.fileBytes = valid;
      }
      this.fd = openSync(this.path, "a");
    } catch (error) {
      this.lock.release();
      throw error;
    }
  }

  /** Applies the log; returns how many bytes of it were whole records. */
  private replay(data: Buffer): number {
    let offset = 0;
    while (offset + 4 <= data.length) {
      const length = data.readUInt32LE(offset);
      if (length < 3 || offset + 4 + length > data.length) break;
      const kind = data[offset + 4];
      const packetId = data.readUInt16LE(offset + 5);
      const body = data.subarray(offset + 7, offset + 4 + length);
      switch (kind) {
        case PUT_OUT: {
          const message = decodePut(packetId, body, this.path);
          this.outgoing.delete(packetId);
          this.outgoing.set(packetId, message);
          break;
        }
        case RELEASE_OUT: {
          const message = this.outgoing.get(packetId);
          if (message) message.state = "pubrel";
          break;
        }
        case DELETE_OUT:
          this.outgoing.delete(packetId);
          break;
        case PUT_IN:
          this.incoming.add(packetId);
          break;
        case DELETE_IN:
          this.incoming.delete(packetId);
          break;
        case CLEAR:
          this.outgoing.clear();
          this.incoming.clear();
          break;
        default:
          throw new MQTTError(`${this.path}: unknown record kind ${kind} at byte ${offset}`, {
            code: "MQTT_STORE_CORRUPT",
          });
      }
      offset += 4 + length;
    }
    return offset;
  }
}

function encodeSmall(kind: number, packetId: number): Buffer {
  const buffer = Buffer.allocUnsafe(7);
  buffer.writeUInt32LE(3, 0);
  buffer[4] = kind;
  buffer.writeUInt16LE(packetId, 5);
  return buffer;
}

function encodePut(message: StoredPublish): Buffer {
  const topic = Buffer.from(message.topic, "utf8");
  const properties = message.properties
    ? Buffer.from(JSON.stringify(message.properties, binaryToJSON), "utf8")
    : Buffer.alloc(0);
  const length = 3 + 2 + 2 + topic.length + 4 + properties.length + message.payload.length;
  const buffer = Buffer.allocUnsafe(4 + length);
  let o = buffer.writeUInt32LE(length, 0);
  buffer[o++] = PUT_OUT;
  o = buffer.writeUInt16LE(message.packetId, o);
  buffer[o++] = message.qos;
  buffer[o++] = message.retain ? 1 : 0;
  o = buffer.writeUInt16LE(topic.length, o);
  o += topic.copy(buffer, o);
  o = buffer.writeUInt32LE(properties.length, o);
  o += properties.copy(buffer, o);
  buffer.set(message.payload, o);
  return buffer;
}

function decodePut(packetId: number, body: Buffer, path: string): StoredPublish {
  try {
    const qos = body[0];
    if (qos !== 1 && qos !== 2) throw new Error(`bad qos ${qos}`);
    const retain = body[1] === 1;
    const topicLength = body.readUInt16LE(2);
    const topic = body.toString("utf8", 4, 4 + topicLength);
    let o = 4 + topicLength;
    const propertiesLength = body.readUInt32LE(o);
    o += 4;
    const properties =
      propertiesLength > 0
        ? (JSON.parse(body.toString("utf8", o, o + propertiesLength), jsonToBinary) as Properties)
        : undefined;
    o += propertiesLength;
    const payload = new Uint8Array(body.subarray(o));
    return { packetId, topic, payload, qos, retain, properties, state: "publish" };
  } catch (cause) {
    throw new MQTTError(`${path}: unreadable stored message ${packetId}`, {
      code: "MQTT_STORE_CORRUPT",
      cause,
    });
  }
}

function binaryToJSON(this: unknown, _key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return { $b64: Buffer.from(value).toString("base64") };
  // Buffer#toJSON runs before the replacer sees it.
  if (
    value !== null &&
    typeof value === "object" &&
    (value as { type?: unknown }).type === "Buffer" &&
    Array.isArray((value as { data?: unknown }).data)
  ) {
    return { $b64: Buffer.from((value as { data: number[] }).data).toString("base64") };
  }
  return value;
}

function jsonToBinary(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === "object" && "$b64" in value) {
    return new Uint8Array(Buffer.from(String((value as { $b64: unknown }).$b64), "base64"));
  }
  return value;
}
