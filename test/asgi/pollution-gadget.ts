/**
 * The naive deep merge a handler might write: the classic prototype-pollution gadget. Tests feed
 * parsed request bodies through it to prove that parsing leaves nothing for it to exploit.
 */
export function naiveMerge(target: Record<string, unknown>, source: unknown): void {
  if (typeof source !== "object" || source === null) return;
  for (const key of Object.keys(source)) {
    const value = (source as Record<string, unknown>)[key];
    if (typeof value === "object" && value !== null) {
      target[key] ??= {};
      naiveMerge(target[key] as Record<string, unknown>, value);
    } else target[key] = value;
  }
}
