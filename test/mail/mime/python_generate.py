"""Messages written by Python's email package (EmailMessage, policy.default / policy.SMTP) for
mtaio's parser to read. Prints a JSON list: each entry has the raw bytes (base64) and what
Python's own parser reads back from them, field by field."""
import base64, hashlib, json
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime
from datetime import datetime, timezone, timedelta

def base(subject, **headers):
    m = EmailMessage()
    m["Subject"] = subject
    m["From"] = headers.pop("sender", '"Doe, John" <john@example.org>')
    m["To"] = headers.pop("to", "山田 太郎 <taro@example.jp>, plain@example.com")
    m["Date"] = format_datetime(datetime(2026, 11, 25, 6, 36, 23, tzinfo=timezone(timedelta(hours=9))))
    m["Message-ID"] = "<python-1@example.org>"
    for k, v in headers.items():
        m[k.replace("_", "-")] = v
    return m

png = bytes((i * 7) % 256 for i in range(3000))
messages = []

m = base("テストメッセージ", cc="Team: a@x.org, \"B, b\" <b@y.org>;")
m.set_content("mtaioからこんにちは\nzweite Zeile\n")
messages.append(m.as_bytes())

m = base("Report with attachments — Grüße", reply_to="Support <support@example.org>")
m.set_content("plain text\n")
m.add_alternative('<p>html <img src="cid:logo@x"></p>\n', subtype="html")
m.get_payload()[1].add_related(png, "image", "png", cid="<logo@x>", filename="logo.png")
m.add_attachment("hello\n".encode(), "text", "plain", filename="報告書 2026.txt")
m.add_attachment(png, "application", "octet-stream",
                 filename="a rather long file name that needs RFC 2231 continuations éàü.bin")
messages.append(m.as_bytes(policy=policy.SMTP))

m = base("Latin-1 and quoted-printable")
m.set_content("café crème " * 20 + "\n", charset="iso-8859-1", cte="quoted-printable")
messages.append(m.as_bytes())

m = base("ISO-2022-JP")
m.set_content("日本語のメール\n", charset="iso-2022-jp", cte="7bit")
messages.append(m.as_bytes())

inner = base("inner message")
inner.set_content("I am embedded\n")
m = base("Fwd: inner message")
m.set_content("see attached\n")
m.add_attachment(inner)
messages.append(m.as_bytes(policy=policy.SMTP))

m = base("html only, base64", to="undisclosed-recipients:;")
m.set_content("<h1>Überschrift</h1>\n", subtype="html", cte="base64")
messages.append(m.as_bytes())

def addrs(msg, name):
    header = msg[name]
    if header is None:
        return []
    out = []
    for group in header.groups:
        for a in group.addresses:
            entry = {"address": a.addr_spec}
            if a.display_name:
                entry["name"] = a.display_name
            if group.display_name is not None:
                entry["group"] = group.display_name
            out.append(entry)
    return out

out = []
for raw in messages:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    entry = {"raw": base64.b64encode(raw).decode(), "subject": str(msg["subject"]),
             "from": addrs(msg, "from"), "to": addrs(msg, "to"), "cc": addrs(msg, "cc"),
             "replyTo": addrs(msg, "reply-to"), "messageId": str(msg["message-id"]),
             "date": msg["date"].datetime.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
             "text": None, "html": None, "attachments": []}
    body = msg.get_body(preferencelist=("plain",))
    if body is not None:
        entry["text"] = body.get_content().replace("\r\n", "\n")
    body = msg.get_body(preferencelist=("html",))
    if body is not None:
        entry["html"] = body.get_content().replace("\r\n", "\n")
    bodies = [msg.get_body(preferencelist=("plain",)), msg.get_body(preferencelist=("html",))]
    def leaves(part):
        # message/rfc822 counts as multipart in Python; it is one attachment for us.
        if part.get_content_type() == "message/rfc822":
            yield part
        elif part.is_multipart():
            for child in part.iter_parts():
                yield from leaves(child)
        else:
            yield part
    for part in leaves(msg):
        if any(part is b for b in bodies):
            continue
        cid = part["content-id"]
        item = {"filename": part.get_filename() or "", "contentType": part.get_content_type(),
                "contentId": str(cid).strip("<>") if cid else None}
        if part.get_content_type() == "message/rfc822":
            item["innerSubject"] = str(part.get_payload(0)["subject"])
        else:
            item["sha256"] = hashlib.sha256(part.get_payload(decode=True) or b"").hexdigest()
        entry["attachments"].append(item)
    out.append(entry)
print(json.dumps(out, ensure_ascii=False))
