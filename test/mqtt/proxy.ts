/**
 * A loopback TCP proxy for fault injection: it forwards connections to a target and can cut
 * them all at once (both directions destroyed mid-stream, as a network failure would), or
 * refuse new ones for a while.
 */
import { createServer, connect as netConnect, type Server, type Socket } from "node:net";

export interface CuttingProxy {
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Destroys every open connection (client and target side). */
  cut(): number;
  /** While true, new connections are closed immediately. */
  refuse(on: boolean): void;
  close(): Promise<void>;
}

export async function startProxy(
  targetPort: number,
  targetHost = "127.0.0.1",
): Promise<CuttingProxy> {
  const live = new Set<Socket>();
  let accepted = 0;
  let refusing = false;
  const server: Server = createServer((client) => {
    accepted++;
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = netConnect({ port: targetPort, host: targetHost });
    live.add(client);
    live.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      live.delete(client);
      live.delete(upstream);
    };
    client.on("error", drop);
    upstream.on("error", drop);
    client.on("close", drop);
    upstream.on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    get connections() {
      return accepted;
    },
    cut() {
      const n = live.size / 2;
      for (const socket of [...live]) socket.destroy();
      live.clear();
      return n;
    },
    refuse(on) {
      refusing = on;
    },
    async close() {
      for (const socket of live) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
