#!/usr/bin/python3
"""Hostile and malformed traffic for sentinel-detector's gRPC port.

Each subcommand does one kind of abuse and prints one JSON line saying what
the detector did, for test/integration/test_detector_abuse.sh to judge:

  random     random bytes on fresh TCP connections (without and with the
             HTTP/2 preface first): does the detector close them?
  truncated  cut-off HTTP/2: half a preface, half a frame header, a frame
             shorter than it says, a gRPC message shorter than its prefix,
             an oversized frame: does the detector close each connection?
  idle       hold many TCP connections open (some bare, some after the
             HTTP/2 preface) until --stop-file exists
  garbage    invalid protobuf in valid gRPC calls, to every method, and
             random messages: the status of each call
  valid      well-formed calls: two StreamEventBatches batches, a
             ReportAnomaly, Health/Check (known and unknown service)
  big        one message of --size bytes (zeros, or --valid: a well-formed
             EventEnvelope padded to that size), optionally from --parallel
             clients at once: the status of each call
  queued     more concurrent calls on one channel than the detector's
             stream cap, from grpcio (which waits for a free slot)
  streams    a raw HTTP/2 client opening --open StreamEvents streams on one
             connection at once, ignoring the advertised cap: what became
             of each; holds the connection until --stop-file exists

Uses only the standard library and python3-grpcio (generic calls: no code
generated from the .proto). Run with /usr/bin/python3 (Debian's grpcio).
"""
import argparse
import json
import os
import random
import select
import socket
import struct
import sys
import threading
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SERVICE = "/sentinel.v1.DetectorService/"
# HTTP/2 frame types and flags (RFC 9113)
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY = 0, 1, 3, 4, 6, 7
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
REFUSED_STREAM = 0x7
SETTINGS_MAX_CONCURRENT_STREAMS = 0x3


def out(obj):
    print(json.dumps(obj, sort_keys=True, separators=(",", ":")), flush=True)


def host_port(target):
    host, _, port = target.rpartition(":")
    return host.strip("[]"), int(port)


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + struct.pack(">BBI", ftype, flags, stream) + payload


def closed_by_peer(sock, timeout):
    """True when the peer closes (EOF or reset) within timeout seconds;
    whatever it sends before that (a GOAWAY) is read and dropped."""
    deadline = time.monotonic() + timeout
    sock.setblocking(False)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            return False
        try:
            if not sock.recv(65536):
                return True
        except BlockingIOError:
            continue
        except OSError:
            return True


def connect(target, timeout=5):
    return socket.create_connection(host_port(target), timeout=timeout)


# ---- random ----

def cmd_random(a):
    rnd = random.Random(a.seed)
    res = {"conns": 0, "closed": 0, "with_preface": 0, "with_preface_closed": 0}
    for i in range(a.conns):
        preface = i % 2 == 1
        s = connect(a.target)
        data = rnd.randbytes(a.bytes)
        try:
            s.sendall((PREFACE if preface else b"") + data)
        except OSError:
            pass  # closed already while we wrote: that is the answer too
        closed = closed_by_peer(s, a.timeout)
        s.close()
        res["conns"] += 1
        res["closed"] += closed
        res["with_preface"] += preface
        res["with_preface_closed"] += preface and closed
    out(res)


# ---- truncated ----

def hpack_str(b):
    assert len(b) < 127
    return bytes([len(b)]) + b


def request_headers(authority, method):
    """HPACK, no Huffman, no dynamic table: a gRPC request's headers."""
    return (b"\x83"  # :method POST (static 3)
            + b"\x86"  # :scheme http (static 6)
            + b"\x04" + hpack_str((SERVICE + method).encode())  # :path, name static 4
            + b"\x01" + hpack_str(authority.encode())  # :authority, name static 1
            + b"\x0f\x10" + hpack_str(b"application/grpc")  # content-type, static 31
            + b"\x00" + hpack_str(b"te") + hpack_str(b"trailers"))


