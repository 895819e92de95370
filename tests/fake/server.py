#!/usr/bin/env python3
"""Hostile fake database servers on loopback, for tests/it/hostile.rs.

Speaks just enough PostgreSQL, MySQL or TDS to misbehave in one chosen way:

  python3 tests/fake/server.py ENGINE MODE [--capture FILE] [--lifetime SECS]

Modes: pg endless | paramflood | hugeerror | stall | reset | cleartext | md5 | md5thenclear |
hugerows | hugevalue | mediumrows | tlsclose; mysql continuation | hugeerror | stall | cleartext |
authswitch | greetswap | hugerows | hugevalue | mediumrows; tds endless | stall.

ENGINE is pg, mysql or tds. It binds 127.0.0.1 on a free port, prints the port on the first
line of stdout, serves every connection in a thread, and stops by itself after --lifetime
seconds (default 120), so a test that dies never leaves it running. Whatever a client sends
after the server asked for a password is appended to --capture, so a test can prove the
password never arrived. Every loop that sends is bounded in bytes or time.

pg tlsclose is not hostile: it offers TLS (a throwaway self-signed certificate) and records in
--capture how each client ended its TLS session: `clean` (close_notify), `reset` (the socket
reset, as a client that closes with the server's session tickets unread does), or `startup`
(the client went on to log in: the driver's connection), or `other ERROR` (an EOF without
close_notify: SSLEOFError).
"""

import socket
import struct
import sys
import threading
import time

SEND_CAP = 2 * 1024 * 1024 * 1024  # at most 2 GiB per connection, whatever the mode
STOP = threading.Event()


def pg_msg(kind, payload):
    return kind + struct.pack("!I", len(payload) + 4) + payload


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def capture(path, data):
    if path:
        with open(path, "ab") as f:
            f.write(data + b"\n")


def send_for(conn, chunk, seconds):
    """Sends chunk repeatedly for at most `seconds` (and SEND_CAP bytes)."""
    sent, end = 0, time.time() + seconds
    while time.time() < end and sent < SEND_CAP and not STOP.is_set():
        conn.sendall(chunk)
        sent += len(chunk)


def pg_startup(conn):
    """Reads the startup packet, answering an SSLRequest with N (no TLS)."""
    while True:
        (length,) = struct.unpack("!I", recv_exact(conn, 4))
        body = recv_exact(conn, length - 4)
        code = struct.unpack("!I", body[:4])[0]
        if code == 80877103:  # SSLRequest
            conn.sendall(b"N")
            continue
        return body


def pg_ready(conn):
    conn.sendall(pg_msg(b"R", struct.pack("!I", 0)))
    for k, v in [(b"server_version", b"15.4"), (b"server_encoding", b"UTF8"),
                 (b"client_encoding", b"UTF8"), (b"standard_conforming_strings", b"on"),
                 (b"DateStyle", b"ISO, MDY"), (b"integer_datetimes", b"on")]:
        conn.sendall(pg_msg(b"S", k + b"\0" + v + b"\0"))
    conn.sendall(pg_msg(b"K", struct.pack("!II", 1, 2)))
    conn.sendall(pg_msg(b"Z", b"I"))


TLS_CONTEXT = []


