"""Independent check of mtaio's MIME output: parse stdin with Python's email package
(policy.default) and print the decoded fields as JSON."""
import hashlib, json, sys
from email import policy
from email.parser import BytesParser

msg = BytesParser(policy=policy.default).parse(sys.stdin.buffer)

def addrs(name):
    header = msg[name]
    if header is None:
        return []
    return [{"name": a.display_name, "address": a.addr_spec} for a in header.addresses]

out = {"subject": str(msg["subject"] or ""), "from": addrs("from"), "to": addrs("to"),
       "cc": addrs("cc"), "bcc": addrs("bcc"), "defects": len(msg.defects),
       "text": None, "html": None, "attachments": []}
body = msg.get_body(preferencelist=("plain",))
if body is not None:
    out["text"] = body.get_content().replace("\r\n", "\n")
body = msg.get_body(preferencelist=("html",))
if body is not None:
    out["html"] = body.get_content().replace("\r\n", "\n")
for part in msg.walk():
    if part.is_multipart() or part.get_content_type() in ("text/plain", "text/html") and part.get_filename() is None:
        continue
    data = part.get_payload(decode=True) or b""
    out["attachments"].append({"filename": part.get_filename(), "contentType": part.get_content_type(),
                               "contentId": part["content-id"], "sha256": hashlib.sha256(data).hexdigest()})
print(json.dumps(out, ensure_ascii=False))
