"""Writes the parse corpus (*.eml beside this file): one message per defect class of issue 21,
in the styles of the mailers that send them. Deterministic; run it again after editing:
    python3 test/mail/mime/corpus/make_corpus.py
The expected decoded fields are in expected.json (written by hand, not by this script).
"""
import base64, os, quopri

HERE = os.path.dirname(os.path.abspath(__file__))


def b_word(text, charset, chunk=None):
    """One RFC 2047 B word per piece; ISO-2022-JP pieces are each complete (escape to ASCII)."""
    data = text.encode(charset)
    return f"=?{charset}?B?{base64.b64encode(data).decode()}?="


def raw_b_word(data, charset):
    return f"=?{charset}?B?{base64.b64encode(data).decode()}?="


def write(name, head_lines, body=b"", sep=b"\r\n"):
    head = sep.join(line.encode("latin1") if isinstance(line, str) else line for line in head_lines)
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(head + sep + sep + body)


def uuencode(name, data):
    def enc(v):
        return chr(96 if v == 0 else v + 32)
    lines = [f"begin 644 {name}"]
    for i in range(0, len(data), 45):
        chunk = data[i:i + 45]
        line = enc(len(chunk))
        for k in range(0, len(chunk), 3):
            a, b, c = (list(chunk[k:k + 3]) + [0, 0])[:3]
            line += enc(a >> 2) + enc(((a << 4) | (b >> 4)) & 63) + enc(((b << 2) | (c >> 6)) & 63) + enc(c & 63)
        lines.append(line)
    lines += ["`", "end"]
    return "\r\n".join(lines)


BINARY = bytes((i * 37 + 11) & 0xFF for i in range(200))

# 1. Thunderbird-style ISO-2022-JP: a long subject folded into several self-contained B words.
write("iso2022jp-thunderbird.eml", [
    "From: " + b_word("山田太郎", "iso-2022-jp") + " <taro@example.jp>",
    "To: hanako@example.jp",
    "Subject: " + b_word("会議の議事録について", "ISO-2022-JP"),
    " " + b_word("（第二回）", "ISO-2022-JP"),
    " " + b_word("確認のお願い", "ISO-2022-JP"),
    "Date: Mon, 7 Dec 2026 10:00:00 +0900",
    "Message-ID: <tb-1@example.jp>",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=ISO-2022-JP; format=flowed; delsp=yes",
    "Content-Transfer-Encoding: 7bit",
], "お世話になっております。\r\n議事録を送ります。\r\n".encode("iso-2022-jp"))

# 2. Outlook/Becky!-style: lower-case charset, TAB folds, a filename as RFC 2231 plain
#    continuations that hold encoded-words, and the legacy quoted name="=?…?=".
write("iso2022jp-outlook.eml", [
    "From: \"" + b_word("鈴木", "iso-2022-jp") + "\" <suzuki@example.co.jp>",
    "To: " + b_word("営業部", "iso-2022-jp") + "\t" + b_word("各位", "iso-2022-jp") + " <sales@example.co.jp>",
    "Subject: " + b_word("【重要】", "iso-2022-jp"),
    "\t" + b_word("見積書送付の件", "iso-2022-jp"),
    "Date: Tue, 8 Dec 2026 09:30:00 +0900",
    "Message-ID: <ol-2@example.co.jp>",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="----=_NextPart_000_0001"',
], ("------=_NextPart_000_0001\r\n"
    "Content-Type: text/plain; charset=\"iso-2022-jp\"\r\n"
    "Content-Transfer-Encoding: 7bit\r\n\r\n").encode() + "見積書を添付します。\r\n".encode("iso-2022-jp") +
   ("\r\n------=_NextPart_000_0001\r\n"
    "Content-Type: application/pdf;\r\n"
    "\tname=\"" + b_word("見積書", "iso-2022-jp") + " " + b_word("２０２６.pdf", "iso-2022-jp") + "\"\r\n"
    "Content-Disposition: attachment;\r\n"
    "\tfilename*0=\"" + b_word("見積書", "iso-2022-jp") + "\";\r\n"
    "\tfilename*1=\"" + b_word("２０２６.pdf", "iso-2022-jp") + "\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(BINARY).decode() + "\r\n"
    "------=_NextPart_000_0001--\r\n").encode())

