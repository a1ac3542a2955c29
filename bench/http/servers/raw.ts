// Baseline: raw node:http.
import { createServer } from "node:http";
import { HELLO_BYTES, parseArgs, ready, STATIC_ROUTES } from "../common.js";

const { profile, port } = parseArgs();
const JSON_HEADERS = { "content-type": "application/json", "content-length": HELLO_BYTES.length };
const statics = new Set(STATIC_ROUTES);
const param = /^\/api\/items(\d+)\/([^/]+)$/;

const server = createServer((req, res) => {
  if (profile === "hello") {
    res.writeHead(200, JSON_HEADERS);
    res.end(HELLO_BYTES);
    return;
  }
  if (profile === "routes") {
    res.setHeader("x-mw-one", "1");
    res.setHeader("x-mw-two", "2");
    const path = req.url ?? "/";
    const match = param.exec(path);
    if (statics.has(path) || (match && Number(match[1]) < 25)) {
      res.writeHead(200, JSON_HEADERS);
      res.end(HELLO_BYTES);
    } else {
      res.writeHead(404);
      res.end();
    }
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const body = Buffer.from(JSON.stringify(JSON.parse(Buffer.concat(chunks).toString())));
    res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 5000;
server.listen(port, "127.0.0.1", ready);
