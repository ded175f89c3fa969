"""COMPRESS=DEFLATE (RFC 4978) with a client that ends every command with
zlib's partial flush, as iOS Mail does: the server must answer each command
without waiting for more input.

usage: compress.py HOST PORT USER PASSWORD
"""
import socket
import sys
import zlib


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


class Conn:
    def __init__(self, host, port):
        self.s = socket.create_connection((host, port), timeout=5)
        self.buf = b""
        self.z = None

    def send(self, line):
        data = line.encode() + b"\r\n"
        if self.z:
            data = self.z.compress(data) + self.z.flush(zlib.Z_PARTIAL_FLUSH)
        self.s.sendall(data)

    def readline(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                fail("connection closed")
            if self.zin:
                chunk = self.zin.decompress(chunk)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def until(self, tag):
        lines = []
        while True:
            line = self.readline()
            lines.append(line)
            if line.startswith(tag + " "):
                return lines

    zin = None


def main():
    host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    c = Conn(host, port)
    c.readline()
    c.send(f"a1 LOGIN {user} {password}")
    if "COMPRESS=DEFLATE" not in c.until("a1")[-1]:
        fail("no COMPRESS=DEFLATE")
    # COMPRESS with a compressed command pipelined right behind it: the
    # server must inflate what it already received once it switches.
    z = zlib.compressobj(6, zlib.DEFLATED, -15)
    c.s.sendall(b"a2 COMPRESS DEFLATE\r\n" + z.compress(b"p1 NOOP\r\n") + z.flush(zlib.Z_PARTIAL_FLUSH))
    while b"\r\n" not in c.buf:
        c.buf += c.s.recv(65536)
    line, rest = c.buf.split(b"\r\n", 1)
    if not line.startswith(b"a2 OK"):
        fail(f"COMPRESS refused: {line!r}")
    c.z = z
    c.zin = zlib.decompressobj(-15)
    c.buf = c.zin.decompress(rest)
    if not c.until("p1")[-1].startswith("p1 OK"):
        fail("pipelined NOOP")
    for i in range(3):
        c.send(f"n{i} NOOP")
        lines = c.until(f"n{i}")
        if not lines[-1].startswith(f"n{i} OK"):
            fail(f"NOOP {lines}")
    c.send("s1 SELECT INBOX")
    lines = c.until("s1")
    if "* 1 EXISTS" not in lines:
        fail(f"SELECT {lines}")
    c.send("f1 FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
    lines = c.until("f1")
    if "Subject: Lunch on Friday" not in lines:
        fail(f"FETCH {lines}")
    c.send("c2 COMPRESS DEFLATE")
    if "COMPRESSIONACTIVE" not in c.until("c2")[-1]:
        fail("second COMPRESS")
    c.send("z LOGOUT")
    c.until("z")
    print("OK")


if __name__ == "__main__":
    main()
