// Placeholder until the ASGI framework lands; replaced by the reference's App + Router example.
import { createServer } from "node:http";

createServer((_req, res) => {
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ message: "mtaioへようこそ" }));
}).listen(8000, "127.0.0.1", () => console.log("listening on http://127.0.0.1:8000"));
