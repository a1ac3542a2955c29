/**
 * RFC 3676 `format=flowed` text (what Thunderbird and others send): a line ending in a space
 * is a soft break, joined with the next line of the same quote depth; space-stuffing (§4.4) is
 * removed; `delsp=yes` (§4.2) also drops the space before a soft break. The signature
 * separator `-- ` is never flowed (§4.3).
 */

function quoteDepth(line: string): number {
  let depth = 0;
  while (depth < line.length && line.charCodeAt(depth) === 0x3e) depth++;
  return depth;
}

/** Unflows `text` (lines separated by `\n`). Linear: each line is looked at once. */
export function unflow(text: string, delsp: boolean): string {
  const out: string[] = [];
  let paragraph: string[] = [];
  let paragraphDepth = -1;
  const end = (): void => {
    if (paragraphDepth < 0) return;
    out.push(">".repeat(paragraphDepth) + (paragraphDepth > 0 ? " " : "") + paragraph.join(""));
    paragraph = [];
    paragraphDepth = -1;
  };
  for (const raw of text.split("\n")) {
    const depth = quoteDepth(raw);
    let line = raw.slice(depth);
    if (line.startsWith(" ")) line = line.slice(1); // space-stuffing, §4.4
    if (paragraphDepth >= 0 && depth !== paragraphDepth) end(); // §4.5: depth change ends it
    const soft = line.endsWith(" ") && line !== "-- ";
    paragraphDepth = depth;
    paragraph.push(soft && delsp ? line.slice(0, -1) : line);
    if (!soft) end();
  }
  end();
  return out.join("\n");
}