def cmd_truncated(a):
    settings = frame(SETTINGS, 0, 0)
    hdrs = frame(HEADERS, END_HEADERS, 1, request_headers(a.target, "StreamEvents"))
    grpc_msg = b"\x00" + struct.pack(">I", 1000) + b"x" * 10  # says 1000, has 10
    cases = {
        "half_preface": PREFACE[:12],
        "half_frame_header": PREFACE + settings[:5],
        "short_settings_frame": PREFACE + frame(SETTINGS, 0, 0, b"\x00\x03\x00\x00\x00\x10")[:12],
        "short_grpc_message": PREFACE + settings + hdrs + frame(DATA, END_STREAM, 1, grpc_msg),
        "short_headers_block": PREFACE + settings + hdrs[:20],
        # 16 MiB - 1 payload: far above SETTINGS_MAX_FRAME_SIZE (16 KiB)
        "oversized_frame": PREFACE + settings + b"\xff\xff\xff\x00\x00\x00\x00\x00\x01" + b"y" * 64,
        "bad_stream_id": PREFACE + settings + frame(HEADERS, END_HEADERS, 2,
                                                    request_headers(a.target, "StreamEvents")),
    }
    res = {"cases": len(cases), "closed": 0, "not_closed": []}
    for name, data in cases.items():
        s = connect(a.target)
        try:
            s.sendall(data)
            # The end of what we send: a server waiting for the rest must
            # see the half-close and give up on the connection.
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        if closed_by_peer(s, a.timeout):
            res["closed"] += 1
        else:
            res["not_closed"].append(name)
        s.close()
    out(res)


# ---- idle ----

def cmd_idle(a):
    socks, fails = [], 0
    for i in range(a.conns):
        try:
            s = connect(a.target)
            if i % 2 and a.preface:
                s.sendall(PREFACE + frame(SETTINGS, 0, 0))
            socks.append(s)
        except OSError:
            fails += 1
    out({"open": len(socks), "fails": fails})
    while not os.path.exists(a.stop_file):
        time.sleep(0.1)
    alive = 0
    for s in socks:
        s.setblocking(False)
        try:
            while s.recv(65536):
                pass
        except BlockingIOError:
            alive += 1  # nothing more to read and no EOF: still open
        except OSError:
            pass
        s.close()
    out({"open": len(socks), "still_open": alive})


# ---- gRPC (grpcio, generic calls) ----

def grpc_channel(target, big=False):
    import grpc  # only the gRPC subcommands need it
    opts = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]
    return grpc, grpc.insecure_channel(target, options=opts if big else [])


def call_status(grpc, ch, method, msgs, streaming, timeout):
    """(status name, answers received) of one call sending msgs."""
    answers = 0
    try:
        if streaming:
            for _ in ch.stream_stream(method)(iter(msgs), timeout=timeout):
                answers += 1
        else:
            ch.unary_unary(method)(msgs[0], timeout=timeout)
            answers = 1
        return "OK", answers
    except grpc.RpcError as e:
        return e.code().name, answers


def varint(n):
    b = bytearray()
    while True:
        low = n & 0x7F
        n >>= 7
        if n:
            b.append(low | 0x80)
        else:
            b.append(low)
            return bytes(b)


def ld(field, data):
    """A length-delimited protobuf field."""
    return varint(field << 3 | 2) + varint(len(data)) + data


def envelope(event_id, filename, event_type=b"file_read"):
    """An EventEnvelope (proto/events.proto), hand-encoded."""
    def entry(k, v):
        return ld(10, ld(1, k.encode()) + ld(2, v))
    return (ld(1, event_id.encode()) + ld(2, b"abuse-host") + ld(9, event_type)
            + entry("filename", filename) + entry("bytes", b"1") + entry("comm", b"abuse")
            + entry("pid", b"1") + entry("tid", b"1"))


