#!/usr/bin/env python3
"""A small SMTP server for kortisto's tests: it accepts mail on 127.0.0.1 and writes each
message it receives to DIR/N.eml (the data after dot-unstuffing, byte for byte) and its
envelope to DIR/N.env, N counting from 1. It speaks enough ESMTP for libcurl: EHLO/HELO,
optional AUTH PLAIN and LOGIN, MAIL FROM, RCPT TO, DATA, RSET, NOOP and QUIT.

    smtp_sink.py [--port N] [--reject ADDR]... [--defer ADDR]... [--auth USER:PASS]
                 [--hang-up] [--delay SECONDS] [--exit-on-eof] DIR

--port 0 (the default) picks a free port. The first line on standard output is the port,
printed once the server listens. --reject answers RCPT TO for ADDR with 550 and --defer with
451; the replies quote the address as real servers do, so tests can check that kortisto does
not repeat it. --hang-up closes each connection after its first message, with a 421 reply
as a server does at its idle timeout. --delay waits SECONDS after each message's data before
taking it, as a slow server does, so that a test can stop kortisto in the middle of a send. With --exit-on-eof the server stops when its standard input closes, so it
never outlives the test that started it. Standard library only.
"""

import argparse
import base64
import os
import socketserver
import sys
import threading
import time


class Sink:
    def __init__(self, directory, reject, defer, auth, hang_up=False, delay=0.0):
        self.directory = directory
        self.delay = delay
        self.hang_up = hang_up
        self.reject = {a.lower() for a in reject}
        self.defer = {a.lower() for a in defer}
        self.auth = auth
        self.lock = threading.Lock()
        self.count = 0
        self.connections = 0

    def next_number(self):
        with self.lock:
            self.count += 1
            return self.count

    def next_connection(self):
        with self.lock:
            self.connections += 1
            return self.connections

    def store(self, conn_no, helo, mail_from, rcpts, data, authed):
        n = self.next_number()
        base = os.path.join(self.directory, str(n))
        env = "connection %d\nhelo %s\nauth %s\nmail from %s\n" % (
            conn_no, helo, authed or "-", mail_from)
        env += "".join("rcpt to %s\n" % r for r in rcpts)
        with open(base + ".env.tmp", "w", encoding="utf-8") as f:
            f.write(env)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(data)
        os.rename(base + ".env.tmp", base + ".env")
        os.rename(base + ".eml.tmp", base + ".eml")


def angle_address(arg):
    """The address inside <...> of a MAIL FROM or RCPT TO argument, or None."""
    arg = arg.strip()
    if not arg.startswith("<"):
        return None
    end = arg.find(">")
    if end < 0:
        return None
    return arg[1:end]


