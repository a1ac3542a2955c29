import fs from "node:fs";

const file = process.argv[2];
const top = Number(process.argv[3] ?? 40);
const p = JSON.parse(fs.readFileSync(file));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = p.timeDeltas;
let total = 0;
for (let i = 0; i < p.samples.length; i++) {
  const n = byId.get(p.samples[i]);
  const cf = n.callFrame;
  const key = `${cf.functionName || "(anon)"} ${cf.url.split("/").slice(-2).join("/")}:${cf.lineNumber}`;
  self.set(key, (self.get(key) ?? 0) + dt[i]);
  total += dt[i];
}
const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, top);
for (const [k, v] of rows) console.log(((v / total) * 100).toFixed(2).padStart(6), k);