def cmd_garbage(a):
    grpc, ch = grpc_channel(a.target)
    bad = b"\x0a\x7fxy"  # field 1, 127 bytes announced, 2 present
    tally = {}
    res = {"calls": 0, "per_method": {}, "random": {}, "valid_then_bad": None,
           "unknown_method": None}

    def count(code):
        tally[code] = tally.get(code, 0) + 1
        res["calls"] += 1

    for method, streaming in (("StreamEvents", True), ("StreamEventBatches", True),
                              ("ReportAnomaly", False)):
        code, _ = call_status(grpc, ch, SERVICE + method, [bad], streaming, a.timeout)
        res["per_method"][method] = code
        count(code)
    code, _ = call_status(grpc, ch, "/grpc.health.v1.Health/Check", [bad], False, a.timeout)
    res["per_method"]["Health/Check"] = code
    count(code)
    # A good envelope is answered before the bad one ends the stream.
    code, n = call_status(grpc, ch, SERVICE + "StreamEvents",
                          [envelope("abuse-ok", b"/tmp/abuse"), bad], True, a.timeout)
    res["valid_then_bad"] = {"status": code, "answers": n}
    count(code)
    code, _ = call_status(grpc, ch, SERVICE + "NoSuchMethod", [b""], False, a.timeout)
    res["unknown_method"] = code
    rnd = random.Random(a.seed)
    for _ in range(a.count):
        msg = rnd.randbytes(rnd.randint(1, 512))
        method = rnd.choice(("StreamEvents", "StreamEventBatches"))
        code, _ = call_status(grpc, ch, SERVICE + method, [msg], True, a.timeout)
        res["random"][code] = res["random"].get(code, 0) + 1
        count(code)
    res["invalid_argument"] = tally.get("INVALID_ARGUMENT", 0)
    ch.close()
    out(res)


def cmd_valid(a):
    """The calls a well-behaved peer makes, other than StreamEvents:
    a StreamEventBatches batch, ReportAnomaly, Health/Check."""
    grpc, ch = grpc_channel(a.target)
    batch = b"".join(ld(1, envelope("abuse-batch-%d" % i, b"/etc/abuse-batch", b"file_write"))
                     for i in range(a.batch))
    res = {}
    res["batch"], res["batch_answers"] = call_status(
        grpc, ch, SERVICE + "StreamEventBatches", [batch, batch], True, a.timeout)
    report = (ld(1, b"abuse-report") + ld(2, b"reason \"quoted\"\n\xff")
              + b"\x19" + struct.pack("<d", 0.5)  # field 3, double
              + ld(4, ld(1, b"key") + ld(2, b"value")))
    res["report"], _ = call_status(grpc, ch, SERVICE + "ReportAnomaly", [report], False,
                                   a.timeout)
    res["health"], _ = call_status(grpc, ch, "/grpc.health.v1.Health/Check", [b""], False,
                                   a.timeout)
    res["health_unknown"], _ = call_status(grpc, ch, "/grpc.health.v1.Health/Check",
                                           [ld(1, b"no.such.Service")], False, a.timeout)
    ch.close()
    out(res)


def cmd_big(a):
    grpc, _ = grpc_channel(a.target, big=True)
    if a.valid:
        # Pad the filename so that the packed envelope is exactly --size.
        pad = a.size - len(envelope("abuse-big", b""))
        while len(envelope("abuse-big", b"/" * pad)) > a.size:
            pad -= 1
        msg = envelope("abuse-big", b"/" * pad)
    else:
        msg = bytes(a.size)
    results = [None] * a.parallel

    def one(i):
        _, ch = grpc_channel(a.target, big=True)
        t = time.monotonic()
        code, n = call_status(grpc, ch, SERVICE + "StreamEvents", [msg], True, a.timeout)
        results[i] = {"status": code, "answers": n, "s": round(time.monotonic() - t, 2)}
        ch.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(a.parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = {}
    for r in results:
        codes[r["status"]] = codes.get(r["status"], 0) + 1
    out({"size": len(msg), "calls": a.parallel, "status": codes,
         "answers": sum(r["answers"] for r in results), "max_s": max(r["s"] for r in results)})


def cmd_queued(a):
    """--calls concurrent StreamEvents calls on one channel, as a
    well-behaved client makes them: one envelope each, held open a moment."""
    grpc, ch = grpc_channel(a.target)
    results = [None] * a.calls

    def requests(i):
        yield envelope("abuse-queued-%d" % i, b"/tmp/abuse-queued")
        time.sleep(a.hold)

    def one(i):
        results[i] = call_status(grpc, ch, SERVICE + "StreamEvents", requests(i), True,
                                 a.timeout)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(a.calls)]
    t = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    codes = {}
    for code, _ in results:
        codes[code] = codes.get(code, 0) + 1
    out({"calls": a.calls, "status": codes, "answers": sum(n for _, n in results),
         "s": round(time.monotonic() - t, 2)})
    ch.close()


# ---- streams ----

