// TEMPORARY stub of the codec's command side, replaced by the real one on merge.
import { IMAPError } from "../../../errors.js";
export type CommandPart = string | { literal: Uint8Array; nonSync: boolean; binary?: boolean };
export interface EncodeOptions { literalPlus: boolean; literalMinus: boolean; utf8: boolean }
const bad = (m: string) => new IMAPError(m, { code: "IMAP_INVALID_ARGUMENT" });
export function encodeString(value: string | Uint8Array, options: EncodeOptions, kind: "astring" | "string" = "astring"): CommandPart[] {
  const text = typeof value === "string" ? value : new TextDecoder().decode(value);
  if (/[\r\n\0]/.test(text)) throw bad("CR/LF/NUL");
  if (kind === "astring" && /^[!#$&'+-Z^-z|}~]+$/.test(text) && !/[\\"]/.test(text)) return [text];
  if (/^[\x20-\x7e]*$/.test(text) || (options.utf8 && !/[\x00-\x1f]/.test(text))) return [`"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`];
  return [{ literal: new TextEncoder().encode(text), nonSync: options.literalPlus }];
}
export function encodeModifiedUTF7(name: string): string {
  let out = ""; let pending = "";
  const flush = () => { if (pending) { const b = Buffer.from(pending, "utf16le").swap16().toString("base64").replace(/=+$/, "").replace(/\//g, ","); out += `&${b}-`; pending = ""; } };
  for (const ch of name) { const c = ch.codePointAt(0)!; if (c >= 0x20 && c <= 0x7e) { flush(); out += ch === "&" ? "&-" : ch; } else pending += ch; }
  flush(); return out;
}
export function decodeModifiedUTF7(wire: string): string {
  return wire.replace(/&([^-]*)-/g, (_, b: string) => b === "" ? "&" : Buffer.from(b.replace(/,/g, "/"), "base64").swap16().toString("utf16le"));
}
export function decodeMailboxName(wire: string, utf8: boolean) { return utf8 ? wire : decodeModifiedUTF7(wire); }
export function encodeMailboxName(name: string, options: EncodeOptions): CommandPart[] {
  if (/[\r\n\0]/.test(name)) throw bad("CR/LF/NUL");
  return encodeString(options.utf8 ? name : encodeModifiedUTF7(name), options, "astring");
}
export function sequenceSet(numbers: Iterable<number>): string {
  const s = [...new Set(numbers)].sort((a, b) => a - b); const parts: string[] = [];
  for (let i = 0; i < s.length; ) { let j = i; while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++; parts.push(i === j ? `${s[i]}` : `${s[i]}:${s[j]}`); i = j + 1; }
  return parts.join(",");
}
export function parseSequenceSet(set: string): number[] {
  const out: number[] = []; for (const p of set.split(",")) { const [a, b] = p.split(":").map(Number); if (b === undefined) out.push(a); else for (let i = Math.min(a, b); i <= Math.max(a, b); i++) out.push(i); } return out;
}
const M = ["Jan","Feb","Mar","Apr","May","Jun","Jul","Aug","Sep","Oct","Nov","Dec"];
export function formatIMAPDate(d: Date) { return `${d.getUTCDate()}-${M[d.getUTCMonth()]}-${d.getUTCFullYear()}`; }
export function formatIMAPDateTime(d: Date) { const p = (n: number) => String(n).padStart(2, "0"); return `${p(d.getUTCDate())}-${M[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`; }
export function validateFlag(flag: string): string { if (!/^\\?[!#$&'+-Z^-z|}~]+$/.test(flag) || /[\\"]/.test(flag.slice(1))) throw bad(`bad flag ${flag}`); return flag; }
export interface SearchCriteria { [k: string]: unknown }
export function compileSearch(criteria: SearchCriteria | string, options: EncodeOptions): { parts: CommandPart[]; charset: boolean } {
  if (typeof criteria === "string") { if (/[\r\n\0]/.test(criteria)) throw bad("CR/LF/NUL"); return { parts: [criteria], charset: false }; }
  const parts: CommandPart[] = []; let charset = false;
  for (const [k, v] of Object.entries(criteria)) {
    if (v === true) parts.push(` ${k.toUpperCase()}`);
    else if (k === "uid") parts.push(` UID ${sequenceSet(v as number[])}`);
    else if (typeof v === "string") { if (/[^\x00-\x7f]/.test(v)) charset = true; parts.push(` ${k.toUpperCase()} `, ...encodeString(v, { ...options, utf8: false }, "string")); }
  }
  if (parts.length === 0) parts.push(" ALL");
  const first = parts[0]; if (typeof first === "string") parts[0] = first.slice(1);
  return { parts, charset };
}
