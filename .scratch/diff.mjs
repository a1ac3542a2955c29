import fs from "node:fs";

function load(file, nsPerReq) {
  const p = JSON.parse(fs.readFileSync(file));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const cf = byId.get(p.samples[i]).callFrame;
    const key = `${cf.functionName || "(anon)"} ${cf.url.split("/").slice(-2).join("/")}:${cf.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + p.timeDeltas[i]);
    total += p.timeDeltas[i];
  }
  for (const [k, v] of self) self.set(k, (v / total) * nsPerReq);
  return self;
}
const [fa, na, fb, nb, top] = process.argv.slice(2);
const a = load(fa, Number(na)),
  b = load(fb, Number(nb));
const keys = new Set([...a.keys(), ...b.keys()]);
const rows = [...keys]
  .map((k) => [k, a.get(k) ?? 0, b.get(k) ?? 0])
  .sort((x, y) => Math.abs(y[2] - y[1]) - Math.abs(x[2] - x[1]))
  .slice(0, Number(top ?? 50));
for (const [k, x, y] of rows)
  console.log(
    x.toFixed(0).padStart(6),
    y.toFixed(0).padStart(6),
    (y - x).toFixed(0).padStart(6),
    k,
  );
