#!/usr/bin/python3
"""File names that break naive tools, for test/integration/test_paths.sh.

  path_workload.py run --root DIR --manifest FILE [--long]
      creates files under DIR (which must exist) with awkward names and
      writes then reads each one, with raw syscalls (os.open/os.write/
      os.read): newlines, quotes, backslashes, control bytes, invalid UTF-8
      (0xff, lone continuation bytes, overlong forms, encoded surrogates,
      truncated sequences), a 255-byte name, and paths of exactly 4094 and
      4095 bytes (4095 + NUL = PATH_MAX) made of nested 250-byte names,
      each opened by absolute path, relative to the cwd, and relative to a
      directory fd. --long adds a file whose absolute path is longer than
      PATH_MAX, reachable only relative to a deep cwd. Writes the manifest
      (outside DIR: its own writes would be traced) as JSON: the pid and,
      per file, the exact path bytes (hex), how it was opened and the
      bytes written and read (distinct per file). --utf8-only: only names
      that are valid UTF-8 (for detectors that enforce proto3's rule).

  path_workload.py poison --root DIR --manifest FILE
      before.txt, then a name that is not UTF-8, then after.txt.

  path_workload.py check --manifest FILE --events FILE --format F [--writes-only]
      reads the events a sink produced (JSON lines; F = agent: the agent's
      stdout mode, detector: sentinel-detector's anomaly lines, legacy:
      test/legacy/detector.py's events file) and prints one JSON object:
      lines that are not JSON, and per manifest case whether its write
      (and read) event arrived with the exact path bytes and byte count.
      Filenames are decoded the way the agent encodes them (invalid UTF-8
      bytes as lone surrogates \\udcXX): os.fsencode() gives the bytes back.
"""
import argparse
import json
import os
import sys
import time

PATH_MAX = 4096
NAMES = [
    b"new\nline",
    b'q"uote',
    b"back\\slash",
    b"tab\tcr\rff\x0c",
    b"ctl\x01\x1b\x1f\x7f",
    b"esc-\\udcff-not-an-escape",
    b"ff\xff",
    b"cont\x80",
    b"overlong\xc0\xaf",
    b"surrogate\xed\xa0\x80",
    b"truncated\xe2\x82",
    b"five-byte\xf8\x88\x80\x80\x80",
    b"utf8-\xc3\xa9-\xf0\x9f\x98\x80",
    b"mixed\n\"\xff\\\x80 .txt",
    b"\xff" + b"n" * 253 + b"\n",  # NAME_MAX: 255 bytes
]


def write_read(path, size, dir_fd=None):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644, dir_fd=dir_fd)
    os.write(fd, b"w" * size)
    os.close(fd)
    fd = os.open(path, os.O_RDONLY, dir_fd=dir_fd)
    n = len(os.read(fd, size))
    os.close(fd)
    return n


def utf8(b):
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


# Set by --utf8-only: no invalid UTF-8 anywhere in the names.
ODD = b"\xff"


def deep_comp(i, n):
    """The i-th deep directory name, n bytes long."""
    return (b"d\n\"\\" + ODD + b"%d" % i + b"x" * n)[:n]


