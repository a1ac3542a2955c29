/**
 * Byte transports under the MQTT session: TCP (`mqtt://`), TLS (`mqtts://`) and WebSocket
 * (`ws://`, `wss://`, subprotocol "mqtt", MQTT 5.0 §6). The session sees one small interface;
 * it never touches a socket directly.
 */
import { Buffer } from "node:buffer";
import { connect as netConnect, type Socket } from "node:net";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import { WebSocket, type ClientOptions as WebSocketClientOptions } from "ws";
import { MQTTError } from "../../errors.js";

export type TransportProtocol = "mqtt" | "mqtts" | "ws" | "wss";

export interface TransportHandlers {
  /**
   * Bytes from the network. When the transport's `reusesReadBuffer` is true, `chunk` is valid
   * only during the call: the next read overwrites it.
   */
  data(chunk: Uint8Array): void;
  /** The transport accepted everything written so far (after `write` returned false). */
  drain(): void;
  /** The transport is gone; `error` when it failed rather than ended. */
  close(error?: Error): void;
}

export interface Transport {
  /** Whether `data` chunks live in one read buffer that every read overwrites. */
  readonly reusesReadBuffer: boolean;
  /**
   * Writes a batch of encoded packets; false when the caller should wait for `drain`.
   * `written` runs once the transport is done with the chunks' bytes (or failed).
   */
  write(chunks: Uint8Array[], written?: () => void): boolean;
  /** Stops reading from the network (backpressure from a slow consumer). */
  pause(): void;
  resume(): void;
  /** Flushes and closes. */
  end(): void;
  /** Closes at once. */
  destroy(): void;
}

export interface TransportOptions {
  protocol: TransportProtocol;
  host: string;
  port: number;
  /** WebSocket path (default "/mqtt"). */
  path?: string;
  /** Node TLS options for mqtts:// and wss:// (ca, cert, key, servername, …). Verification is
   * on unless `rejectUnauthorized: false` is given explicitly. */
  tls?: ConnectionOptions;
  /** Extra options for the `ws` WebSocket (headers, …). */
  websocket?: WebSocketClientOptions;
  signal?: AbortSignal;
  /** Milliseconds to establish the transport (TCP + TLS or WebSocket handshake). */
  timeout: number;
}

export function defaultPort(protocol: TransportProtocol): number {
  switch (protocol) {
    case "mqtt":
      return 1883;
    case "mqtts":
      return 8883;
    case "ws":
      return 80;
    case "wss":
      return 443;
  }
}

function transportError(message: string, cause?: unknown, code = "MQTT_CONNECTION_FAILED") {
  return new MQTTError(message, { code, cause });
}

/** Opens a transport; rejects with MQTTError (MQTT_CONNECTION_FAILED / MQTT_TIMEOUT / MQTT_ABORTED). */
export function openTransport(
  options: TransportOptions,
  handlers: TransportHandlers,
): Promise<Transport> {
  return options.protocol === "ws" || options.protocol === "wss"
    ? openWebSocket(options, handlers)
    : openSocket(options, handlers);
}

function guard<T>(
  options: TransportOptions,
  start: (settle: (error: Error | undefined, value?: T) => void) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let destroy: () => void = () => {};
    const settle = (error: Error | undefined, value?: T) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      if (error) {
        destroy();
        reject(error);
      } else resolve(value as T);
    };
    const onAbort = () =>
      settle(transportError("connect aborted", options.signal?.reason, "MQTT_ABORTED"));
    const timer = setTimeout(
      () =>
        settle(
          transportError(
            `no connection to ${options.host}:${options.port} within ${options.timeout} ms`,
            undefined,
            "MQTT_TIMEOUT",
          ),
        ),
      options.timeout,
    );
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    destroy = start(settle);
  });
}

/**
 * Size of the buffer a plain TCP connection reads into. Node's default reads allocate a fresh
 * 64 KiB buffer per read, which costs more CPU than the bytes it carries; reading into one
 * reused buffer instead (the `onread` option) leaves the decoder to copy only what it keeps.
 * Being reused, it can be larger than Node's: a busy stream then takes fewer reads.
 */
const READ_BUFFER_SIZE = 256 * 1024;

