/** A small SVG line chart of recent readings, for the alert mail's attachment. */

export interface Reading {
  sensor: string;
  value: number;
  /** Milliseconds since the epoch. */
  at: number;
}

const WIDTH = 480;
const HEIGHT = 200;
const PAD = 32;

/** The readings as a polyline, with the threshold as a dashed red line. */
export function renderChart(sensor: string, readings: Reading[], threshold: number): string {
  const values = readings.map((r) => r.value);
  const low = Math.min(threshold, ...values) - 1;
  const high = Math.max(threshold, ...values) + 1;
  const x = (i: number) => PAD + (i * (WIDTH - 2 * PAD)) / Math.max(1, readings.length - 1);
  const y = (v: number) => HEIGHT - PAD - ((v - low) * (HEIGHT - 2 * PAD)) / (high - low);
  const points = readings.map((r, i) => `${x(i).toFixed(1)},${y(r.value).toFixed(1)}`).join(" ");
  // The sensor name came from an HTTP client: escape it before it goes into markup.
  const title = `${sensor}: last ${readings.length} readings`.replace(/[<>&"]/g, (c) => {
    return { "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" }[c] as string;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${PAD}" y="20">${title}</text>`,
    `<line x1="${PAD}" x2="${WIDTH - PAD}" y1="${y(threshold)}" y2="${y(threshold)}" stroke="#c00" stroke-dasharray="4 3"/>`,
    `<text x="${WIDTH - PAD}" y="${y(threshold) - 4}" text-anchor="end" fill="#c00">threshold ${threshold}</text>`,
    `<polyline points="${points}" fill="none" stroke="#2f6fb0" stroke-width="2"/>`,
    "</svg>",
    "",
  ].join("\n");
}