# 3. Japanese mobile style: Shift_JIS subject cut in the middle of a character between two
#    words (stateless: the bytes must be joined), 8bit Shift_JIS body.
sjis = "携帯からのメール".encode("shift_jis")
write("shiftjis-mobile.eml", [
    "From: mobile@docomo.example.ne.jp",
    "To: pc@example.jp",
    "Subject: " + raw_b_word(sjis[:5], "Shift_JIS") + " " + raw_b_word(sjis[5:], "Shift_JIS"),
    "Date: Wed, 9 Dec 2026 21:15:00 +0900",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=Shift_JIS",
    "Content-Transfer-Encoding: 8bit",
], "今から帰ります。\r\n～ｶﾀｶﾅも①②\r\n".encode("cp932", "replace").replace(b"?", b""))

# 4. EUC-JP body in quoted-printable, subject in EUC-JP Q words split mid-character.
euc = "日本語の件名".encode("euc-jp")
write("eucjp-qp.eml", [
    "From: unix@example.jp",
    "To: user@example.jp",
    "Subject: =?EUC-JP?Q?" + "".join(f"={b:02X}" for b in euc[:3]) + "?=",
    " =?EUC-JP?Q?" + "".join(f"={b:02X}" for b in euc[3:]) + "?=",
    "Date: Thu, 10 Dec 2026 08:00:00 +0900",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=EUC-JP",
    "Content-Transfer-Encoding: quoted-printable",
], quopri.encodestring("ＥＵＣ・ＪＰの本文です。\r\n".encode("euc-jp")))

# 5. windows-1252 with 0x80-0x9F in the subject and a quoted-printable body (Outlook, Windows).
write("windows-1252.eml", [
    "From: =?iso-8859-1?Q?Ren=E9_M=FCller?= <rene@example.de>",
    "To: team@example.com",
    "Subject: =?Windows-1252?Q?It=92s_=80_5_=96_=93quoted=94?=",
    "Date: Fri, 11 Dec 2026 16:45:00 +0100",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=\"windows-1252\"",
    "Content-Transfer-Encoding: quoted-printable",
], b"Price: =80 12 =96 that=92s all=85\r\n")

# 6. iso-8859-1 declared, windows-1252 bytes sent (a very common Windows mislabel).
write("latin1-mislabelled.eml", [
    "From: office@example.fr",
    "To: client@example.fr",
    "Subject: Devis",
    "Date: Fri, 11 Dec 2026 10:00:00 +0100",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=iso-8859-1",
    "Content-Transfer-Encoding: 8bit",
], "L'offre \u2013 d\u00e9j\u00e0 valid\u00e9e \u2019ok\u2019 : 10 \u20ac\r\n".encode("cp1252"))

# 7. UTF-7 from an old Outlook, in the subject and the body.
write("utf7-outlook.eml", [
    "From: old@example.com",
    "To: new@example.com",
    "Subject: =?utf-7?Q?Gr+APwA3w-e_+AKM-5?=",
    "Date: Sat, 12 Dec 2026 12:00:00 +0000",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-7",
], "Grüße aus Köln, 1 + 1 = 2 und 日本語\r\n".encode("utf-7"))

# 8. A part with Content-Transfer-Encoding: x-uuencode, named only by its begin line.
write("uuencode-cte.eml", [
    "From: eudora@example.edu",
    "To: prof@example.edu",
    "Subject: homework",
    "Date: Sun, 13 Dec 2026 23:59:00 -0500",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="=====================_1==_"',
], ("--=====================_1==_\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nAttached.\r\n"
    "--=====================_1==_\r\nContent-Type: application/octet-stream\r\n"
    "Content-Transfer-Encoding: x-uuencode\r\n\r\n" + uuencode("hw1.bin", BINARY) + "\r\n"
    "--=====================_1==_--\r\n").encode())

# 9. Old Netscape/Pine: a uuencoded file pasted into a plain-text body, no MIME at all.
write("uuencode-inline.eml", [
    "From: pine@example.org",
    "To: friend@example.org",
    "Subject: the file",
    "Date: Mon, 14 Dec 1998 11:00:00 -0800",
], ("Here it is:\r\n\r\n" + uuencode("notes.txt", b"line one\nline two\n") + "\r\n\r\n-- \r\nme\r\n").encode())