class Handler(socketserver.StreamRequestHandler):
    timeout = 60

    def reply(self, text):
        self.wfile.write(text.encode("utf-8") + b"\r\n")
        self.wfile.flush()

    def readline(self):
        line = self.rfile.readline(65536)
        if not line:
            return None
        return line

    def handle(self):
        sink = self.server.sink
        conn_no = sink.next_connection()
        helo = None
        mail_from = None
        rcpts = []
        authed = None
        self.reply("220 sink.test ESMTP kortisto test sink")
        while True:
            raw = self.readline()
            if raw is None:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                helo = arg
                extra = ["AUTH PLAIN LOGIN"] if sink.auth else []
                lines = ["sink.test greets " + arg] + extra + ["8BITMIME", "HELP"]
                for i, text in enumerate(lines):
                    sep = " " if i == len(lines) - 1 else "-"
                    self.reply("250" + sep + text)
            elif verb == "HELO":
                helo = arg
                self.reply("250 sink.test")
            elif verb == "AUTH" and sink.auth:
                authed = self.authenticate(arg)
                if authed is None:
                    self.reply("535 5.7.8 authentication failed")
                else:
                    self.reply("235 2.7.0 authenticated")
            elif verb == "MAIL":
                if mail_from is not None:
                    self.reply("503 5.5.1 nested MAIL command")
                    continue
                if sink.auth and authed is None:
                    self.reply("530 5.7.0 authentication required")
                    continue
                addr = angle_address(arg[5:] if arg.upper().startswith("FROM:") else "")
                if addr is None:
                    self.reply("501 5.5.4 syntax: MAIL FROM:<address>")
                    continue
                mail_from = addr
                rcpts = []
                self.reply("250 2.1.0 ok")
            elif verb == "RCPT":
                if mail_from is None:
                    self.reply("503 5.5.1 need MAIL first")
                    continue
                addr = angle_address(arg[3:] if arg.upper().startswith("TO:") else "")
                if addr is None:
                    self.reply("501 5.5.4 syntax: RCPT TO:<address>")
                elif addr.lower() in sink.reject:
                    self.reply("550 5.1.1 <%s>: recipient address rejected" % addr)
                elif addr.lower() in sink.defer:
                    self.reply("451 4.3.0 <%s>: try again later" % addr)
                else:
                    rcpts.append(addr)
                    self.reply("250 2.1.5 ok")
            elif verb == "DATA":
                if not rcpts:
                    self.reply("503 5.5.1 need RCPT first")
                    continue
                self.reply("354 end data with <CR><LF>.<CR><LF>")
                data = self.read_data()
                if data is None:
                    return
                if sink.delay > 0:
                    time.sleep(sink.delay)
                sink.store(conn_no, helo, mail_from, rcpts, data, authed)
                mail_from = None
                rcpts = []
                self.reply("250 2.0.0 queued")
                if sink.hang_up:
                    self.reply("421 4.4.2 sink.test closing connection")
                    return
            elif verb == "RSET":
                mail_from = None
                rcpts = []
                self.reply("250 2.0.0 ok")
            elif verb == "NOOP":
                self.reply("250 2.0.0 ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 bye")
                return
            else:
                self.reply("502 5.5.2 command not implemented")

    def read_data(self):
        """Lines up to the lone dot, with the leading dot of stuffed lines removed."""
        out = bytearray()
        while True:
            raw = self.readline()
            if raw is None:
                return None
            if raw == b".\r\n":
                return bytes(out)
            if raw.startswith(b"."):
                raw = raw[1:]
            out += raw

    def authenticate(self, arg):
        """Runs AUTH PLAIN or LOGIN; returns the user name, or None on failure."""
        mech, _, initial = arg.partition(" ")
        user, _, password = self.server.sink.auth.partition(":")
        mech = mech.upper()
        try:
            if mech == "PLAIN":
                if not initial:
                    self.reply("334 ")
                    initial = self.readline().decode().strip()
                parts = base64.b64decode(initial).decode("utf-8").split("\0")
                ok = len(parts) == 3 and parts[1] == user and parts[2] == password
            elif mech == "LOGIN":
                if initial:
                    got_user = base64.b64decode(initial).decode("utf-8")
                else:
                    self.reply("334 " + base64.b64encode(b"Username:").decode())
                    got_user = base64.b64decode(self.readline().strip()).decode("utf-8")
                self.reply("334 " + base64.b64encode(b"Password:").decode())
                got_pass = base64.b64decode(self.readline().strip()).decode("utf-8")
                ok = got_user == user and got_pass == password
            else:
                return None
        except (ValueError, AttributeError, UnicodeDecodeError):
            return None
        return user if ok else None


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    p = argparse.ArgumentParser(description="SMTP sink for kortisto's tests")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--reject", action="append", default=[])
    p.add_argument("--defer", action="append", default=[])
    p.add_argument("--auth", default=None, help="USER:PASS required before MAIL")
    p.add_argument("--hang-up", action="store_true")
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--exit-on-eof", action="store_true")
    p.add_argument("dir")
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)

    server = Server(("127.0.0.1", a.port), Handler)
    server.sink = Sink(a.dir, a.reject, a.defer, a.auth, a.hang_up, a.delay)
    print(server.server_address[1], flush=True)
    if a.exit_on_eof:
        def watch():
            sys.stdin.read()
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
