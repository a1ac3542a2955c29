// Baseline: raw node:http.
import { createServer, type ServerResponse } from "node:http";
import { HELLO_MESSAGE, isBenchRoute, parseArgs, ready } from "../common.js";

const { profile, port } = parseArgs();

/** A string body: Node sends the head and the body in one write. */
function hello(res: ServerResponse): void {
  const body = JSON.stringify({ message: HELLO_MESSAGE });
  res.writeHead(200, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

const server = createServer((req, res) => {
  if (profile === "hello") {
    hello(res);
    return;
  }
  if (profile === "routes") {
    res.setHeader("x-mw-one", "1");
    res.setHeader("x-mw-two", "2");
    const path = req.url ?? "/";
    if (isBenchRoute(path)) {
      hello(res);
    } else {
      res.writeHead(404);
      res.end();
    }
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const body = JSON.stringify(JSON.parse(Buffer.concat(chunks).toString()));
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 5000;
server.listen(port, "127.0.0.1", ready);