function openSocket(options: TransportOptions, handlers: TransportHandlers): Promise<Transport> {
  return guard<Transport>(options, (settle) => {
    const secure = options.protocol === "mqtts";
    // TLS sockets decrypt into buffers of their own: only plain TCP reads into a reused one.
    const readBuffer = secure ? undefined : new Uint8Array(READ_BUFFER_SIZE);
    const socket: Socket = secure
      ? tlsConnect({
          host: options.host,
          port: options.port,
          servername: isIP(options.host) ? undefined : options.host,
          ...options.tls,
          // Verification stays on unless the caller explicitly turns it off.
          rejectUnauthorized: options.tls?.rejectUnauthorized !== false,
        })
      : netConnect({
          host: options.host,
          port: options.port,
          onread: {
            buffer: readBuffer as Uint8Array,
            callback: (length: number, buffer: Uint8Array) => {
              handlers.data(buffer.subarray(0, length));
              return true;
            },
          },
        });
    socket.setNoDelay(true);
    let open = false;
    const onError = (error: Error) => {
      if (!open) {
        settle(
          transportError(
            `cannot connect to ${options.protocol}://${options.host}:${options.port}: ${error.message}`,
            error,
          ),
        );
      } else failure = error;
    };
    let failure: Error | undefined;
    socket.on("error", onError);
    socket.once(secure ? "secureConnect" : "connect", () => {
      open = true;
      if (secure) socket.on("data", handlers.data);
      socket.on("drain", handlers.drain);
      socket.once("close", () => handlers.close(failure));
      settle(undefined, {
        reusesReadBuffer: readBuffer !== undefined,
        write(chunks, written) {
          const last = chunks.length - 1;
          if (last === 0) return socket.write(chunks[0], written);
          let bytes = 0;
          for (const chunk of chunks) bytes += chunk.length;
          // Many small chunks: one copy into one buffer beats a writev with many entries.
          // Large ones: a writev (cork/uncork) of the chunks as they are, without copying.
          if (bytes < chunks.length * 2048) {
            return socket.write(Buffer.concat(chunks, bytes), written);
          }
          socket.cork();
          for (let i = 0; i < last; i++) socket.write(chunks[i]);
          socket.write(chunks[last], written);
          socket.uncork();
          return !socket.writableNeedDrain;
        },
        pause: () => socket.pause(),
        resume: () => socket.resume(),
        end: () => socket.end(),
        destroy: () => socket.destroy(),
      });
    });
    return () => socket.destroy();
  });
}

function isIP(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":");
}

function openWebSocket(options: TransportOptions, handlers: TransportHandlers): Promise<Transport> {
  return guard<Transport>(options, (settle) => {
    const secure = options.protocol === "wss";
    const host = options.host.includes(":") ? `[${options.host}]` : options.host;
    const path = options.path ?? "/mqtt";
    const url = `${options.protocol}://${host}:${options.port}${path.startsWith("/") ? path : `/${path}`}`;
    const ws = new WebSocket(url, "mqtt", {
      ...options.websocket,
      ...(secure ? (options.tls as WebSocketClientOptions | undefined) : {}),
      rejectUnauthorized: !secure || options.tls?.rejectUnauthorized !== false,
      perMessageDeflate: false,
    });
    ws.binaryType = "nodebuffer";
    let open = false;
    let failure: Error | undefined;
    ws.on("error", (error) => {
      if (!open) settle(transportError(`cannot connect to ${url}: ${error.message}`, error));
      else failure = error;
    });
    ws.once("open", () => {
      // MQTT 5.0 §6: the server must select the "mqtt" subprotocol.
      if (ws.protocol !== "mqtt") {
        settle(transportError(`${url} did not accept the "mqtt" WebSocket subprotocol`));
        return;
      }
      open = true;
      let needDrain = false;
      ws.on("message", (data: Buffer) => handlers.data(data));
      ws.once("close", () => handlers.close(failure));
      const afterSend = (error?: Error) => {
        if (error) failure ??= error;
        if (needDrain && ws.bufferedAmount < HIGH_WATER_MARK) {
          needDrain = false;
          handlers.drain();
        }
      };
      settle(undefined, {
        reusesReadBuffer: false,
        write(chunks, written) {
          // One WebSocket message per batch: MQTT packets may span or share frames (§6).
          const data = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
          ws.send(
            data,
            { binary: true },
            written
              ? (error?: Error) => {
                  afterSend(error);
                  written();
                }
              : afterSend,
          );
          if (ws.bufferedAmount >= HIGH_WATER_MARK) needDrain = true;
          return !needDrain;
        },
        pause: () => ws.pause(),
        resume: () => ws.resume(),
        end: () => ws.close(1000),
        destroy: () => ws.terminate(),
      });
    });
    return () => ws.terminate();
  });
}

const HIGH_WATER_MARK = 1024 * 1024;
