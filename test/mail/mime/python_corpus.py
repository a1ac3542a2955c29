"""The corpus oracle: for each .eml path on the command line, the fields Python's email package
(policy.default) decodes, as JSON: subject, addresses, date in UTC, text/HTML bodies and the
attachments (the leaves that are not those bodies) with their payload hashes."""
import datetime, hashlib, json, sys
from email import policy
from email.parser import BytesParser


def addresses(msg, name):
    try:
        header = msg[name]
    except Exception as error:  # Python's own parser can fail on bad input: report it
        return {"error": repr(error)}
    if header is None:
        return []
    return [{"name": a.display_name, "address": a.addr_spec} for a in header.addresses]


def date(msg):
    try:
        header = msg["date"]
    except Exception as error:
        return {"error": repr(error)}
    if header is None or header.datetime is None:
        return None
    d = header.datetime
    if d.tzinfo is None:  # "-0000": UTC with no known offset
        d = d.replace(tzinfo=datetime.timezone.utc)
    return d.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def content(part):
    if part is None:
        return None
    if isinstance(part, Exception):
        return {"error": repr(part)}
    try:
        return part.get_content().replace("\r\n", "\n")
    except Exception as error:
        return {"error": repr(error)}


def leaves(part):
    """Leaf parts in order; a message/rfc822 part is one leaf (Python sees it as multipart)."""
    if part.get_content_type() == "message/rfc822" or not part.is_multipart():
        return [part]
    return [leaf for child in part.iter_parts() for leaf in leaves(child)]


def body(msg, kind):
    try:
        return msg.get_body(preferencelist=(kind,))
    except Exception as error:  # e.g. AttributeError on a multipart without a boundary
        return error


out = {}
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        msg = BytesParser(policy=policy.default).parse(f)
    plain = body(msg, "plain")
    html = body(msg, "html")
    attachments = []
    for part in leaves(msg):
        if part is plain or part is html:
            continue
        if part.get_content_type() == "message/rfc822":
            attachments.append({"filename": part.get_filename(), "contentType": "message/rfc822"})
            continue
        data = part.get_payload(decode=True) or b""
        attachments.append({"filename": part.get_filename(), "contentType": part.get_content_type(),
                            "sha256": hashlib.sha256(data).hexdigest()})
    out[path.rsplit("/", 1)[-1]] = {
        "subject": str(msg["subject"]) if msg["subject"] is not None else "",
        "from": addresses(msg, "from"), "to": addresses(msg, "to"), "cc": addresses(msg, "cc"),
        "replyTo": addresses(msg, "reply-to"), "date": date(msg),
        "text": content(plain), "html": content(html), "attachments": attachments,
    }
print(json.dumps(out, ensure_ascii=False, indent=1))
