#!/usr/bin/env python3
"""check-layers.py DAEMON_DIR [STAMP]: the daemon's layers depend one way.

daemon/ is built in layers, one folder (and one static library) each, lowest
first: base, net, http, db, auth, api, ops, admin; main.c sits above them all.
A file may include its own layer and the layers below it, always by the
qualified name ("db/pg.h", "proto/date.h"), never by a relative path.
api/ never includes libpq, and the connection, request and worker structs are
defined only in their own .c file. Run by the build: a violation fails it.
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
                    errors.append(f"{where}: api/ must not include {inc} (use the db/ stores)")
                if kind == "<":
                    continue
                if inc.startswith("../") or "/" not in inc:
                    errors.append(f'{where}: include "{inc}" by its qualified name ("layer/file.h")')
                    continue
                top = inc.split("/", 1)[0]
                if top == "proto":
                    continue
                if top not in RANK:
                    errors.append(f'{where}: "{inc}" is not in a layer')
                elif RANK[top] > RANK[layer]:
                    errors.append(f'{where}: {layer}/ includes "{inc}" of the higher layer {top}/')
            for m in STRUCT_DEF.finditer(text):
                owner = OWNED.get(m.group(1))
                if owner and owner != rel:
                    line = text.count("\n", 0, m.start()) + 1
                    errors.append(f"daemon/{rel}:{line}: struct {m.group(1)} is defined only in daemon/{owner}")
    return errors


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    warn_only = "--warn" in sys.argv
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    errors = check(args[0])
    for e in errors:
        print(("warning: " if warn_only else "error: ") + e, file=sys.stderr)
    if errors and not warn_only:
        return 1
    if len(args) > 1:
        with open(args[1], "w") as f:
            f.write(f"{len(errors)} layer warnings\n" if errors else "layers ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
