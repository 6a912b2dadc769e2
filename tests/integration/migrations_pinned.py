#!/usr/bin/python3
"""Released migrations never change: the SHA-256 of each schema/NNN_*.sql file is pinned.

    /usr/bin/python3 tests/integration/migrations_pinned.py [SCHEMA_DIR]

`medaidd migrate` records the SHA-256 of each migration file's bytes (daemon/migrate.c,
column schema_migration.checksum) and refuses to run when an applied file has changed
since. A database that has it applied cannot take the edited file; so the files that
were released are pinned here: change a released migration and this test fails (write
a new migration instead). A new migration file (the next NNN) is allowed, but whoever
adds it pins it: a file without a line in PINNED fails too, saying what to add.
The integration suite (tests_api.py) checks that the checksums a real `medaidd
migrate` recorded are these.

Prints TAP; exits 1 when a check failed. Standard library only.
"""

import hashlib
import re
import sys
from pathlib import Path

# file name -> SHA-256 of its bytes (`sha256sum schema/NNN_name.sql`), as released
PINNED = {
    "001_foundation.sql": "a3cd4f429fca2702dc5f7eda306c31996bfd14d68b2004b0dd3c9879e62ddf30",
    "002_lifecycle.sql": "50da0128609ebc7473cb998802da0be1b7603be7fde7222db4a0f969a1fe2981",
    "003_agreements.sql": "ee9d36493020783217f63b826550fb11da5191a85eedda57c23860f2c46c7c62",
    "004_audit.sql": "3b73f2a482ac0e202f210c9e2cbbe5bf5446943f180855e6f93c5669c29b35a0",
    "005_reads.sql": "f0c7ac369f0bd690d0712803fb3968f563cf9cc1dbbdcf0fc8abbb8958f812af",
    "006_anchor.sql": "c2dc46392326a1415dd68456549e27a8f76a0a0da387ca45d098412bc00cd5a5",
    "007_kinds.sql": "c0ca0079fb49e363f8b7193ff85fa5723effbb523bb43a15a63a4625f930b103",
    "008_invoices.sql": "404102d86793229a172ec3de168f58c0b7b02a7c69df8fe1bdc32235559351e6",
    "009_tariff_versions.sql": "d22bd9d478b53ae0d47ef0d42e622663264ae0bce55b1f33c4baa4339fdda028",
    "010_as_of_pages.sql": "ea520ca4c46affa39d21dca1a1484356ad3567f021242ced0dc297a5f07d5ac1",
    "011_agreement_keys.sql": "62d125efcefb49d0ef6f34fd79593730c6bc3b3227eaf4a7d0fe595e16d9f98b",
    "012_merkle.sql": "13b7751161c8dd6fb735a0b80a75fcc889483eb109dc997beb23ddd02879337d",
    "013_audit_missing_plan.sql": "f573da90c35958de1a3f5fc95c92f79067b8e0d893b5ff6c209590e2ffaa140e",
    "014_capped_group_commit.sql": "71cd402d16eaccbc07f1c487ada456cb4438c964ae5723821e8cabbbfb8664d6",
    "015_plan_indexes.sql": "6124398a0cdb7379a5331f11de193d883aabddea4acb8682f9cf5ed1302aa4a9",
    "016_planned_functions.sql": "6a2100b19bd5e4fe0b112c316be5dfe24f22fadd9c38ecf1d0a4ee4e6913f5cb",
}

# what daemon/migrate.c takes for a migration: NNN_name.sql
MIGRATION = re.compile(r"^[0-9]{3}_.+\.sql$")


def sha256_file(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def main():
    schema = Path(sys.argv[1] if len(sys.argv) > 1 else
                  Path(__file__).resolve().parents[2] / "schema")
    n = failed = 0

    def result(good, name, diag=""):
        nonlocal n, failed
        n += 1
        failed += not good
        print(f"{'ok' if good else 'not ok'} {n} - {name}")
        for line in diag.splitlines():
            print(f"#   {line}")

    present = sorted(p.name for p in schema.iterdir() if MIGRATION.match(p.name))
    for name, pinned in sorted(PINNED.items()):
        path = schema / name
        if not path.exists():
            result(False, f"released migration schema/{name} is there",
                   "a released migration is never removed or renamed")
            continue
        got = sha256_file(path)
        result(got == pinned, f"released migration schema/{name} is unchanged (sha256 {pinned[:12]}…)",
               "" if got == pinned else
               f"its SHA-256 is now {got}, released as {pinned}.\n"
               "A database that applied it refuses the changed file (medaidd migrate compares "
               "checksums):\nrestore the file and put the change in a new migration.")
    for name in present:
        if name in PINNED:
            continue
        got = sha256_file(schema / name)
        result(False, f"new migration schema/{name} is pinned",
               f"schema/{name} has no pinned checksum. New migrations are welcome; pin it in\n"
               f"PINNED of tests/integration/migrations_pinned.py when you add it:\n"
               f'    "{name}": "{got}",')
    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
