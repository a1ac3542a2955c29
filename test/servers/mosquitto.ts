/**
 * Runs a real Mosquitto (Debian package `mosquitto`) for the MQTT client tests, from a temp
 * config on free loopback ports. One broker exposes every listener the suites need:
 *   - `port`        plain TCP, anonymous
 *   - `tlsPort`     TLS with a certificate made at test time (makeCertificates), anonymous
 *   - `mtlsPort`    TLS that requires a client certificate signed by the same CA
 *   - `wsPort`      MQTT over WebSocket (plain)
 *   - `wssPort`     MQTT over WebSocket with TLS
 *   - `authPort`    plain TCP with a password file (`mosquitto_passwd -b`)
 * Persistence is on, so `restart()` (SIGTERM, then start again on the same ports) keeps the
 * broker's sessions and in-flight QoS 1/2 state — what the broker-restart tests rely on.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import {
  freePort,
  makeCertificates,
  type RunningProcess,
  startProcess,
  type TempDir,
  type TestCertificates,
  tempDir,
  waitForPort,
} from "./common.js";

const execFileAsync = promisify(execFile);

export const MOSQUITTO = "/usr/sbin/mosquitto";

export interface MosquittoOptions {
  /** Users for the password-file listener (name → password). */
  users?: Record<string, string>;
  /** Extra global config lines (e.g. `max_inflight_messages 100`). */
  extraConfig?: string[];
  /** The server certificate's names (subjectAltName entries); default localhost and loopback. */
  serverNames?: string[];
}

export interface Mosquitto {
  host: string;
  port: number;
  tlsPort: number;
  mtlsPort: number;
  wsPort: number;
  wssPort: number;
  authPort: number;
  certificates: TestCertificates;
  dir: TempDir;
  output(): string;
  /** Stops the broker (state is saved) and starts it again on the same ports. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = await tempDir("mosquitto");
  const certificates = await makeCertificates(dir.path, options.serverNames);
  const [port, tlsPort, mtlsPort, wsPort, wssPort, authPort] = await Promise.all(
    Array.from({ length: 6 }, () => freePort()),
  );
  const users = options.users ?? { alice: "wonderland" };
  const passwordFile = await dir.file("passwords", "");
  for (const [user, password] of Object.entries(users)) {
    await execFileAsync("mosquitto_passwd", ["-b", passwordFile, user, password]);
  }
  const config = [
    // We run as root in CI containers; Mosquitto would otherwise switch to `mosquitto`.
    "user root",
    "per_listener_settings true",
    "persistence true",
    `persistence_location ${dir.path}/`,
    "log_dest stderr",
    "log_type error",
    "log_type warning",
    "max_queued_messages 100000",
    "max_inflight_messages 0",
    ...(options.extraConfig ?? []),
    `listener ${port} 127.0.0.1`,
    "allow_anonymous true",
    `listener ${tlsPort} 127.0.0.1`,
    "allow_anonymous true",
    `cafile ${certificates.caFile}`,
    `certfile ${certificates.certFile}`,
    `keyfile ${certificates.keyFile}`,
    `listener ${mtlsPort} 127.0.0.1`,
    "allow_anonymous true",
    `cafile ${certificates.caFile}`,
    `certfile ${certificates.certFile}`,
    `keyfile ${certificates.keyFile}`,
    "require_certificate true",
    // Mosquitto 2.0 binds WebSocket listeners through libwebsockets; IPv4 only keeps it simple.
    `listener ${wsPort}`,
    "socket_domain ipv4",
    "protocol websockets",
    "allow_anonymous true",
    `listener ${wssPort}`,
    "socket_domain ipv4",
    "protocol websockets",
    "allow_anonymous true",
    `cafile ${certificates.caFile}`,
    `certfile ${certificates.certFile}`,
    `keyfile ${certificates.keyFile}`,
    `listener ${authPort} 127.0.0.1`,
    "allow_anonymous false",
    `password_file ${passwordFile}`,
    "",
  ].join("\n");
  const configFile = await dir.file("mosquitto.conf", config);

  const launch = () =>
    startProcess({
      command: MOSQUITTO,
      args: ["-c", configFile],
      cwd: dir.path,
      ready: async () => {
        await Promise.all(
          [port, tlsPort, mtlsPort, wsPort, wssPort, authPort].map((p) => waitForPort(p)),
        );
      },
    });
  let running: RunningProcess = await launch();
  let log = "";

  return {
    host: "127.0.0.1",
    port,
    tlsPort,
    mtlsPort,
    wsPort,
    wssPort,
    authPort,
    certificates,
    dir,
    output: () => log + running.output(),
    async restart() {
      await running.stop();
      log += running.output();
      running = await launch();
    },
    async stop() {
      await running.stop();
      await dir.remove();
    },
  };
}