def tls_context():
    """A server context with a fresh self-signed certificate (made once, by openssl)."""
    if not TLS_CONTEXT:
        import os
        import ssl
        import subprocess
        import tempfile
        d = tempfile.mkdtemp(prefix="fake-tls-")
        key, cert = os.path.join(d, "k.pem"), os.path.join(d, "c.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=localhost",
                        "-days", "1", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        TLS_CONTEXT.append(ctx)
    return TLS_CONTEXT[0]


def pg_tls_close(conn, cap):
    import ssl
    (length,) = struct.unpack("!I", recv_exact(conn, 4))
    if struct.unpack("!I", recv_exact(conn, length - 4)[:4])[0] != 80877103:
        return
    conn.sendall(b"S")
    # Sends TLS 1.3 session tickets; an EOF without close_notify raises (SSLEOFError).
    tls = tls_context().wrap_socket(conn, server_side=True, suppress_ragged_eofs=False)
    tls.settimeout(5)
    try:
        data = tls.recv(4096)
        capture(cap, b"startup" if data else b"clean")
    except ssl.SSLZeroReturnError:
        capture(cap, b"clean")
    except (ConnectionResetError, BrokenPipeError):
        capture(cap, b"reset")
    except Exception as e:
        capture(cap, ("other " + type(e).__name__).encode())


def pg(conn, mode, cap, nth=0):
    if mode == "tlsclose":
        pg_tls_close(conn, cap)
        return
    pg_startup(conn)
    if mode == "md5thenclear":
        # The first connection (the pre-login look) is asked for MD5, the next ones (the
        # driver's) for a cleartext password.
        mode = "md5" if nth == 0 else "cleartext"
    if mode in ("cleartext", "md5"):
        if mode == "cleartext":
            conn.sendall(pg_msg(b"R", struct.pack("!I", 3)))
        else:
            conn.sendall(pg_msg(b"R", struct.pack("!I", 5) + b"salt"))
        conn.settimeout(5)
        try:
            head = recv_exact(conn, 5)
            (length,) = struct.unpack("!I", head[1:])
            capture(cap, head[:1] + recv_exact(conn, min(length - 4, 65536)))
        except Exception:
            return
        err = b"SFATAL\0C28P01\0Mpassword authentication failed\0\0"
        conn.sendall(pg_msg(b"E", err))
        return
    if mode == "paramflood":
        conn.sendall(pg_msg(b"R", struct.pack("!I", 0)))
        chunk = b"".join(pg_msg(b"S", b"flood%d\0" % i + b"x" * 200 + b"\0") for i in range(256))
        send_for(conn, chunk, 60)
        return
    if mode == "hugeerror":
        # One ErrorResponse announced as 512 MB, its text sent for real.
        size = 512 * 1024 * 1024
        conn.sendall(b"E" + struct.pack("!I", size + 4) + b"SFATAL\0C XX000\0M")
        sent, block = 0, b"A" * (1 << 20)
        while sent < size - (1 << 20) and not STOP.is_set():
            conn.sendall(block)
            sent += len(block)
        return
    if mode == "stall":
        time.sleep(100)
        return
    if mode == "reset":
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return
    if mode in ANSWERS:
        pg_ready(conn)
        pg_answer_queries(conn, mode)
        return
    # endless rows: log in, then answer any query with rows that never end
    pg_ready(conn)
    conn.settimeout(30)
    head = recv_exact(conn, 5)
    (length,) = struct.unpack("!I", head[1:])
    recv_exact(conn, length - 4)
    field = b"x\0" + struct.pack("!IhIhih", 0, 0, 25, -1, -1, 0)
    desc = pg_msg(b"T", struct.pack("!h", 1) + field)
    if head[:1] != b"Q":
        # extended protocol: ParseComplete, BindComplete first
        conn.sendall(pg_msg(b"1", b"") + pg_msg(b"2", b""))
    conn.sendall(desc)
    value = b"r" * 1000
    row = pg_msg(b"D", struct.pack("!hI", 1, len(value)) + value)
    send_for(conn, row * 1000, 60)


# Answers too big for a catalog read, each ending (the client must cut them, not the server):
# mode -> (rows per statement, bytes per value).
ANSWERS = {
    "hugerows": (64, 768 * 1024),  # each value under the per-value cap, 48 MB in all
    "hugevalue": (1, 8 * 1024 * 1024),  # one value over the per-value cap
    "mediumrows": (50_000, 400),  # 20 MB of 400-byte values, under the row cap
}


def pg_rows(mode):
    """One statement's answer, in blocks of about 1 MB: RowDescription, rows, CommandComplete."""
    count, size = ANSWERS[mode]
    field = b"x\0" + struct.pack("!IhIhih", 0, 0, 25, -1, -1, 0)
    yield pg_msg(b"T", struct.pack("!h", 1) + field)
    row = pg_msg(b"D", struct.pack("!hI", 1, size) + b"v" * size)
    per, left = max(1, (1 << 20) // len(row)), count
    while left > 0:
        n = min(left, per)
        yield row * n
        left -= n
    yield pg_msg(b"C", b"SELECT %d\0" % count)


def pg_answer_queries(conn, mode):
    """Answers every query (simple or extended protocol) with the mode's answer."""
    conn.settimeout(30)
    while not STOP.is_set():
        head = recv_exact(conn, 5)
        kind, (length,) = head[:1], struct.unpack("!I", head[1:])
        body = recv_exact(conn, length - 4)
        if kind == b"X":
            return
        if kind == b"Q":
            # One answer per statement: the session's SETs complete, every read gets the rows.
            for stmt in body.rstrip(b"\0").split(b";"):
                word = stmt.strip().split(b" ")[0].upper()
                if not word:
                    continue
                if word in (b"SET", b"BEGIN", b"COMMIT", b"ROLLBACK"):
                    conn.sendall(pg_msg(b"C", word + b"\0"))
                    continue
                for part in pg_rows(mode):
                    conn.sendall(part)
            conn.sendall(pg_msg(b"Z", b"I"))
        elif kind == b"P":
            conn.sendall(pg_msg(b"1", b""))
        elif kind == b"B":
            conn.sendall(pg_msg(b"2", b""))
        elif kind == b"D":
            conn.sendall(pg_msg(b"t", struct.pack("!h", 0)) + next(pg_rows(mode)))
        elif kind == b"E":
            rows = pg_rows(mode)
            next(rows)
            for part in rows:
                conn.sendall(part)
        elif kind == b"S":
            conn.sendall(pg_msg(b"Z", b"I"))


def my_lenenc(n):
    if n < 251:
        return bytes([n])
    if n < 1 << 16:
        return b"\xfc" + struct.pack("<H", n)
    if n < 1 << 24:
        return b"\xfd" + struct.pack("<I", n)[:3]
    return b"\xfe" + struct.pack("<Q", n)


def my_answer_queries(conn, mode):
    """Answers every COM_QUERY but SET with the mode's answer (one result set); OK to the rest."""
    count, size = ANSWERS[mode]
    conn.settimeout(30)
    value = b"v" * size
    while not STOP.is_set():
        head = recv_exact(conn, 4)
        n = struct.unpack("<I", head[:3] + b"\0")[0]
        body = recv_exact(conn, n)
        if not body or body[:1] == b"\x01":  # COM_QUIT
            return
        ok = b"\x00\x00\x00\x02\x00\x00\x00"
        if body[:1] != b"\x03" or body[1:].lstrip().upper().startswith(b"SET"):
            conn.sendall(my_packet(1, ok))
            continue
        eof = b"\xfe\x00\x00\x02\x00"
        col = b"".join(my_lenenc(len(x)) + x for x in [b"def", b"", b"", b"", b"x", b"x"])
        col += b"\x0c" + struct.pack("<HIBHB", 0x21, size, 0xFD, 0, 0) + b"\0\0"
        seq = 1
        out = [my_packet(seq, b"\x01")]
        for p in (col, eof):
            seq += 1
            out.append(my_packet(seq, p))
        conn.sendall(b"".join(out))
        row = my_lenenc(size) + value
        batch = []
        for _ in range(count):
            seq += 1
            batch.append(my_packet(seq, row))
            if len(batch) * len(row) >= 1 << 20:
                conn.sendall(b"".join(batch))
                batch = []
        seq += 1
        batch.append(my_packet(seq, eof))
        conn.sendall(b"".join(batch))


def my_packet(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq & 0xFF]) + payload


def my_greeting(plugin, ssl):
    caps = 0x0001 | 0x0200 | 0x8000 | 0x00080000 | 0x00008000  # LONG_PASSWORD, 41, SECURE, PLUGIN_AUTH
    if ssl:
        caps |= 0x0800
    p = b"\x0a" + b"10.11.6-MariaDB-fake\0" + struct.pack("<I", 7) + b"abcdefgh" + b"\0"
    p += struct.pack("<H", caps & 0xFFFF) + b"\x2d" + struct.pack("<H", 2)
    p += struct.pack("<H", caps >> 16) + bytes([21]) + b"\0" * 10 + b"ijklmnopqrst\0"
    p += plugin + b"\0"
    return my_packet(0, p)


def my(conn, mode, cap, nth=0):
    if mode == "stall":
        time.sleep(100)
        return
    if mode == "greetswap":
        # The first connection (the pre-login look) is greeted with native_password, the
        # next ones (the driver's) with mysql_clear_password.
        mode = "authswitch" if nth == 0 else "cleartext"
    if mode == "authswitch":
        # A native-password greeting, then, after the client's response, a switch to
        # mysql_clear_password: whatever answers the switch is captured.
        conn.sendall(my_greeting(b"mysql_native_password", False))
        conn.settimeout(5)
        try:
            head = recv_exact(conn, 4)
            n = struct.unpack("<I", head[:3] + b"\0")[0]
            capture(cap, recv_exact(conn, min(n, 65536)))
            conn.sendall(my_packet(2, b"\xfemysql_clear_password\0"))
            head = recv_exact(conn, 4)
            n = struct.unpack("<I", head[:3] + b"\0")[0]
            capture(cap, recv_exact(conn, min(n, 65536)))
        except Exception:
            return
        conn.sendall(my_packet(4, b"\xff\x15\x04#28000Access denied"))
        return
    if mode == "cleartext":
        conn.sendall(my_greeting(b"mysql_clear_password", False))
        conn.settimeout(5)
        try:
            head = recv_exact(conn, 4)
            n = struct.unpack("<I", head[:3] + b"\0")[0]
            capture(cap, recv_exact(conn, min(n, 65536)))
        except Exception:
            return
        conn.sendall(my_packet(2, b"\xff\x15\x04#28000Access denied"))
        return
    conn.sendall(my_greeting(b"mysql_native_password", False))
    conn.settimeout(10)
    head = recv_exact(conn, 4)
    n = struct.unpack("<I", head[:3] + b"\0")[0]
    recv_exact(conn, n)
    if mode == "continuation":
        # Endless 16 MB continuation packets in answer to the login: one "packet" never ends.
        block = my_packet(2, b"\0" * 0xFFFFFF)
        send_for(conn, block, 60)
        return
    if mode == "hugeerror":
        # An error packet of 16 MB continued without end.
        first = my_packet(2, b"\xff\x15\x04#HY000" + b"E" * (0xFFFFFF - 9))
        conn.sendall(first)
        send_for(conn, my_packet(3, b"E" * 0xFFFFFF), 60)
        return
    conn.sendall(my_packet(2, b"\x00\x00\x00\x02\x00\x00\x00"))
    if mode in ANSWERS:
        my_answer_queries(conn, mode)


def tds(conn, mode, cap, nth=0):
    if mode == "stall":
        time.sleep(100)
        return
    # endless: a PRELOGIN answer whose packets never say "end of message"
    recv_exact(conn, 8)
    packet = b"\x04\x00" + struct.pack("!H", 4096) + b"\0\0\x01\0" + b"\xff" * (4096 - 8)
    send_for(conn, packet * 256, 60)


def main():
    engine, mode = sys.argv[1], sys.argv[2]
    cap, lifetime = None, 120.0
    args = sys.argv[3:]
    while args:
        flag, value = args[0], args[1]
        args = args[2:]
        if flag == "--capture":
            cap = value
        elif flag == "--lifetime":
            lifetime = float(value)
    handler = {"pg": pg, "mysql": my, "tds": tds}[engine]
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    srv.settimeout(0.5)
    print(srv.getsockname()[1], flush=True)
    end = time.time() + lifetime

    count = [0]

    def serve(conn, nth):
        try:
            handler(conn, mode, cap, nth)
        except Exception:
            pass
        finally:
            try:
                conn.close()
            except Exception:
                pass

    while time.time() < end:
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(conn, count[0]), daemon=True).start()
        count[0] += 1
    STOP.set()


if __name__ == "__main__":
    main()
