/**
 * The syntax of a `Host` header value (RFC 9110 §7.2): `uri-host [ ":" port ]`, with
 * `uri-host` an IP-literal in brackets, an IPv4 address or a reg-name (RFC 3986 §3.2.2) and
 * `port = *DIGIT` (RFC 3986 §3.2.3). RFC 9112 §3.2 makes a server answer 400 to a value that
 * does not match it.
 */

/** Characters of a reg-name: unreserved and sub-delims (RFC 3986 §2.2, §2.3); `%` apart. */
const REG_NAME = new Uint8Array(128);
for (const char of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=") {
  REG_NAME[char.charCodeAt(0)] = 1;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function isHexDigit(code: number): boolean {
  const lower = code | 0x20;
  return isDigit(code) || (lower >= 0x61 && lower <= 0x66);
}

/** True when `value[from, to)` is `*DIGIT`. */
function isPort(value: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    if (!isDigit(value.charCodeAt(i))) return false;
  }
  return true;
}

/**
 * True when `value[1, end)` (inside the brackets) has only the characters of an IPv6 address
 * or an IPvFuture literal (RFC 3986 §3.2.2): hex digits, `:` and `.`, or `v` + hex + `.` +
 * unreserved / sub-delims / `:`. Not a full IPv6 grammar: the point is that no delimiter,
 * space or control character gets through.
 */
function isIPLiteral(value: string, end: number): boolean {
  if (end <= 1) return false;
  if ((value.charCodeAt(1) | 0x20) === 0x76) {
    // IPvFuture: "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
    let i = 2;
    while (i < end && isHexDigit(value.charCodeAt(i))) i++;
    if (i === 2 || i >= end - 1 || value.charCodeAt(i) !== 0x2e) return false;
    for (i++; i < end; i++) {
      const code = value.charCodeAt(i);
      if (code !== 0x3a && (code > 0x7f || REG_NAME[code] === 0)) return false;
    }
    return true;
  }
  for (let i = 1; i < end; i++) {
    const code = value.charCodeAt(i);
    if (code !== 0x3a && code !== 0x2e && !isHexDigit(code)) return false;
  }
  return true;
}

/**
 * True when `value` is a valid `Host` field value. The empty value is valid (RFC 9112 §3.2:
 * what a client sends when the target URI has no authority).
 *
 * @example
 * ```ts
 * isValidHost("example.com:8080"); // true
 * isValidHost("[::1]:8000"); // true
 * isValidHost("a b"); // false
 * isValidHost("evil.com/x"); // false
 * ```
 */
export function isValidHost(value: string): boolean {
  const length = value.length;
  if (length === 0) return true;
  let hostEnd: number;
  if (value.charCodeAt(0) === 0x5b) {
    const close = value.indexOf("]");
    if (close < 0 || !isIPLiteral(value, close)) return false;
    hostEnd = close + 1;
  } else {
    hostEnd = length;
    for (let i = 0; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code === 0x3a) {
        hostEnd = i;
        break;
      }
      if (code === 0x25) {
        // pct-encoded = "%" HEXDIG HEXDIG
        if (
          i + 2 >= length ||
          !isHexDigit(value.charCodeAt(i + 1)) ||
          !isHexDigit(value.charCodeAt(i + 2))
        ) {
          return false;
        }
        i += 2;
      } else if (code > 0x7f || REG_NAME[code] === 0) {
        return false;
      }
    }
  }
  if (hostEnd === length) return true;
  return value.charCodeAt(hostEnd) === 0x3a && isPort(value, hostEnd + 1, length);
}
