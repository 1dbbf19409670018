#!/usr/bin/env python3
"""Lint for the shell test suites: checks that cannot fail.

Run by scripts/lint.sh over every tracked test script. It reports, as
file:line: what is wrong:

  ok-without-fail   `cond && ok "..."` with no `|| fail` in the same list, or
                    `if cond; then ok ...; fi` with no else branch: when cond
                    is false nothing is reported and the suite stays green.
  unguarded-capture a value captured with $(...) and then used as what a
                    check expects (check's EXPECTED argument, a jq --arg)
                    without `need NAME "$VAR"` (or a `[ -n "$VAR" ]` test)
                    in between: an empty capture makes the check pass for
                    any output. A $(...) written directly into a jq --arg is
                    the same mistake.
  no-finish         a suite that runs its cases (run_cases) and does not end
                    with `finish` (or another last command that tests the
                    failure count): its exit status is that of its last case,
                    so a FAIL line leaves ctest green.

The parse is deliberately small (quotes, comments and here-documents are
blanked, then words are read in command position); it is tested in
test/lint_tests_selftest.sh against samples of each mistake.
"""
import re
import sys

SEPARATORS = {";", "&&", "||", "|", "(", ")", "{", "}", "\n", "!", "then", "else", "do", "elif"}
CAPTURE = re.compile(r"^\s*(?:local\s+)?([A-Za-z_][A-Za-z0-9_]*)=\"?\$\(")
GUARD = r'(need\s+("[^"]*"|\S+)\s+"?\$\{?{v}\b|\[\s+-n\s+"?\$\{?{v}\b)'


def blank(text, quotes=True):
    """Quoted strings (unless not @quotes), comments and here-documents
    replaced by spaces (same line numbers), so keywords inside them are not
    read as code."""
    heredoc = None
    lines = text.split("\n")
    res = []
    for line in lines:
        if heredoc:
            res.append("")
            if line.strip() == heredoc:
                heredoc = None
            continue
        m = re.search(r"<<-?\s*['\"]?([A-Za-z_]+)['\"]?", line)
        buf, q, j = [], None, 0
        while j < len(line):
            c = line[j]
            if q:
                if c == "\\" and q == '"':
                    buf.append(line[j:j + 2] if not quotes else "  ")
                    j += 2
                    continue
                if c == q:
                    q = None
                    buf.append(c)
                else:
                    buf.append(" " if quotes else c)
            elif c in "'\"":
                q = c
                buf.append(c)
            elif c == "#" and (j == 0 or line[j - 1] in " \t;"):
                break
            elif c == "\\" and j + 1 < len(line):
                buf.append("  ")
                j += 2
                continue
            else:
                buf.append(c)
            j += 1
        res.append("".join(buf))
        if m and q is None:
            heredoc = m.group(1)
    return res


def logical_lines(lines):
    """Joins lines continued by a trailing &&, ||, | or backslash; yields
    (first line number, text)."""
    cur, start = "", 0
    for no, line in enumerate(lines, 1):
        if not cur:
            start = no
        cur += " " + line
        s = line.rstrip()
        if s.endswith(("&&", "||", "|", "\\")):
            continue
        yield start, cur
        cur = ""
    if cur:
        yield start, cur


def tokens(text):
    return re.findall(r"&&|\|\||[;|(){}!]|[^\s;|(){}!&]+|&", text)


def ok_without_fail(path, lines):
    problems, stack = [], []
    for no, text in logical_lines(lines):
        toks = tokens(text)
        prev = ";"
        for k, t in enumerate(toks):
            cmd_pos = prev in SEPARATORS
            if cmd_pos and t == "if":
                stack.append({"line": no, "state": "cond", "ok": False, "else": False})
            elif t == "then" and stack:
                stack[-1]["state"] = "then"
            elif t == "elif" and stack:
                stack[-1]["state"] = "cond"
            elif t == "else" and stack:
                stack[-1]["else"] = True
                stack[-1]["state"] = "else"
            elif cmd_pos and t == "fi" and stack:
                f = stack.pop()
                if f["ok"] and not f["else"]:
                    problems.append((f["line"], "ok-without-fail",
                                     "`if ... then ok` has no else branch"))
            elif cmd_pos and t == "ok":
                rest = toks[k + 1:]
                end = next((i for i, x in enumerate(rest) if x in (";", "then", "fi")), len(rest))
                if prev == "&&" and "||" not in rest[:end]:
                    problems.append((no, "ok-without-fail", "`&& ok` with no `|| fail`"))
                elif prev in ("then",) or (stack and stack[-1]["state"] == "then" and prev != "&&"):
                    if stack:
                        stack[-1]["ok"] = True
            prev = t
    return problems


def unguarded_capture(lines):
    problems, captured = [], {}
    for no, text in logical_lines(lines):
        m = CAPTURE.match(text)
        if m:
            captured[m.group(1)] = no
        for v in list(captured):
            if re.search(GUARD.replace("{v}", v), text):
                del captured[v]
        if re.search(r"--arg\s+\w+\s+\"\$\(", text):
            problems.append((no, "unguarded-capture",
                             "a $(...) capture used directly as a jq --arg expectation"))
        for v in captured:
            uses = re.search(r"--arg\s+\w+\s+\"?\$\{?%s\b" % v, text) or \
                re.search(r"^\s*check\s+(\"[^\"]*\"|\S+)\s+\"?\$\{?%s\b" % v, text)
            if uses and captured[v] != no:
                problems.append((no, "unguarded-capture",
                                 "$%s (captured on line %d) used as an expectation without "
                                 "`need`" % (v, captured[v])))
    return problems


def no_finish(text):
    """A suite that calls run_cases and whose last command is not `finish`,
    `exit STATUS` or a test of T_FAIL (read on the raw text: the blanked
    one has lost the quoted "$T_FAIL")."""
    code = [(no, t.strip()) for no, t in enumerate(text.split("\n"), 1)
            if t.strip() and not t.strip().startswith("#")]
    if not any(re.match(r"run_cases\s+\w", t) for _, t in code):
        return []
    no, last = code[-1]
    if re.match(r"(finish\b|exit\b|\[ .*T_FAIL)", last):
        return []
    return [(no, "no-finish", "ends with `%s`, not `finish`: a failed check would not "
             "fail the suite" % last.split()[0])]


def main(paths):
    bad = 0
    for path in paths:
        text = open(path, encoding="utf-8", errors="replace").read()
        found = ok_without_fail(path, blank(text)) + unguarded_capture(blank(text, quotes=False))
        found += no_finish(text)
        for no, kind, what in sorted(found):
            print("%s:%d: %s: %s" % (path, no, kind, what))
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
