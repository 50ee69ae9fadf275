#!/usr/bin/env python3
"""A minimal OpenFlow 1.3 controller for bench/openflow.sh (standard library only).

    controller.py PORT OUT_PORT STATS_FILE [--secs MAX_SECONDS]

Listens on 127.0.0.1:PORT for one switch. On connect: HELLO (1.3 only),
FEATURES_REQUEST, then FLOW_MOD delete-all and the table-miss flow
(priority 0, match all, apply_actions output CONTROLLER max_len NO_BUFFER),
then BARRIER; when the barrier reply arrives the STATS_FILE gets its first
line. From then on every PACKET_IN is answered with a PACKET_OUT of the same
bytes (buffer NO_BUFFER, in_port from the packet-in) with one action,
output:OUT_PORT. ECHO_REQUESTs are answered. Every 100 ms, and at exit,
STATS_FILE is rewritten with "ready packet_ins packet_outs monotonic_time".
Exits when the switch disconnects, on SIGTERM/SIGINT, or after MAX_SECONDS
(default 600): it cannot outlive the benchmark.
"""
import os
import selectors
import signal
import socket
import struct
import sys
import time

OFP13 = 4
HELLO, ERROR, ECHO_REQ, ECHO_REP = 0, 1, 2, 3
FEATURES_REQ, FEATURES_REP = 5, 6
PACKET_IN, PACKET_OUT, FLOW_MOD = 10, 13, 14
BARRIER_REQ, BARRIER_REP = 20, 21
CONTROLLER, NO_BUFFER, ANY = 0xFFFFFFFD, 0xFFFFFFFF, 0xFFFFFFFF
OFPCML_NO_BUFFER = 0xFFFF


def msg(mtype, body=b"", xid=0):
    return struct.pack("!BBHI", OFP13, mtype, 8 + len(body), xid) + body


def hello():
    # version bitmap element: type 1, length 8, bitmap with bit 4 (1.3)
    return msg(HELLO, struct.pack("!HHI", 1, 8, 1 << OFP13), 1)


def flow_mod(command, priority, instructions=b"", xid=0):
    body = struct.pack(
        "!QQBBHHHIIIH2x",
        0, 0,  # cookie, cookie_mask
        0xFF if command == 3 else 0,  # table_id (ALL for delete)
        command, 0, 0, priority,  # command, idle, hard, priority
        NO_BUFFER, ANY, ANY, 0,  # buffer_id, out_port, out_group, flags
    )
    match = struct.pack("!HH4x", 1, 4)  # OFPMT_OXM, empty, padded to 8
    return msg(FLOW_MOD, body + match + instructions, xid)


def table_miss_to_controller():
    action = struct.pack("!HHIH6x", 0, 16, CONTROLLER, OFPCML_NO_BUFFER)
    inst = struct.pack("!HH4x", 4, 8 + len(action)) + action  # APPLY_ACTIONS
    return flow_mod(0, 0, inst, 3)


def main():
    port, out_port, stats = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    max_secs = float(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[4] == "--secs" else 600.0
    deadline = time.monotonic() + max_secs
    state = {"ready": 0, "pin": 0, "pout": 0, "stop": False}

    def write_stats():
        tmp = stats + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d %d %d %.6f\n" % (state["ready"], state["pin"], state["pout"], time.monotonic()))
        os.replace(tmp, stats)

    def stop(*_):
        state["stop"] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(1)
    ls.settimeout(0.2)
    conn = None
    while conn is None and not state["stop"] and time.monotonic() < deadline:
        try:
            conn, _ = ls.accept()
        except socket.timeout:
            pass
    ls.close()
    if conn is None:
        write_stats()
        return 1
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn.setblocking(False)
    out = bytearray(hello() + msg(FEATURES_REQ, xid=2) + flow_mod(3, 0, xid=4)
                    + table_miss_to_controller() + msg(BARRIER_REQ, xid=5))
    buf = bytearray()
    sel = selectors.DefaultSelector()
    sel.register(conn, selectors.EVENT_READ | selectors.EVENT_WRITE)
    want = selectors.EVENT_READ | selectors.EVENT_WRITE
    last = 0.0
    rc = 0
    while not state["stop"] and time.monotonic() < deadline:
        for _key, ev in sel.select(0.1):
            if ev & selectors.EVENT_READ:
                try:
                    data = conn.recv(1 << 20)
                except BlockingIOError:
                    data = None
                except OSError:
                    data = b""
                if data == b"":
                    state["stop"] = True
                    break
                if data:
                    buf += data
            if ev & selectors.EVENT_WRITE and out:
                try:
                    n = conn.send(out)
                    del out[:n]
                except BlockingIOError:
                    pass
                except OSError:
                    state["stop"] = True
                    break
        # parse complete messages
        off = 0
        while len(buf) - off >= 8:
            _v, mtype, length, xid = struct.unpack_from("!BBHI", buf, off)
            if length < 8:
                rc = 2
                state["stop"] = True
                break
            if len(buf) - off < length:
                break
            if mtype == PACKET_IN:
                state["pin"] += 1
                # buffer_id(4) total_len(2) reason(1) table_id(1) cookie(8), then ofp_match
                p = off + 24
                mlen = struct.unpack_from("!H", buf, p + 2)[0]
                oxm = buf[p + 4:p + mlen]
                in_port = ANY
                i = 0
                while i + 4 <= len(oxm):
                    cls, fh, ln = struct.unpack_from("!HBB", oxm, i)
                    if cls == 0x8000 and fh >> 1 == 0 and ln == 4:
                        in_port = struct.unpack_from("!I", oxm, i + 4)[0]
                    i += 4 + ln
                data_at = p + ((mlen + 7) // 8) * 8 + 2
                frame = bytes(buf[data_at:off + length])
                action = struct.pack("!HHIH6x", 0, 16, out_port, 0)
                body = struct.pack("!IIH6x", NO_BUFFER, in_port, len(action)) + action + frame
                out += msg(PACKET_OUT, body, xid)
                state["pout"] += 1
            elif mtype == ECHO_REQ:
                out += msg(ECHO_REP, bytes(buf[off + 8:off + length]), xid)
            elif mtype == BARRIER_REP and xid == 5:
                state["ready"] = 1
                write_stats()
            elif mtype == ERROR:
                etype, ecode = struct.unpack_from("!HH", buf, off + 8)
                sys.stderr.write("controller: OFPT_ERROR type %d code %d (xid %d)\n" % (etype, ecode, xid))
            off += length
        del buf[:off]
        if out:
            try:
                n = conn.send(out)
                del out[:n]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                break
        ev = selectors.EVENT_READ | (selectors.EVENT_WRITE if out else 0)
        if ev != want:
            sel.modify(conn, ev)
            want = ev
        now = time.monotonic()
        if now - last >= 0.1:
            write_stats()
            last = now
    write_stats()
    conn.close()
    return rc


if __name__ == "__main__":
    sys.exit(main())
