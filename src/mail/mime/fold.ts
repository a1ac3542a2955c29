/**
 * Header folding (RFC 5322 §2.2.3): a fold is a CRLF inserted *before* existing whitespace,
 * so unfolding (removing the CRLF) gives back the exact value. Lines are kept within 78
 * characters where a fold point exists (§2.1.1); a single unbreakable token may be longer,
 * and the encoders keep tokens short enough that no line reaches 998.
 */
export const LINE_LIMIT = 78;

export class FoldedHeader {
  #out: string;
  #column: number;

  /** Starts a field as `Name:`; the space after the colon is the first token's whitespace. */
  constructor(name: string) {
    this.#out = `${name}:`;
    this.#column = this.#out.length;
  }

  get column(): number {
    return this.#column;
  }

  /** Columns left on this line after `whitespace` is written. */
  room(whitespace: string): number {
    return LINE_LIMIT - this.#column - whitespace.length;
  }

  /**
   * Appends `token` preceded by `whitespace` (space or tab characters; may be empty when the
   * token must stick to the previous one). Folds first when the token would overflow the line
   * and there is whitespace to fold at.
   */
  add(whitespace: string, token: string): void {
    if (
      whitespace !== "" &&
      this.#column + whitespace.length + token.length > LINE_LIMIT &&
      this.#column > whitespace.length
    ) {
      this.fold();
    }
    this.#out += whitespace + token;
    this.#column += whitespace.length + token.length;
  }

  /** Forces a line break (the next `add` must bring whitespace). */
  fold(): void {
    this.#out += "\r\n";
    this.#column = 0;
  }

  toString(): string {
    return `${this.#out}\r\n`;
  }
}
