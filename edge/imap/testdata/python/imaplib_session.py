"""A full IMAP session with Python's imaplib, as a client no one here wrote.

usage: imaplib_session.py MODE HOST PORT CAFILE USER PASSWORD MESSAGE
MODE is "tls" (implicit TLS) or "starttls". MESSAGE is a file whose bytes
the INBOX's first message must have. Exits non-zero on any mismatch.
"""
import imaplib
import re
import socket
import ssl
import sys


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def ok(resp, what):
    typ, data = resp
    check(typ == "OK", f"{what}: {typ} {data!r}")
    return data


def connect(mode, host, port, ctx):
    if mode == "tls":
        return imaplib.IMAP4_SSL(host, port, ssl_context=ctx)
    m = imaplib.IMAP4(host, port)
    check("STARTTLS" in m.capabilities, f"no STARTTLS in {m.capabilities}")
    ok(m.starttls(ssl_context=ctx), "STARTTLS")
    return m


def main():
    mode, host, port, cafile, user, password, msgfile = sys.argv[1:8]
    port = int(port)
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = False
    expected = open(msgfile, "rb").read()

    m = connect(mode, host, port, ctx)
    ok(m.login(user, password), "LOGIN")
    caps = ok(m.capability(), "CAPABILITY")[0].split()
    check(b"IDLE" in caps and b"MOVE" in caps, f"capabilities {caps}")

    boxes = ok(m.list(), "LIST")
    names = [re.search(rb'"/" "?([^"]*)"?$', b).group(1).decode() for b in boxes]
    check("INBOX" in names and "Archive" in names, f"LIST {names}")

    count = int(ok(m.select("INBOX"), "SELECT")[0])
    check(count == 2, f"SELECT: {count} messages")

    data = ok(m.fetch("1", "(UID FLAGS RFC822.SIZE BODY.PEEK[])"), "FETCH")
    body = data[0][1]
    check(body == expected, f"BODY[] differs: {len(body)} vs {len(expected)} bytes")
    check(b"RFC822.SIZE %d" % len(expected) in data[0][0], f"FETCH meta {data[0][0]!r}")

    data = ok(m.fetch("2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[1]<0.10>)"), "FETCH sections")
    check(data[0][1] == b"Subject: Report attached\r\n\r\n", f"HEADER.FIELDS {data[0][1]!r}")
    check(data[1][1] == b"The report", f"partial {data[1][1]!r}")

    data = ok(m.store("2", "+FLAGS", "(\\Flagged)"), "STORE")
    check(b"\\Flagged" in data[0], f"STORE response {data!r}")
    found = ok(m.search(None, "FLAGGED"), "SEARCH")[0].split()
    check(found == [b"2"], f"SEARCH FLAGGED {found}")
    found = ok(m.uid("SEARCH", None, "SUBJECT", "lunch"), "UID SEARCH")[0].split()
    check(found == [b"1"], f"UID SEARCH SUBJECT {found}")

    typ, data = m.uid("MOVE", "2", "Archive")
    check(typ == "OK", f"UID MOVE {typ} {data}")
    check(m.untagged_responses.get("EXPUNGE") == [b"2"], f"MOVE responses {m.untagged_responses}")
    m.untagged_responses.clear()

    # IDLE by hand (imaplib in this Python has no idle()): a delivery
    # from a second connection must arrive as EXISTS.
    tag = m._new_tag().decode()
    m.send(f"{tag} IDLE\r\n".encode())
    check(m.readline().startswith(b"+"), "IDLE continuation")
    other = connect(mode, host, port, ctx)
    ok(other.login(user, password), "second LOGIN")
    ok(other.append("INBOX", "(\\Seen)", None, expected), "APPEND")
    other.logout()
    m.sock.settimeout(5)
    line = m.readline()
    check(re.match(rb"\* 2 EXISTS\r\n", line), f"during IDLE: {line!r}")
    m.send(b"DONE\r\n")
    while True:
        line = m.readline()
        if line.startswith(tag.encode()):
            check(b" OK " in line, f"IDLE end {line!r}")
            break

    data = ok(m.fetch("2", "(FLAGS BODY.PEEK[])"), "FETCH appended")
    check(data[0][1] == expected and b"\\Seen" in data[0][0], "appended message differs")
    ok(m.close(), "CLOSE")
    typ, _ = m.logout()
    check(typ == "BYE", f"LOGOUT {typ}")
    print("OK")


if __name__ == "__main__":
    main()
