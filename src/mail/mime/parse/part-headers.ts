/**
 * What a body part's MIME header fields say (RFC 2045 §5, RFC 2183, RFC 2231), with the
 * defaults that apply when they are missing or unreadable.
 */
import { parseParameterized } from "../params.js";
import { fieldValue, type HeaderField } from "./header-lines.js";
import { cleanHeaderText } from "./header-text.js";

/** RFC 2045 §5.1 token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

export interface PartHeaders {
  /** Lower-case `type/subtype`. */
  type: string;
  /** Content-Type parameters, decoded (RFC 2231 / RFC 2047), by lower-case name. */
  params: Record<string, string>;
  /** Lower-case Content-Transfer-Encoding, `7bit` when absent. */
  transferEncoding: string;
  /** `inline`, `attachment` (lower-case) or undefined when there is no Content-Disposition. */
  disposition: string | undefined;
  /** Content-Disposition parameters. */
  dispositionParams: Record<string, string>;
  /** `filename` of Content-Disposition, else the old `name` of Content-Type (RFC 2183 §2.3). */
  filename: string | undefined;
  /** Content-ID without the angle brackets (RFC 2045 §7). */
  contentId: string | undefined;
}

/**
 * Reads the MIME fields of a part. `defaultType` is `text/plain` (RFC 2045 §5.2), or
 * `message/rfc822` inside multipart/digest (RFC 2046 §5.1.5). An unreadable Content-Type falls
 * back to the default too, as §5.2 asks.
 */
export function readPartHeaders(fields: readonly HeaderField[], defaultType: string): PartHeaders {
  const contentType = fieldValue(fields, "content-type");
  let type = defaultType;
  let params: Record<string, string> = Object.create(null);
  if (contentType !== undefined) {
    const parsed = parseParameterized(contentType);
    const [major, minor, extra] = parsed.value.split("/");
    if (major && minor && extra === undefined && TOKEN.test(major) && TOKEN.test(minor.trim())) {
      type = `${major}/${minor.trim()}`;
      params = parsed.params;
    } else if (defaultType === "text/plain") {
      // §5.2: an invalid Content-Type means text/plain; charset=us-ascii.
      params = Object.create(null);
    }
  }
  const cte = fieldValue(fields, "content-transfer-encoding");
  const written = cte ?? "7bit";
  // Comments (RFC 2045 §6.1 allows CFWS around the mechanism) are rare: removed only if there.
  const transferEncoding = (written.includes("(") ? written.replace(/\([^()]*\)/g, "") : written)
    .trim()
    .toLowerCase();
  const dispositionText = fieldValue(fields, "content-disposition");
  let disposition: string | undefined;
  let dispositionParams: Record<string, string> = Object.create(null);
  if (dispositionText !== undefined) {
    const parsed = parseParameterized(dispositionText);
    disposition = parsed.value || undefined;
    dispositionParams = parsed.params;
  }
  const rawName = dispositionParams.filename ?? params.name;
  const filename = rawName === undefined ? undefined : cleanHeaderText(rawName);
  const cid = fieldValue(fields, "content-id");
  let contentId: string | undefined;
  if (cid !== undefined) {
    const angle = /<([^<>]*)>/.exec(cid);
    contentId = cleanHeaderText(angle ? angle[1] : cid).trim() || undefined;
  }
  return {
    type,
    params,
    transferEncoding,
    disposition,
    dispositionParams,
    filename,
    contentId,
  };
}
