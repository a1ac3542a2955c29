/** What every server of the WebSocket echo benchmark (websocket.ts) shares. */

/** The path every server answers WebSocket handshakes on. */
export const WS_PATH = "/ws";

/** The message every connection sends (as a text frame) and expects back unchanged. */
export const WS_MESSAGE = JSON.stringify({
  type: "chat",
  room: "lobby",
  text: "Hello, WebSocket!",
  seq: 42,
});

/** The port from the command line (`node servers/ws-….js PORT`). */
export function wsPort(): number {
  const port = Number(process.argv[2]);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`bad port ${process.argv[2]}`);
  return port;
}

/** Tells the runner the server listens (it waits for this line). */
export function wsReady(): void {
  // Exit through process.exit so `--cpu-prof` writes its profile.
  process.once("SIGINT", () => process.exit(0));
  process.stdout.write("ready\n");
}