# 10. A broken inner multipart (no boundary) before the real text, and one with bytes in it.
write("broken-multipart.eml", [
    "From: list@example.org",
    "To: member@example.org",
    "Subject: digest",
    "Date: Tue, 15 Dec 2026 07:00:00 +0000",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="outer"',
], ("--outer\r\nContent-Type: multipart/alternative\r\n\r\n\r\n"
    "--outer\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe real text.\r\n"
    "--outer\r\nContent-Type: multipart/related; boundary=\"gone\"\r\n\r\norphaned bytes\r\n"
    "--outer--\r\n").encode())

# 11. Empty parts between consecutive boundaries (generators that emit a delimiter twice).
write("empty-parts.eml", [
    "From: bot@example.org",
    "To: user@example.org",
    "Subject: report",
    "Date: Tue, 15 Dec 2026 07:00:00 +0000",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b"',
], b"--b\r\n--b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nReport body.\r\n--b--\r\n")

# 12. Dates: obsolete and careless forms, one message each.
for name, date in [
    ("date-jst.eml", "Wed, 16 Dec 2026 18:30:00 JST"),
    ("date-outlook-express.eml", "Thursday, April 09, 2003 9:00 AM"),
    ("date-obsolete-year.eml", "Sun, 029 Feb 04 10:00 GMT"),
    ("date-glued-zone.eml", "1 Jan 2024 00:01+0000"),
    ("date-military.eml", "Mon, 1 Jan 24 10:00:00 Q"),
]:
    write(name, ["From: a@example.com", "To: b@example.com", "Subject: " + name, "Date: " + date], b"x\r\n")

# 13. Obsolete and careless addresses.
write("addresses-obsolete.eml", [
    "From  : Joe Bloggs <joe@example.com>",
    "To: a@example.com b@example.org",
    "Cc: Big Bug bb@bug.com, carol@example.net (Carol Smith)",
    "Reply-To: Mail Delivery System <>",
    "Subject: addresses",
    "Date: Wed, 16 Dec 2026 10:00:00 +0000",
], b"x\r\n")

# 14. =?NONE?= and unknown charsets; encoded-words inside quoted and unquoted filenames.
write("none-charset.eml", [
    "From: =?NONE?B?" + base64.b64encode("Jürgen".encode()).decode() + "?= <j@example.de>",
    "To: b@example.com",
    "Subject: =?x-unknown?Q?caf=E9?= =?NONE?B?" + base64.b64encode("Grüße".encode()).decode() + "?=",
    "Date: Wed, 16 Dec 2026 10:00:00 +0000",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b"',
], ("--b\r\nContent-Type: text/plain\r\n\r\nsee files\r\n"
    "--b\r\nContent-Type: application/octet-stream\r\n"
    "Content-Disposition: attachment; filename=\"=?utf-8?B?" + base64.b64encode("résumé.pdf".encode()).decode() + "?=\"\r\n\r\nA\r\n"
    "--b\r\nContent-Type: application/octet-stream\r\n"
    "Content-Disposition: attachment; filename==?utf-8?Q?na=C3=AFve.txt?=\r\n\r\nB\r\n"
    "--b--\r\n").encode())

# 15. Invalid quoted-printable.
write("invalid-qp.eml", [
    "From: a@example.com",
    "To: b@example.com",
    "Subject: qp",
    "Date: Wed, 16 Dec 2026 10:00:00 +0000",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
], b"x=4G y=G4 100%=zz caf=C3=A9\r\nsoft=\r\nbreak\r\n")

# 16. Bare-CR line endings (classic Mac OS mailers).
write("bare-cr.eml", [
    "From: mac@example.com",
    "To: b@example.com",
    "Subject: from a Mac",
    "Date: Wed, 16 Dec 1998 10:00:00 -0800",
], b"line one\rline two\r", sep=b"\r")

# 17. A forwarded message (message/rfc822), parsed on demand.
write("rfc822-forward.eml", [
    "From: fwd@example.com",
    "To: b@example.com",
    "Subject: Fwd: lunch",
    "Date: Wed, 16 Dec 2026 10:00:00 +0000",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b"',
], ("--b\r\nContent-Type: text/plain\r\n\r\nForwarding.\r\n"
    "--b\r\nContent-Type: message/rfc822\r\n\r\n"
    "From: " + b_word("田中", "iso-2022-jp") + " <tanaka@example.jp>\r\nSubject: " + b_word("ランチ", "iso-2022-jp") + " " + b_word("の件", "iso-2022-jp") + "\r\nDate: Tue, 15 Dec 2026 12:00:00 JST\r\n\r\nnoon?\r\n"
    "--b--\r\n").encode())
