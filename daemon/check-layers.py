#!/usr/bin/env python3
"""check-layers.py DAEMON_DIR [STAMP]: the daemon's layers depend one way.

daemon/ is built in layers, one folder (and one static library) each, lowest
first: base, net, http, db, auth, api, ops, admin; main.c sits above them all.
A file may include its own layer and the layers below it, always by the
qualified name ("db/pg.h", "proto/date.h"), never by a relative path.
api/ sees the database only through the typed stores (never libpq, the pool,
the statement list or the insides of struct db) and never a connection or a
worker; struct worker, struct conn and struct request are defined only in
their own .c file. Run by every build: a violation fails it.

    check-layers.py --self-test   plants each kind of violation in a copy of a
                                  tiny tree and checks that every one is found
"""
import os
import re
import sys
import tempfile

LAYERS = ["base", "net", "http", "db", "auth", "api", "ops", "admin"]
RANK = {name: i for i, name in enumerate(LAYERS)}
# struct -> the only file that may define it
OWNED = {"worker": "net/worker.c", "conn": "net/conn.c", "request": "http/request.c"}
# what api/ may not include although its rank would allow it
API_DENIED = {
    "db/pg.h": "the pool (use a db/ store)",
    "db/queries.h": "the statements (use a db/ store)",
    "db/statements.h": "the statements (use a db/ store)",
    "db/store.h": "the stores' insides",
    "db/db_internal.h": "the insides of struct db",
    "net/conn.h": "a connection (use http/request.h)",
    "net/worker.h": "a worker (use request_db / request_config)",
    "net/server.h": "the server",
}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]', re.M)
STRUCT_DEF = re.compile(r'^\s*struct\s+(\w+)\s*\{', re.M)


def check(root):
    """Every violation, as a message."""
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
                where = f"daemon/{rel}:{text.count(chr(10), 0, m.start()) + 1}"
                if layer == "api" and "libpq" in inc:
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
                elif layer == "api" and inc in API_DENIED:
                    errors.append(f'{where}: api/ must not see {API_DENIED[inc]} ("{inc}")')
            for m in STRUCT_DEF.finditer(text):
                owner = OWNED.get(m.group(1))
                if owner and owner != rel:
                    line = text.count("\n", 0, m.start()) + 1
                    errors.append(f"daemon/{rel}:{line}: struct {m.group(1)} is defined only "
                                  f"in daemon/{owner}")
    return errors


def self_test():
    """TAP: each planted violation is found; the clean tree passes."""
    cases = [
        ("clean tree", None, None, 0),
        ("net/ includes http/", "net/x.c", '#include "http/request.h"\n', 1),
        ("base/ includes api/", "base/x.h", '#include "api/common.h"\n', 1),
        ("db/ includes auth/", "db/x.c", '#include "auth/auth.h"\n', 1),
        ("relative include", "http/x.c", '#include "../api/routes.h"\n', 1),
        ("unqualified include", "db/x.c", '#include "pg.h"\n', 1),
        ("api/ includes libpq", "api/x.c", "#include <libpq-fe.h>\n", 1),
        ("api/ includes the pool", "api/x.c", '#include "db/pg.h"\n', 1),
        ("api/ includes a worker", "api/x.c", '#include "net/worker.h"\n', 1),
        ("struct conn defined outside net/conn.c", "http/x.c", "struct conn {\n int fd;\n};\n", 1),
        ("api/ includes a store and http (allowed)", "api/x.c",
         '#include "db/decisions.h"\n#include "http/request.h"\n#include "proto/date.h"\n', 0),
        ("admin/ includes db/ (allowed)", "admin/x.c", '#include "db/db.h"\n', 0),
    ]
    print(f"1..{len(cases)}")
    bad = 0
    for i, (name, path, text, want) in enumerate(cases, 1):
        with tempfile.TemporaryDirectory() as root:
            for layer in LAYERS:
                os.mkdir(os.path.join(root, layer))
            with open(os.path.join(root, "net", "conn.c"), "w") as f:
                f.write('#include "base/log.h"\nstruct conn {\n int fd;\n};\n')
            if path:
                with open(os.path.join(root, path), "w") as f:
                    f.write(text)
            got = check(root)
        good = len(got) == want
        bad += not good
        print(f"{'ok' if good else 'not ok'} {i} - {name}: {len(got)} violation(s) found")
        for e in got:
            print(f"#   {e}")
    return 1 if bad else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    errors = check(sys.argv[1])
    for e in errors:
        print("error: " + e, file=sys.stderr)
    if errors:
        print(f"check-layers: {len(errors)} violation(s) of the daemon's layering", file=sys.stderr)
        return 1
    if len(sys.argv) == 3:
        with open(sys.argv[2], "w") as f:
            f.write("layers ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
