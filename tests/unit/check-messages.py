#!/usr/bin/env python3
"""tests/unit/check-messages.py SRCDIR: every per-field error code the sources raise
(verrs_add(..., "code", ...), offence(..., "code", ...)) has its "error.<code>" text in
proto/messages.c, and every literal problem detail the daemon passes to
request_problem / request_early_problem (or sets as a detail) has its entry keyed by its
English text: so each is answered in nl, fr, de and en (the C unit test test_messages
checks that every entry of the table has the four). TAP."""

import glob
import os
import re
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "."
table = open(os.path.join(src, "proto", "messages.c"), encoding="utf-8").read()
LIT = r'((?:"(?:[^"\\]|\\.)*"\s*)+)'


def literal(group):
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', group))


keys = {literal(m.group(1)) for m in re.finditer(r'\{\s*' + LIT + r',\s*\{', table)}


codes, details = set(), set()
for f in sorted(glob.glob(os.path.join(src, "proto", "*.c")) +
                glob.glob(os.path.join(src, "daemon", "**", "*.c"), recursive=True)):
    s = open(f, encoding="utf-8").read()
    for m in re.finditer(r'\b(?:verrs_add|offence)\s*\([^,]+,[^,]+,\s*"([a-z0-9_]+)"', s):
        codes.add(m.group(1))
    for m in re.finditer(r'\bverrs_add\([^,]+,[^,]+,\s*[^",]*\?\s*"([a-z0-9_]+)"\s*:\s*"([a-z0-9_]+)"', s):
        codes.update(m.groups())
    for m in re.finditer(r'\b(?:request_problem|request_early_problem|problem_encode_lang|problem_encode)\s*\(\s*[^,]+,\s*[^,]+,\s*' + LIT, s):
        details.add(literal(m.group(1)))
    for m in re.finditer(r'(?:\*detail|\bdetail|\bwhy)\s*=\s*' + LIT + ';', s):
        details.add(literal(m.group(1)))

n = 0
bad = 0
for c in sorted(codes):
    n += 1
    good = f"error.{c}" in keys
    bad += not good
    print(f"{'ok' if good else 'not ok'} {n} - field error code {c} has its text (error.{c})")
for d in sorted(details):
    n += 1
    good = d in keys
    bad += not good
    print(f"{'ok' if good else 'not ok'} {n} - detail has its translations: {d}")
n += 1
print(f"{'ok' if len(codes) >= 40 and len(details) >= 50 else 'not ok'} {n} - the sources were "
      f"read ({len(codes)} codes, {len(details)} details)")
print(f"1..{n}")
sys.exit(1 if bad else 0)
