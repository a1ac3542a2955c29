/**
 * Draws one SVG bar chart per benchmark result file: bench/results/<protocol>.json →
 * bench/results/<protocol>.svg. Plain SVG written by hand (no browser, no dependency): for
 * each scenario one bar per series, every bar a ratio to the reference, which is the dashed
 * line at 1.0. A protocol without a result file (IMAP until its benchmark lands) is skipped.
 *
 *   node --import tsx bench/render-charts.ts [bench/results]
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchResults } from "./results.js";

const WIDTH = 760;
const LABEL_WIDTH = 230;
/** Characters of a scenario label per line (labels wrap at spaces onto two lines). */
const LABEL_CHARS = 34;
const RIGHT_MARGIN = 60;
const BAR_HEIGHT = 14;
const BAR_GAP = 3;
const GROUP_GAP = 14;
/** Where the legend starts; the plot starts below its last row. */
const LEGEND_TOP = 66;
const COLOURS = ["#2f6fb0", "#e07b28", "#3a9a5b", "#b8463f", "#7d5ba6", "#8a6d3b"];

function escapeXml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

function text(x: number, y: number, content: string, attributes = ""): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attributes}>${escapeXml(content)}</text>`;
}

/** Splits `label` at spaces into lines of at most `width` characters (a longer word stays whole). */
function wrap(label: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of label.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** The axis end: the largest ratio with some room, at least 1.25, on a 0.25 step. */
function axisMax(results: BenchResults): number {
  let max = 1;
  for (const row of Object.values(results.ratios)) {
    for (const value of Object.values(row)) if (Number.isFinite(value)) max = Math.max(max, value);
  }
  return Math.max(1.25, Math.ceil((max * 1.08) / 0.25) * 0.25);
}

export function renderChart(results: BenchResults): string {
  const plotWidth = WIDTH - LABEL_WIDTH - RIGHT_MARGIN;
  const max = axisMax(results);
  const x = (ratio: number) => LABEL_WIDTH + (Math.min(ratio, max) / max) * plotWidth;
  // Legend entries flow left to right and wrap onto further rows.
  const legend: Array<{ x: number; y: number; label: string; colour: string }> = [];
  let legendX = 12;
  let legendY = LEGEND_TOP;
  results.series.forEach((series, i) => {
    const width = 24 + series.label.length * 6.2;
    if (legendX > 12 && legendX + width > WIDTH - 12) {
      legendX = 12;
      legendY += 16;
    }
    legend.push({
      x: legendX,
      y: legendY,
      label: series.label,
      colour: COLOURS[i % COLOURS.length] as string,
    });
    legendX += width;
  });
  const TOP = legendY + 30;
  const groupHeight = results.series.length * (BAR_HEIGHT + BAR_GAP) + GROUP_GAP;
  const plotHeight = results.scenarios.length * groupHeight;
  const height = TOP + plotHeight + 40;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`,
    `<title>${escapeXml(`${results.title}, ${results.date}, commit ${results.commit}`)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    text(12, 22, results.title, 'font-size="16" font-weight="600" fill="#222"'),
    text(12, 40, results.metric, 'fill="#444"'),
    text(
      12,
      56,
      `${results.date}, commit ${results.commit}, Node ${results.node}, ${results.machine}`,
      'fill="#777" font-size="11"',
    ),
  );
  for (const entry of legend) {
    parts.push(
      `<rect x="${entry.x.toFixed(1)}" y="${entry.y}" width="10" height="10" fill="${entry.colour}"/>`,
      text(entry.x + 14, entry.y + 9, entry.label, 'fill="#333" font-size="11"'),
    );
  }
  // Grid lines every 0.25 (labelled every 0.5), and the reference at 1.0.
  for (let tick = 0; tick <= max + 1e-9; tick += 0.25) {
    const major = Math.abs(tick * 2 - Math.round(tick * 2)) < 1e-9;
    parts.push(
      `<line x1="${x(tick).toFixed(1)}" y1="${TOP - 4}" x2="${x(tick).toFixed(1)}" y2="${TOP + plotHeight}" stroke="${major ? "#ddd" : "#f0f0f0"}"/>`,
    );
    if (major) {
      parts.push(
        text(
          x(tick),
          TOP + plotHeight + 14,
          `${tick.toFixed(1)}×`,
          'fill="#666" font-size="11" text-anchor="middle"',
        ),
      );
    }
  }
  parts.push(
    `<line x1="${x(1).toFixed(1)}" y1="${TOP - 8}" x2="${x(1).toFixed(1)}" y2="${TOP + plotHeight}" stroke="#222" stroke-dasharray="4 3"/>`,
    text(
      x(1),
      TOP + plotHeight + 30,
      `1.0 = ${results.reference}`,
      'fill="#222" font-size="11" text-anchor="middle"',
    ),
  );
  // Bars.
  results.scenarios.forEach((scenario, g) => {
    const groupTop = TOP + g * groupHeight;
    const middle = groupTop + (results.series.length * (BAR_HEIGHT + BAR_GAP)) / 2 + 4;
    const lines = wrap(scenario.label, LABEL_CHARS);
    lines.forEach((line, n) => {
      const y = middle + (n - (lines.length - 1) / 2) * 14;
      parts.push(text(LABEL_WIDTH - 10, y, line, 'fill="#222" text-anchor="end"'));
    });
    results.series.forEach((series, i) => {
      const y = groupTop + i * (BAR_HEIGHT + BAR_GAP);
      const value = results.ratios[scenario.id]?.[series.id];
      const colour = COLOURS[i % COLOURS.length] as string;
      if (value === undefined || !Number.isFinite(value)) {
        parts.push(text(x(0) + 4, y + BAR_HEIGHT - 3, "n/a", 'fill="#999" font-size="11"'));
        return;
      }
      parts.push(
        `<rect x="${x(0).toFixed(1)}" y="${y}" width="${(x(value) - x(0)).toFixed(1)}" height="${BAR_HEIGHT}" fill="${colour}"><title>${escapeXml(`${series.label}: ${value.toFixed(2)}×`)}</title></rect>`,
        text(
          x(value) + 4,
          y + BAR_HEIGHT - 3,
          `${value.toFixed(2)}×`,
          'fill="#333" font-size="11"',
        ),
      );
    });
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

/** Renders every `*.json` in `dir`; returns the SVG paths written. */
export function renderAll(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const written: string[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith(".json")) continue;
    const results = JSON.parse(readFileSync(join(dir, file), "utf8")) as BenchResults;
    const path = join(dir, file.replace(/\.json$/, ".svg"));
    writeFileSync(path, renderChart(results));
    written.push(path);
  }
  return written;
}

if (import.meta.filename === process.argv[1]) {
  const dir = process.argv[2] ?? join(import.meta.dirname, "results");
  for (const path of renderAll(dir)) console.log(`wrote ${path}`);
}
