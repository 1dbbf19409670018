#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Mutants that must die: each *.mut file here names one small change to
the code that decides what users see (loss counts, rule matching, bytes,
names, acknowledgements, reloads, escaping, readiness) and the test that
must catch it. The runner copies the tree, builds it once (Release), runs
every named test on the unmutated copy (a test that fails without a mutant
would "kill" anything), then for each mutant: applies it, rebuilds
incrementally, runs its test, puts the file back. Prints a table; exits 1
unless every mutant was killed.

A mutant file:

    what: the probe counts each lost record twice
    file: probes/file_io.bpf.c
    find: count(SE_CTR_DROP_READ_MATCHED + ...);
    replace: { count(...); count(...); }
    test: integration_agent t_flood_drops_counted

`find` must occur exactly once in `file` (\\n, \\t and \\\\ are escapes); a
mutant that no longer applies because the code moved is a failure to fix,
never a skip. `test` is a ctest name, then optionally the suite's cases to
run (SENTINEL_CASES, see run_cases in test/checks.sh).

usage: run.py [--check] [--only NAME...] [--work DIR]
  --check  only verify that every mutant applies (no build, no tests)
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
KEYS = ("what", "file", "find", "replace", "test")
TEST_TIMEOUT = 600


class Mutant:
    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)[: -len(".mut")]
        fields = {}
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if not line.strip() or line.startswith("#"):
                    continue
                key, sep, val = line.partition(":")
                if not sep or key not in KEYS or key in fields:
                    raise ValueError(
                        f"{path}:{n}: expected one of {', '.join(KEYS)} once each, "
                        f"as 'key: value', got {line!r}")
                fields[key] = val[1:] if val.startswith(" ") else val
        missing = [k for k in KEYS if k not in fields]
        if missing:
            raise ValueError(f"{path}: missing {', '.join(missing)}")
        self.what = fields["what"]
        self.file = fields["file"]
        self.find = unescape(fields["find"])
        self.replace = unescape(fields["replace"])
        spec = fields["test"].split()
        self.test, self.cases = spec[0], tuple(spec[1:])

    def spec(self):
        return (self.test, self.cases)


def unescape(s):
    """\\n, \\t and \\\\ in a value: newline, tab, one backslash."""
    def one(m):
        if m.group(1) not in "nt\\":
            raise ValueError(f"unknown escape \\{m.group(1)} in {s!r} (\\n, \\t, \\\\ only)")
        return {"n": "\n", "t": "\t", "\\": "\\"}[m.group(1)]

    return re.sub(r"\\(.)", one, s)


def apply(m, src):
    """Returns the original text of the mutated file, or raises."""
    p = os.path.join(src, m.file)
    with open(p, encoding="utf-8") as f:
        text = f.read()
    n = text.count(m.find)
    if n != 1:
        raise ValueError(f"{m.file}: 'find' occurs {n} times (must be once): {m.find!r}")
    with open(p, "w", encoding="utf-8") as f:
        f.write(text.replace(m.find, m.replace))
    return text


def restore(m, src, text):
    with open(os.path.join(src, m.file), "w", encoding="utf-8") as f:
        f.write(text)


def copy_tree(work):
    src = os.path.join(work, "src")
    shutil.rmtree(src, ignore_errors=True)
    files = subprocess.run(
        ["git", "-C", ROOT, "ls-files", "-z", "-co", "--exclude-standard"],
        check=True, capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        s = os.path.join(ROOT, rel)
        if not os.path.isfile(s):
            continue  # deleted in the work tree
        d = os.path.join(src, rel)
        os.makedirs(os.path.dirname(d), exist_ok=True)
        shutil.copy2(s, d)
    return src


def build(src, bld, log):
    if not os.path.exists(os.path.join(bld, "CMakeCache.txt")):
        r = subprocess.run(["cmake", "-S", src, "-B", bld, "-DCMAKE_BUILD_TYPE=Release"],
                           stdout=log, stderr=subprocess.STDOUT)
        if r.returncode:
            return False
    r = subprocess.run(["cmake", "--build", bld, f"-j{os.cpu_count() or 2}"],
                       stdout=log, stderr=subprocess.STDOUT)
    return r.returncode == 0


def run_test(bld, spec, log):
    test, cases = spec
    env = dict(os.environ)
    env.pop("SENTINEL_CASES", None)
    if cases:
        env["SENTINEL_CASES"] = " ".join(cases)
    r = subprocess.run(
        ["ctest", "--test-dir", bld, "-R", f"^{test}$", "--output-on-failure",
         "--timeout", str(TEST_TIMEOUT), "--no-tests=error"],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    return r.returncode == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--work", default="/tmp/sentinel-mutants")
    a = ap.parse_args()

    mutants = [Mutant(p) for p in sorted(glob.glob(os.path.join(HERE, "*.mut")))]
    if a.only:
        mutants = [m for m in mutants if m.name in a.only]
    if not mutants:
        print("mutants: none found", file=sys.stderr)
        return 1
    os.makedirs(a.work, exist_ok=True)
    src = copy_tree(a.work)
    bad = 0
    for m in mutants:  # each applies, and can be put back
        try:
            restore(m, src, apply(m, src))
        except (OSError, ValueError) as e:
            print(f"FAIL {m.name}: does not apply: {e}")
            bad += 1
    if bad or a.check:
        print(f"mutants: {len(mutants) - bad} of {len(mutants)} apply")
        return 1 if bad else 0

    bld = os.path.join(a.work, "build")
    logp = os.path.join(a.work, "log.txt")
    with open(logp, "w", encoding="utf-8") as log:
        t0 = time.time()
        if not build(src, bld, log):
            print(f"mutants: the unmutated copy does not build (see {logp})")
            return 1
        print(f"# built the copy in {time.time() - t0:.0f} s")
        specs = sorted({m.spec() for m in mutants})
        for s in specs:
            t = time.time()
            log.write(f"\n==== baseline {s}\n")
            log.flush()
            if not run_test(bld, s, log):
                print(f"FAIL baseline: {' '.join((s[0],) + s[1])} fails without a mutant "
                      f"(see {logp})")
                return 1
            print(f"# baseline {' '.join((s[0],) + s[1])}: passes ({time.time() - t:.0f} s)")
        rows = []
        for m in mutants:
            t = time.time()
            log.write(f"\n==== mutant {m.name}\n")
            log.flush()
            text = apply(m, src)
            try:
                if not build(src, bld, log):
                    result = "does not build"
                elif run_test(bld, m.spec(), log):
                    result = "SURVIVED"
                else:
                    result = "killed"
            finally:
                restore(m, src, text)
            rows.append((m, result, time.time() - t))
            print(f"{result:<14} {m.name:<34} {time.time() - t:5.0f} s  {m.what}", flush=True)
        build(src, bld, log)  # leave the copy as it was
    killed = sum(r == "killed" for _, r, _ in rows)
    print(f"\nmutants: {killed} of {len(rows)} killed in {time.time() - t0:.0f} s")
    for m, r, _ in rows:
        if r != "killed":
            print(f"FAIL {m.name} {r}: {m.what} (test: {m.test} {' '.join(m.cases)}; "
                  f"log {logp})")
    return 0 if killed == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
