#!/usr/bin/env python3
"""check-layers.py DAEMON_DIR [STAMP]: the daemon's layers depend one way.

daemon/ is built in layers, one folder (and one static library) each, lowest
first: base, net, http, db, auth, api, ops, admin; main.c sits above them all.
A file may include its own layer and the layers below it, always by the
qualified name ("db/pg.h", "proto/date.h"), never by a relative path.
api/ never includes libpq, and the connection, request and worker structs are
defined only in their own .c file. Run by the build: a violation fails it
(with --warn only a warning, except in the layers named by --strict=a,b and
for the struct rule).
"""
import os
import re
import sys

LAYERS = ["base", "net", "http", "db", "auth", "api", "ops", "admin"]
RANK = {name: i for i, name in enumerate(LAYERS)}
# struct -> the only file that may define it
OWNED = {"worker": "net/worker.c", "conn": "net/conn.c", "request": "http/request.c"}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]', re.M)
STRUCT_DEF = re.compile(r'^\s*struct\s+(\w+)\s*\{', re.M)


def check(root):
    """[(layer, message)] for every violation."""
    errors = []
    for layer in LAYERS:
        folder = os.path.join(root, layer)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if not name.endswith((".c", ".h")):
                continue
            rel = f"{layer}/{name}"
            text = open(os.path.join(folder, name), encoding="utf-8").read()
            for m in INCLUDE.finditer(text):
                kind, inc = m.group(1), m.group(2)
                line = text.count("\n", 0, m.start()) + 1
                where = f"daemon/{rel}:{line}"
                if "libpq" in inc and layer == "api":
                    errors.append((layer, f"{where}: api/ must not include {inc} (use the db/ stores)"))
                if kind == "<":
                    continue
                if inc.startswith("../") or "/" not in inc:
                    errors.append((layer, f'{where}: include "{inc}" by its qualified name ("layer/file.h")'))
                    continue
                top = inc.split("/", 1)[0]
                if top == "proto":
                    continue
                if top not in RANK:
                    errors.append((layer, f'{where}: "{inc}" is not in a layer'))
                elif RANK[top] > RANK[layer]:
                    errors.append((layer, f'{where}: {layer}/ includes "{inc}" of the higher layer {top}/'))
            for m in STRUCT_DEF.finditer(text):
                owner = OWNED.get(m.group(1))
                if owner and owner != rel:
                    line = text.count("\n", 0, m.start()) + 1
                    errors.append(("*", f"daemon/{rel}:{line}: struct {m.group(1)} is defined only in daemon/{owner}"))
    return errors


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    warn_only = "--warn" in sys.argv
    # --strict=a,b: those layers (and the struct rule) fail even with --warn
    strict = set()
    for a in sys.argv[1:]:
        if a.startswith("--strict="):
            strict.update(x for x in a[len("--strict="):].split(",") if x)
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    found = check(args[0])
    fatal = [m for layer, m in found if not warn_only or layer in strict or layer == "*"]
    errors = [m for _, m in found]
    for layer, e in found:
        hard = not warn_only or layer in strict or layer == "*"
        print(("error: " if hard else "warning: ") + e, file=sys.stderr)
    if fatal:
        return 1
    if len(args) > 1:
        with open(args[1], "w") as f:
            f.write(f"{len(errors)} layer warnings\n" if errors else "layers ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
