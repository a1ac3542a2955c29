"""Independent check of mtaio's MIME output, many messages per process.

stdin: a JSON array of {"raw": base64 message, "utf8": rendered with SMTPUTF8}. stdout: a JSON array with, for each, the
fields Python's email package (policy.default) decodes: header values, address groups, and
every leaf part with its decoded filename, transfer encoding, payload hash and text.
"""
import base64, hashlib, json, sys
from email import policy
from email.parser import BytesParser, Parser


def addresses(msg, name):
    header = msg[name]
    if header is None:
        return None
    return [
        {
            "group": g.display_name,
            "mailboxes": [{"name": a.display_name, "address": a.addr_spec} for a in g.addresses],
        }
        for g in header.groups
    ]


def defects(msg, top_headers=True):
    out = []
    for part in msg.walk():
        out += [type(d).__name__ for d in part.defects]
        if part is msg and not top_headers:
            continue
        for name, value in part.items():
            out += [f"{name}: {type(d).__name__}: {d}" for d in getattr(value, "defects", ())]
    return out


def leaf(part):
    info = {
        "contentType": part.get_content_type(),
        "cte": part.get("content-transfer-encoding"),
        "disposition": part.get_content_disposition(),
        # The decoded parameter itself: get_filename() would strip surrounding whitespace.
        "filename": part["content-disposition"].params.get("filename") if part["content-disposition"] else None,
        "typeName": part["content-type"].params.get("name") if part["content-type"] else None,
        "contentId": part.get("content-id"),
        "charset": part.get_content_charset(),
    }
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()[0]
        info["innerSubject"] = str(inner["subject"] or "")
        info["innerBody"] = inner.get_payload(decode=True).decode("utf-8", "replace")
        return info
    data = part.get_payload(decode=True) or b""
    info["size"] = len(data)
    info["sha256"] = hashlib.sha256(data).hexdigest()
    if part.get_content_maintype() == "text":
        info["text"] = part.get_content().replace("\r\n", "\n")
    return info


def leaves(part):
    """Leaf parts in order; a message/rfc822 part counts as one leaf (Python sees it as multipart)."""
    if part.get_content_type() == "message/rfc822" or not part.is_multipart():
        return [part]
    return [leaf for child in part.iter_parts() for leaf in leaves(child)]


def tree(part):
    """The MIME tree as text, e.g. multipart/alternative(text/plain,text/html)."""
    if part.get_content_type() == "message/rfc822" or not part.is_multipart():
        return part.get_content_type()
    return part.get_content_type() + "(" + ",".join(tree(c) for c in part.iter_parts()) + ")"


def parse(raw, utf8):
    # RFC 6532 (SMTPUTF8) headers are UTF-8, which BytesParser reads as undecodable bytes: the
    # top-level header fields then come from parsing the decoded text (8bit bodies, though,
    # only decode right from bytes, so the parts still come from BytesParser).
    body = BytesParser(policy=policy.default).parsebytes(raw)
    msg = Parser(policy=policy.default).parsestr(raw.decode("utf-8")) if utf8 else body
    date = msg["date"]
    return {
        "subject": None if msg["subject"] is None else str(msg["subject"]),
        "from": addresses(msg, "from"),
        "to": addresses(msg, "to"),
        "cc": addresses(msg, "cc"),
        "replyTo": addresses(msg, "reply-to"),
        "bcc": msg["bcc"] is not None,
        "messageId": None if msg["message-id"] is None else str(msg["message-id"]),
        "date": None if date is None or date.datetime is None else date.datetime.isoformat(),
        "mimeVersion": None if msg["mime-version"] is None else str(msg["mime-version"]),
        "extra": {k: str(v) for k, v in msg.items() if k.lower().startswith("x-")},
        "defects": defects(body, not utf8) + (defects(msg) if utf8 else []),
        "parts": [leaf(p) for p in leaves(body)],
        "tree": tree(body),
    }


results = []
for item in json.load(sys.stdin):
    try:
        results.append(parse(base64.b64decode(item["raw"]), item["utf8"]))
    except Exception as error:  # reported, so the test shows which message broke Python
        results.append({"error": repr(error)})
print(json.dumps(results, ensure_ascii=False))
