// Express.
import express from "express";
import { HELLO_MESSAGE, PARAM_ROUTES, parseArgs, ready, STATIC_ROUTES } from "../common.js";

const { profile, port } = parseArgs();
const app = express();
app.disable("x-powered-by");
app.disable("etag");
const hello = (_req: express.Request, res: express.Response) => {
  res.json({ message: HELLO_MESSAGE });
};

if (profile === "hello") app.get("/", hello);
if (profile === "routes") {
  app.use((_req, res, next) => {
    res.setHeader("x-mw-one", "1");
    next();
  });
  app.use((_req, res, next) => {
    res.setHeader("x-mw-two", "2");
    next();
  });
  for (const path of STATIC_ROUTES) app.get(path, hello);
  for (const path of PARAM_ROUTES) app.get(path.replace(/\{(\w+)\}/, ":$1"), hello);
}
if (profile === "echo") {
  app.post("/echo", express.json(), (req, res) => {
    res.type("application/json").send(JSON.stringify(req.body));
  });
}
app.listen(port, "127.0.0.1", ready);
