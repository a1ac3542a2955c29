/**
 * Unstructured header values (Subject, Comments, custom fields; RFC 5322 §3.2.5, §3.6.5):
 * encoding with RFC 2047 encoded-words where needed, folding, and decoding.
 */
import { EncodedWordCutter, MAX_ENCODED_WORD, MIN_ENCODED_WORD } from "./encoded-word.js";
import { type FoldedHeader, LINE_LIMIT } from "./fold.js";

/** Longest plain word written as is; longer ones are encoded so they can be broken up. */
const MAX_PLAIN_WORD = LINE_LIMIT - 2;

/** True when `word` can appear as is in an unstructured value. */
function plainWord(word: string, smtputf8: boolean): boolean {
  if (word.length > MAX_PLAIN_WORD) return false;
  // "=?" could be read back as the start of an encoded-word.
  if (word.includes("=?")) return false;
  return smtputf8 ? !/[\0-\x20\x7f-\x9f]/.test(word) : /^[!-~]*$/.test(word);
}

/**
 * Writes a run of text as encoded-words, the first one fitted into the current line.
 * `whitespace` precedes the first word; later words are separated by a single space,
 * which decoders drop between adjacent encoded-words (RFC 2047 §6.2).
 */
export function addEncoded(header: FoldedHeader, whitespace: string, text: string): void {
  const cutter = new EncodedWordCutter(text);
  let ws = whitespace;
  while (!cutter.done) {
    let room = header.room(ws);
    if (room < MIN_ENCODED_WORD) {
      // Too little room left: continue on a new line (at the start of the value this folds
      // right after the colon, which RFC 5322 allows).
      header.fold();
      if (ws === "") ws = " ";
      room = header.room(ws);
    }
    header.add(ws, cutter.next(Math.min(room, MAX_ENCODED_WORD)));
    ws = " ";
  }
}

/** Adds an unstructured value (after `Name:`), encoding only the words that need it. */
export function addUnstructured(header: FoldedHeader, value: string, smtputf8 = false): void {
  // Split into words and the whitespace (SP/HTAB) before each.
  const parts = value.split(/([ \t]+)/);
  const words: { ws: string; word: string; plain: boolean }[] = [];
  let pendingWs = "";
  for (let i = 0; i < parts.length; i++) {
    if (i % 2 === 1) pendingWs = parts[i];
    else if (parts[i] !== "") {
      words.push({ ws: pendingWs, word: parts[i], plain: plainWord(parts[i], smtputf8) });
      pendingWs = "";
    }
  }
  const trailing = pendingWs;
  if (words.length === 0) {
    if (value !== "") addEncoded(header, " ", value);
    else header.add("", " ");
    return;
  }
  // Leading whitespace would be eaten by the parser; trailing whitespace too: encode them.
  if (words[0].ws !== "") {
    words[0] = { ws: "", word: words[0].ws + words[0].word, plain: false };
  }
  if (trailing !== "") {
    const last = words[words.length - 1];
    words[words.length - 1] = { ws: last.ws, word: last.word + trailing, plain: false };
  }
  let i = 0;
  while (i < words.length) {
    const ws = i === 0 ? " " : words[i].ws;
    if (words[i].plain) {
      header.add(ws, words[i].word);
      i++;
      continue;
    }
    // A run of words to encode, with the whitespace between them inside the encoded text
    // (whitespace between adjacent encoded-words is not part of the value).
    let text = words[i].word;
    let j = i + 1;
    while (j < words.length && !words[j].plain) {
      text += words[j].ws + words[j].word;
      j++;
    }
    addEncoded(header, ws, text);
    i = j;
  }
}

/** RFC 5322 §2.2.3 unfolding: CRLF (or a bare LF) followed by whitespace becomes that whitespace. */
export function unfold(value: string): string {
  return value.replace(/\r?\n(?=[ \t])/g, "").replace(/[\r\n]+/g, "");
}