def deep_dir(base, total_file_len, final_len):
    """Creates base/D0/D1/... so that dir + "/" + a final_len-byte name is
    exactly total_file_len bytes long; returns the directory."""
    room = total_file_len - 1 - final_len - len(base)  # each level: "/" + name
    levels = -(-room // 251)
    d = base
    for i in range(levels):
        n = room // levels + (1 if i < room % levels else 0) - 1
        d = d + b"/" + deep_comp(i, n)
        os.mkdir(d)
    assert len(d) + 1 + final_len == total_file_len, (len(d), final_len, total_file_len)
    return d


class Manifest:
    def __init__(self):
        self.cases = []
        self.size = 10

    def add(self, case, path, how, fn, xfail=None, tail=None, truncated=False):
        """Runs fn(size) - the write and read - and records the case; tail:
        the name's last bytes, to recognise it reported under a wrong path;
        truncated: longer than PATH_MAX, so it must come as its leading
        components, flagged filename_truncated."""
        self.size += 1
        n = fn(self.size)
        self.cases.append({"case": case, "path": path.hex(), "len": len(path), "how": how,
                           "write": self.size, "read": n, "xfail": xfail,
                           "tail": tail.hex() if tail else None, "truncated": truncated})

    def save(self, path):
        with open(path, "w") as f:
            json.dump({"pid": os.getpid(), "cases": self.cases}, f)


def cmd_run(a):
    global ODD
    root = os.fsencode(os.path.abspath(a.root))
    manifest = os.path.abspath(a.manifest)  # the cwd moves
    m = Manifest()
    add = m.add
    names = NAMES
    if a.utf8_only:
        ODD = "\u00e9".encode()
        names = [n for n in NAMES if utf8(n)]

    for sub in (b"abs", b"cwd", b"dirfd"):
        os.mkdir(root + b"/" + sub)
    dfd = os.open(root + b"/dirfd", os.O_RDONLY | os.O_DIRECTORY)
    for i, name in enumerate(names):
        add("name%d-abs" % i, root + b"/abs/" + name, "absolute",
            lambda s, p=root + b"/abs/" + name: write_read(p, s))
        os.chdir(root + b"/cwd")
        add("name%d-cwd" % i, root + b"/cwd/" + name, "relative to the cwd",
            lambda s, n=name: write_read(n, s))
        add("name%d-dirfd" % i, root + b"/dirfd/" + name, "relative to a dir fd",
            lambda s, n=name: write_read(n, s, dir_fd=dfd))
    os.close(dfd)

    # Whole paths of 4094 and 4095 bytes.
    for total in (4094, PATH_MAX - 1):
        final = 200
        base = root + b"/deep%d" % total
        os.mkdir(base)
        d = deep_dir(base, total, final)
        for how, tag in (("absolute", b"a"), ("relative to the cwd", b"c"),
                         ("relative to a dir fd", b"f")):
            name = tag + b"\n" + ODD + b"z" * (final - 2 - len(ODD))
            path = d + b"/" + name
            assert len(path) == total
            case = "len%d-%s" % (total, how.split()[-1])
            if how == "absolute":
                add(case, path, how, lambda s, p=path: write_read(p, s))
            elif how == "relative to the cwd":
                os.chdir(d)
                add(case, path, how, lambda s, n=name: write_read(n, s))
            else:
                fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
                add(case, path, how, lambda s, n=name, f=fd: write_read(n, s, dir_fd=f))
                os.close(fd)

    if a.long:
        # Longer than PATH_MAX: only reachable relative to a deep cwd.
        os.chdir(root)
        os.mkdir(b"long")
        os.chdir(b"long")
        path = root + b"/long"
        for comp in (deep_comp(i, 250) for i in range(18)):
            os.mkdir(comp)
            os.chdir(comp)
            path += b"/" + comp
        name = b"beyond-PATH_MAX\n" + ODD
        path += b"/" + name
        add("longer-than-PATH_MAX", path, "relative to a cwd deeper than PATH_MAX",
            lambda s, n=name: write_read(n, s), tail=b"/" + name, truncated=True)
    os.chdir("/")
    m.save(manifest)


def cmd_poison(a):
    """before.txt, a name that is not UTF-8, after.txt: does what follows
    the odd name still arrive?"""
    root = os.fsencode(os.path.abspath(a.root))
    m = Manifest()
    m.add("before", root + b"/before.txt", "absolute",
          lambda s: write_read(root + b"/before.txt", s))
    m.add("not-utf8", root + b"/ff\xff", "absolute", lambda s: write_read(root + b"/ff\xff", s))
    time.sleep(0.2)  # its own batch: a decoder that refused it would refuse only it
    m.add("after", root + b"/after.txt", "absolute",
          lambda s: write_read(root + b"/after.txt", s))
    m.save(os.path.abspath(a.manifest))


def load_events(path, fmt):
    """[(event_type, filename bytes, bytes or None, pid)], unparsable lines."""
    events, bad = [], []
    with open(path, "rb") as f:
        for raw in f:
            try:
                line = raw.decode("utf-8", errors="strict")
                e = json.loads(line)
            except ValueError as err:
                bad.append("%s: %r" % (err, raw[:120]))
                continue
            if fmt == "agent":
                d = e.get("data", {})
                e["truncated"] = d.get("filename_truncated") == "true"
                events.append((e.get("event_type"), d.get("filename"), d.get("bytes"),
                               d.get("pid"), e))
            elif fmt == "detector":
                if e.get("type") != "event":
                    continue
                e["truncated"] = e.get("filename_truncated") is True
                events.append((e.get("event_type"), e.get("filename"), None,
                               str(e.get("pid")), e))
            else:
                # The exact bytes when the agent had to send U+FFFD in the
                # text; the text must then be that replacement, exactly.
                e["truncated"] = e.get("filename_truncated") == "true"
                name = e.get("filename")
                if e.get("filename_hex"):
                    raw = bytes.fromhex(e["filename_hex"])
                    if raw.decode("utf-8", errors="replace") != name:
                        bad.append("filename %r is not %r with U+FFFD" % (name, raw))
                        continue
                    name = raw
                events.append((e.get("event_type"), name, e.get("bytes"),
                               e.get("pid"), e))
    out = []
    for t, name, nbytes, pid, e in events:
        if isinstance(name, str):
            name = os.fsencode(name)
        out.append((t, name if isinstance(name, bytes) else None,
                    None if nbytes is None else int(nbytes), pid, e))
    return out, bad


def matches(c, path, name, truncated):
    """Whether an event's name stands for case c's file: the exact bytes,
    unflagged; or, for a path longer than the kernel's walk, its trailing
    components (a true suffix, relative: never starting with '/'), flagged
    filename_truncated."""
    if name is None:
        return False
    if not c.get("truncated"):
        return name == path and not truncated
    return (truncated and 0 < len(name) < 4096 and not name.startswith(b"/")
            and path.endswith(b"/" + name))


def cmd_check(a):
    with open(a.manifest) as f:
        m = json.load(f)
    events, bad = load_events(a.events, a.format)
    pid = str(m["pid"])
    mine = [e for e in events if e[3] == pid]
    res = {"not_json": bad[:5], "n_not_json": len(bad), "events": len(mine),
           "cases": len(m["cases"]), "ok": [], "failed": [], "xfail": [], "xpass": [],
           "unexpected": []}
    used = set()
    for c in m["cases"]:
        path = bytes.fromhex(c["path"])
        want = [("file_write", c["write"])]
        if not a.writes_only:
            want.append(("file_read", c["read"]))
        got = []
        for t, nbytes in want:
            hits = [i for i, e in enumerate(mine)
                    if e[0] == t and matches(c, path, e[1], e[4].get("truncated"))
                    and (nbytes is None or e[2] is None or e[2] == nbytes)]
            used.update(hits)
            got.append(len(hits))
        good = all(n == 1 for n in got)
        entry = "%s (%d bytes, %s%s): %s" % (
            c["case"], c["len"], c["how"],
            ", as its trailing part, flagged truncated" if c.get("truncated") else "",
            " ".join("%s=%d" % (t, n) for (t, _), n in zip(want, got)))
        if c["xfail"]:
            (res["xpass"] if good else res["xfail"]).append(entry + " -- " + c["xfail"])
        else:
            (res["ok"] if good else res["failed"]).append(entry)
    tails = [(bytes.fromhex(c["tail"]), c) for c in m["cases"] if c.get("tail")]
    for i, (t, name, nbytes, _, e) in enumerate(mine):
        if i in used:
            continue
        # A case's file reported under another path: a misnamed event.
        c = next((c for tail, c in tails if name and name.endswith(tail)), None)
        if c:
            res["failed"].append("%s: %s reported as a different, %d-byte path %s...%s" % (
                c["case"], t, len(name), name[:40], name[-60:]))
            continue
        res["unexpected"].append({"event_type": t, "filename_hex": (name or b"").hex(),
                                  "len": len(name or b""),
                                  "truncated": bool(e.get("truncated")), "record": e})
    res["unexpected"] = res["unexpected"][:5]
    res["n_ok"] = len(res["ok"])
    res["ok"] = []  # the count is enough
    print(json.dumps(res, sort_keys=True, separators=(",", ":")))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("run")
    p.add_argument("--root", required=True)
    p.add_argument("--manifest", required=True)
    p.add_argument("--long", action="store_true")
    p.add_argument("--utf8-only", action="store_true",
                   help="only names that are valid UTF-8")
    p.set_defaults(fn=cmd_run)
    p = sub.add_parser("poison")
    p.add_argument("--root", required=True)
    p.add_argument("--manifest", required=True)
    p.set_defaults(fn=cmd_poison)
    p = sub.add_parser("check")
    p.add_argument("--manifest", required=True)
    p.add_argument("--events", required=True)
    p.add_argument("--format", choices=("agent", "detector", "legacy"), required=True)
    p.add_argument("--writes-only", action="store_true")
    p.set_defaults(fn=cmd_check)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