def read_frames(sock, buf, timeout):
    """Frames that arrive within timeout: [(type, flags, stream, payload)]."""
    frames = []
    deadline = time.monotonic() + timeout
    while True:
        while len(buf) >= 9:
            n = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + n:
                break
            ftype, flags, stream = buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
            frames.append((ftype, flags, stream, bytes(buf[9:9 + n])))
            del buf[:9 + n]
        left = deadline - time.monotonic()
        if left <= 0:
            return frames
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            return frames
        data = sock.recv(65536)
        if not data:
            frames.append((None, 0, 0, b""))  # EOF
            return frames
        buf += data


def cmd_streams(a):
    s = connect(a.target)
    buf = bytearray()
    s.sendall(PREFACE + frame(SETTINGS, 0, 0))
    advertised = None
    # The server's SETTINGS first; the cap applies once we acknowledge it.
    for ftype, flags, _, payload in read_frames(s, buf, 5):
        if ftype == SETTINGS and not flags & ACK:
            for i in range(0, len(payload) - 5, 6):
                ident, value = struct.unpack(">HI", payload[i:i + 6])
                if ident == SETTINGS_MAX_CONCURRENT_STREAMS:
                    advertised = value
            s.sendall(frame(SETTINGS, ACK, 0))
    hdrs = request_headers(a.target, "StreamEvents")
    s.sendall(b"".join(frame(HEADERS, END_HEADERS, 2 * i + 1, hdrs) for i in range(a.open)))
    # Per stream: "open" (the server sent its initial metadata and waits
    # for our messages), "ended" (it answered with a status, END_STREAM),
    # "refused" (RST_STREAM REFUSED_STREAM), "reset" (other RST_STREAM).
    state, goaway, eof = {}, False, False
    deadline = time.monotonic() + a.settle
    while time.monotonic() < deadline and not eof:
        for ftype, flags, stream, payload in read_frames(s, buf, 0.2):
            if ftype is None:
                eof = True
            elif ftype == RST_STREAM:
                code = struct.unpack(">I", payload[:4])[0]
                if state.get(stream) != "ended":
                    state[stream] = "refused" if code == REFUSED_STREAM else "reset"
            elif ftype == HEADERS:
                state[stream] = "ended" if flags & END_STREAM else "open"
            elif ftype == GOAWAY:
                goaway = True
            elif ftype == PING and not flags & ACK:
                s.sendall(frame(PING, ACK, 0, payload))
    res = {"opened": a.open, "advertised_max": advertised, "goaway": goaway, "eof": eof}
    for k in ("open", "ended", "refused", "reset"):
        res[k] = sum(1 for v in state.values() if v == k)
    # Streams the server took on and kept: all of them died with the
    # connection if it closed it.
    res["served"] = 0 if eof else res["open"]
    out(res)
    while not eof and not os.path.exists(a.stop_file):
        for ftype, flags, _, payload in read_frames(s, buf, 0.1):
            if ftype is None:
                eof = True
            elif ftype == PING and not flags & ACK:
                s.sendall(frame(PING, ACK, 0, payload))
    s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    def add(name, fn):
        p = sub.add_parser(name)
        p.add_argument("--target", required=True, help="HOST:PORT")
        p.add_argument("--timeout", type=float, default=10)
        p.set_defaults(fn=fn)
        return p

    p = add("random", cmd_random)
    p.add_argument("--conns", type=int, default=20)
    p.add_argument("--bytes", type=int, default=4096)
    p.add_argument("--seed", type=int, default=1)
    add("truncated", cmd_truncated)
    p = add("idle", cmd_idle)
    p.add_argument("--conns", type=int, default=2000)
    p.add_argument("--preface", action="store_true", help="half of them send the preface")
    p.add_argument("--stop-file", required=True)
    p = add("garbage", cmd_garbage)
    p.add_argument("--count", type=int, default=200, help="random messages")
    p.add_argument("--seed", type=int, default=1)
    p = add("valid", cmd_valid)
    p.add_argument("--batch", type=int, default=100, help="envelopes per batch")
    p = add("big", cmd_big)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--valid", action="store_true")
    p.add_argument("--parallel", type=int, default=1)
    p = add("queued", cmd_queued)
    p.add_argument("--calls", type=int, required=True)
    p.add_argument("--hold", type=float, default=0.5, help="seconds each call stays open")
    p = add("streams", cmd_streams)
    p.add_argument("--open", type=int, required=True)
    p.add_argument("--settle", type=float, default=2, help="seconds to collect answers")
    p.add_argument("--stop-file", required=True)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
