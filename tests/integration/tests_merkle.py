"""Integration tests of the audit trail as a Merkle tree (issue 14): RFC 9162 hashing
over every audit record in seq order (schema/012_merkle.sql), signed tree heads
(`GET/POST /v1/audit/tree-head`), inclusion and consistency proofs, and the client's
`medaid audit prove` and `medaid audit consistent`.

A reference Merkle tree in Python (hashlib, from RFC 9162's recursive definitions)
is compared with the daemon's roots and proofs for tree sizes from 1 to a few
thousand (powers of two and one either side). The records are added by the owner
with audit_append (as the triggers would), a tree head signed after each step. Then
a record is changed, removed, and two are swapped, through the owner's connection
(triggers disabled, the tree rebuilt from the altered log, as an attacker with the
owner's rights would): the proof against a head saved before fails, and so does the
consistency of that head with the rebuilt tree's. Each change is undone after its
case."""

import base64
import hashlib
import json
import random
import subprocess
import threading
import time
from pathlib import Path

from harness import Daemon, expect, new_ssin, run as run_cmd
from tests_anchor import genkey, raw_public
from tests_api import decision_body, problem
from tests_audit import ask, q
from tests_lifecycle import create


def H(b):
    return hashlib.sha256(b).digest()


def leaf_of(record):
    return H(b"\x00" + record.encode())


def split(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Ref:
    """RFC 9162 2.1: MTH, PATH and PROOF by their recursive definitions."""

    def __init__(self, leaves):
        self.leaves = leaves
        self.memo = {}

    def mth(self, a, b):
        n = b - a
        if n == 0:
            return H(b"")
        if n == 1:
            return self.leaves[a]
        if (a, b) not in self.memo:
            k = split(n)
            self.memo[(a, b)] = H(b"\x01" + self.mth(a, a + k) + self.mth(a + k, b))
        return self.memo[(a, b)]

    def path(self, m, a, b):
        if b - a <= 1:
            return []
        k = split(b - a)
        if m < k:
            return self.path(m, a, a + k) + [self.mth(a + k, b)]
        return self.path(m - k, a + k, b) + [self.mth(a, a + k)]

    def subproof(self, m, a, b, whole):
        if m == b - a:
            return [] if whole else [self.mth(a, b)]
        k = split(b - a)
        if m <= k:
            return self.subproof(m, a, a + k, whole) + [self.mth(a + k, b)]
        return self.subproof(m - k, a + k, b, False) + [self.mth(a, a + k)]


def records(env):
    """(seq, canonical text) of every record, in seq order, as the owner reads them."""
    rows = q(env, "SELECT seq, encode(convert_to(audit_canonical(seq, chain, chain_seq, "
                  "recorded_at, principal_id, organisation, action, object, detail), 'UTF8'), "
                  "'hex') FROM audit_log ORDER BY seq")
    return [(int(s), bytes.fromhex(t).decode()) for s, t in rows]


def fill(env, n):
    if n > 0:
        env.psql("SELECT count(*) FROM (SELECT audit_append(NULL, 'host', 'test.merkle', "
                 f"'fill/' || g, '{{}}') FROM generate_series(1, {n}) g) x")


def head_text(h):
    return (f"medaid audit tree head v1\ncreated_at {h['created_at']}\nkey_id {h['key_id']}\n"
            f"tree_size {h['tree_size']}\nroot_hash {h['root_hash']}\n")


def openssl_verifies(env, key, h):
    pub = env.tmp / "tree-pub.pem"
    run_cmd(["openssl", "pkey", "-in", str(key), "-pubout", "-out", str(pub)])
    (env.tmp / "tree-msg").write_bytes(head_text(h).encode())
    (env.tmp / "tree-sig").write_bytes(base64.b64decode(h["signature"]))
    p = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(pub), "-rawin",
                        "-in", str(env.tmp / "tree-msg"), "-sigfile", str(env.tmp / "tree-sig")],
                       capture_output=True, text=True)
    return p.returncode == 0


REBUILD = ("BEGIN; ALTER TABLE audit_tree_leaf DISABLE TRIGGER audit_tree_leaf_append_only; "
           "ALTER TABLE audit_tree_node DISABLE TRIGGER audit_tree_node_append_only; "
           "DELETE FROM audit_tree_leaf; DELETE FROM audit_tree_node; "
           "ALTER TABLE audit_tree_leaf ENABLE TRIGGER audit_tree_leaf_append_only; "
           "ALTER TABLE audit_tree_node ENABLE TRIGGER audit_tree_node_append_only; COMMIT; "
           "SELECT tree_size FROM audit_tree_extend(10000000)")


def alter_log(env, sql):
    env.psql("BEGIN; ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only; " + sql +
             "; ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only; COMMIT")


def run(env, tap):
    key = genkey(env, "tree-signing")
    d = Daemon(env, "merkle", audit_signing_key=key, audit_checkpoint_interval_s=0)

    @tap.case("medaidd with a signing key starts")
    def _():
        d.start()

    if d.proc is None or d.proc.poll() is not None:
        return
    st = {"heads": {}}

    def post_head():
        r = d.request("auditor", "POST", "/v1/audit/tree-head", {})
        expect(r.status == 201, repr(r))
        return r.json

    @tap.case("POST /v1/audit/tree-head: 201, the tree of every record, root as the "
              "reference's, key_id the SHA-256 of the public key, a signature openssl "
              "accepts; GET answers the latest, the same; other roles 403")
    def _():
        if q(env, "SELECT count(*) FROM audit_tree_head")[0][0] == "0":  # a fresh registry
            problem(d.request("auditor", "GET", "/v1/audit/tree-head"), 404, "not_found")
        h = post_head()
        recs = records(env)
        ref = Ref([leaf_of(t) for _, t in recs])
        expect(h["tree_size"] == len(recs), f"{h} vs {len(recs)} records")
        expect(h["root_hash"] == ref.mth(0, len(recs)).hex(), repr(h))
        expect(h["key_id"] == hashlib.sha256(raw_public(key)).hexdigest(), repr(h))
        expect(base64.b64decode(h["public_key"]) == raw_public(key), "public_key")
        expect(openssl_verifies(env, key, h), "openssl refuses the tree head's signature")
        g = d.request("auditor", "GET", "/v1/audit/tree-head")
        expect(g.status == 200 and g.json == h, repr(g))
        for who in ("ocmw", "provider", "admin"):
            problem(d.request(who, "GET", "/v1/audit/tree-head"), 403, "forbidden")
            problem(d.request(who, "GET", "/v1/audit/proof/inclusion?record=1&tree_size=1"), 403,
                    "forbidden")
            problem(d.request(who, "GET", "/v1/audit/proof/consistency?first=1&second=1"), 403,
                    "forbidden")

    targets = sorted({n for k in range(13) for n in (2 ** k - 1, 2 ** k, 2 ** k + 1) if n > 0}
                     | {100, 1000, 3000, 4200})

    @tap.case(f"the tree grown to {targets[-1]} records in {len(targets)} steps: each signed "
              "head has the size and root of the reference tree")
    def _():
        bad = []
        for t in targets:
            have = len(records(env))
            if t <= have:
                continue
            fill(env, t - have)
            h = post_head()
            recs = records(env)
            ref = Ref([leaf_of(x) for _, x in recs])
            st["heads"][h["tree_size"]] = h
            if h["tree_size"] != len(recs) or h["root_hash"] != ref.mth(0, len(recs)).hex():
                bad.append((t, h["tree_size"], len(recs)))
        # (other groups may have written more than the last target: a head over all)
        h = post_head()
        recs = records(env)
        expect(h["tree_size"] == len(recs) and
               h["root_hash"] == Ref([leaf_of(x) for _, x in recs]).mth(0, len(recs)).hex(),
               f"last head {h['tree_size']} vs {len(recs)} records")
        expect(not bad, f"heads differ from the reference: {bad[:5]}")
        st["recs"] = recs
        st["ref"] = Ref([leaf_of(x) for _, x in st["recs"]])

    if "ref" not in st:
        return
    recs, ref = st["recs"], st["ref"]
    n_all = len(recs)
    sizes = [t for t in targets if t <= n_all]

    @tap.case("inclusion proofs (record=SEQ&tree_size=M) are the reference's for leaves at "
              "both ends, the middle and at random, for every size: path, leaf index, the "
              "record's canonical text and its leaf hash")
    def _():
        rnd = random.Random(14)
        bad, n = [], 0
        for m in sizes:
            for i in sorted({0, m - 1, m // 2, rnd.randrange(m)}):
                seq, text = recs[i]
                r = d.request("auditor", "GET",
                              f"/v1/audit/proof/inclusion?record={seq}&tree_size={m}")
                n += 1
                want = {"tree_size": m, "leaf_index": i, "seq": seq, "record": text,
                        "leaf_hash": leaf_of(text).hex(),
                        "inclusion_path": [x.hex() for x in ref.path(i, 0, m)]}
                if r.status != 200 or r.json != want:
                    bad.append((i, m, r.status, r.body[:200]))
        expect(not bad and n > 100, f"{len(bad)} of {n} differ: {bad[:3]}")

    @tap.case("consistency proofs (first=M&second=N) are the reference's, with both roots, "
              "for every pair of sizes around powers of two")
    def _():
        bad, n = [], 0
        for i, m in enumerate(sizes):
            for s in sorted({m, m + 1, sizes[min(i + 1, len(sizes) - 1)],
                             sizes[min(i + 3, len(sizes) - 1)], n_all}):
                if s < m or s > n_all:
                    continue
                r = d.request("auditor", "GET",
                              f"/v1/audit/proof/consistency?first={m}&second={s}")
                n += 1
                want = {"first": m, "second": s, "first_root": ref.mth(0, m).hex(),
                        "second_root": ref.mth(0, s).hex(),
                        "consistency_path": [x.hex() for x in ref.subproof(m, 0, s, True)]}
                if r.status != 200 or r.json != want:
                    bad.append((m, s, r.status, r.body[:200]))
        expect(not bad and n > 100, f"{len(bad)} of {n} differ: {bad[:3]}")

    @tap.case("bad or out-of-range parameters: 400 invalid_parameter naming the parameter; "
              "a record that does not exist: 404")
    def _():
        last = recs[-1][0]
        for qs, field in [("tree_size=1", "record"), ("record=1", "tree_size"),
                          ("record=0&tree_size=1", "record"), ("record=x&tree_size=1", "record"),
                          ("record=1&tree_size=0", "tree_size"),
                          ("record=1&tree_size=-1", "tree_size"),
                          ("record=01&tree_size=1", "record"),
                          ("record=1&agreement=A2026-00000001&tree_size=1", "record"),
                          ("agreement=B1&tree_size=1", "agreement"),
                          (f"record={recs[0][0]}&tree_size={n_all + 1}", "tree_size"),
                          (f"record={last}&tree_size={n_all - 1}", "tree_size"),
                          ("record=1&tree_size=99999999999999999999", "tree_size")]:
            r = d.request("auditor", "GET", f"/v1/audit/proof/inclusion?{qs}")
            problem(r, 400, "invalid_parameter")
            expect(any(e.get("field") == field for e in r.json.get("errors", [])),
                   f"{qs}: {r.json}")
        problem(d.request("auditor", "GET",
                          f"/v1/audit/proof/inclusion?record={last + 1000}&tree_size=1"),
                404, "not_found")
        problem(d.request("auditor", "GET",
                          "/v1/audit/proof/inclusion?agreement=A1999-00000001&tree_size=1"),
                404, "not_found")
        for qs, field in [("first=1", "second"), ("second=1", "first"),
                          ("first=0&second=1", "first"), ("first=3&second=2", "first"),
                          ("first=a&second=2", "first"),
                          (f"first=1&second={n_all + 1}", "second")]:
            r = d.request("auditor", "GET", f"/v1/audit/proof/consistency?{qs}")
            problem(r, 400, "invalid_parameter")
            expect(any(e.get("field") == field for e in r.json.get("errors", [])),
                   f"{qs}: {r.json}")
        problem(d.request("auditor", "GET", "/v1/audit/proof/consistency?first=1&second=1&x=1"),
                400, "unknown_parameter")

    @tap.case("medaid audit tree-head --new; audit prove AGREEMENT --head FILE: exit 0; a "
              "record not yet in the tree: 404 (exit 2); a head with a changed root or "
              "signature: exit 5")
    def _():
        s = new_ssin()
        create(d, "ocmw", decision_body(s))
        st["agreement"] = ask(d, s)["agreement"]
        p = d.client("auditor", "audit", "prove", st["agreement"], "--head",
                     str(env.tmp / "missing.json"))
        expect(p.returncode == 1, f"missing file: {p.returncode} {p.stderr}")
        p = d.client("auditor", "audit", "tree-head", "--new")
        expect(p.returncode == 0, f"{p.returncode} {p.stderr}")
        h1 = json.loads(p.stdout)
        st["h1"] = env.tmp / "head1.json"
        st["h1"].write_text(p.stdout)
        p = d.client("auditor", "audit", "prove", st["agreement"], "--head", str(st["h1"]))
        expect(p.returncode == 0, f"exit {p.returncode}: {p.stdout} {p.stderr}")
        out = json.loads(p.stdout)
        expect(out["included"] is True and out["tree_size"] == h1["tree_size"] and
               out["root_hash"] == h1["root_hash"], repr(out))
        # an agreement issued after the head
        s2 = new_ssin()
        create(d, "ocmw", decision_body(s2))
        later = ask(d, s2)["agreement"]
        p = d.client("auditor", "audit", "prove", later, "--head", str(st["h1"]))
        expect(p.returncode == 2, f"later agreement: exit {p.returncode} {p.stderr}")
        for name, change in [("root", lambda h: dict(h, root_hash=("0" if h["root_hash"][0] != "0"
                                                                    else "1") +
                                                     h["root_hash"][1:])),
                             ("size", lambda h: dict(h, tree_size=h["tree_size"] - 1)),
                             ("signature", lambda h: dict(h, signature=base64.b64encode(
                                 bytes(64)).decode()))]:
            f = env.tmp / f"head-{name}.json"
            f.write_text(json.dumps(change(h1)))
            p = d.client("auditor", "audit", "prove", st["agreement"], "--head", str(f))
            expect(p.returncode == 5, f"changed {name}: exit {p.returncode} {p.stderr}")

    @tap.case("audit prove / consistent --public-key: a head signed by the audit key passes; "
              "a head re-signed by another key (its own key_id, valid signature) fails, exit 5")
    def _():
        work = env.tmp / "stranger"
        work.mkdir(exist_ok=True)
        h = json.loads(st["h1"].read_text())

        def pem_of(raw, name):
            der = bytes.fromhex("302a300506032b6570032100") + raw
            (work / f"{name}.der").write_bytes(der)
            subprocess.run(["openssl", "pkey", "-pubin", "-inform", "DER", "-in",
                            str(work / f"{name}.der"), "-out", str(work / f"{name}.pem")],
                           check=True, capture_output=True)
            return str(work / f"{name}.pem")

        # the audit key, as its operator publishes it (from the daemon's key file)
        subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout",
                        "-out", str(work / "audit.pem")], check=True, capture_output=True)
        audit_pem = str(work / "audit.pem")
        p = d.client("auditor", "audit", "prove", st["agreement"], "--head", str(st["h1"]),
                     "--public-key", audit_pem)
        expect(p.returncode == 0, f"the audit key: exit {p.returncode} {p.stderr}")
        p = d.client("auditor", "audit", "consistent", str(st["h1"]), str(st["h1"]),
                     "--public-key", audit_pem)
        expect(p.returncode == 0, f"consistent, the audit key: exit {p.returncode} {p.stderr}")
        # a stranger's key signs the same head text: self-consistent, not the audit key
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out",
                        str(work / "k.pem")], check=True, capture_output=True)
        der = subprocess.run(["openssl", "pkey", "-in", str(work / "k.pem"), "-pubout",
                              "-outform", "DER"], check=True, capture_output=True).stdout
        raw = der[-32:]
        forged = dict(h, key_id=hashlib.sha256(raw).hexdigest(),
                      public_key=base64.b64encode(raw).decode())
        (work / "text").write_bytes(head_text(forged).encode())
        sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey",
                              str(work / "k.pem"), "-in", str(work / "text")],
                             check=True, capture_output=True).stdout
        forged["signature"] = base64.b64encode(sig).decode()
        f = work / "head.json"
        f.write_text(json.dumps(forged))
        p = d.client("auditor", "audit", "prove", st["agreement"], "--head", str(f))
        expect(p.returncode == 0, f"without --public-key the forged head is self-consistent: "
                                  f"exit {p.returncode} {p.stderr}")
        p = d.client("auditor", "audit", "prove", st["agreement"], "--head", str(f),
                     "--public-key", audit_pem)
        expect(p.returncode == 5 and "not by the key of" in p.stderr,
               f"another key: exit {p.returncode} {p.stderr}")
        p = d.client("auditor", "audit", "consistent", str(st["h1"]), str(f), "--public-key",
                     audit_pem)
        expect(p.returncode == 5, f"consistent, another key: exit {p.returncode} {p.stderr}")
        p = d.client("auditor", "audit", "prove", st["agreement"], "--head", str(st["h1"]),
                     "--public-key", pem_of(raw, "stranger"))
        expect(p.returncode == 5, f"the real head, the stranger's key: exit {p.returncode}")
        p = d.client("auditor", "audit", "prove", st["agreement"], "--head", str(st["h1"]),
                     "--public-key", str(st["h1"]))
        expect(p.returncode == 1, f"--public-key not a PEM key: exit {p.returncode} {p.stderr}")

    if "h1" not in st:
        return

    @tap.case("docs/verifying.md: its openssl commands, run as written on a saved head, "
              "accept it, and refuse it with one byte of its root changed")
    def _():
        doc = (Path(__file__).resolve().parents[2] / "docs" / "verifying.md").read_text()
        block = doc.split("The check without medaid:", 1)[1].split("```", 2)[1]
        script = block.split("\n", 1)[1]
        work = env.tmp / "verify-head"
        work.mkdir(exist_ok=True)
        h = json.loads(st["h1"].read_text())
        (work / "head.json").write_text(json.dumps(h))
        p = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=work,
                           capture_output=True, text=True)
        expect(p.returncode == 0, f"exit {p.returncode}: {p.stdout} {p.stderr}")
        r = h["root_hash"]
        (work / "head.json").write_text(json.dumps(dict(h, root_hash=("1" if r[0] == "0" else "0")
                                                     + r[1:])))
        p = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=work,
                           capture_output=True, text=True)
        expect(p.returncode != 0, "a changed head verifies with the documented commands")

    def new_head(name):
        p = d.client("auditor", "audit", "tree-head", "--new")
        expect(p.returncode == 0, f"{p.returncode} {p.stderr}")
        f = env.tmp / f"{name}.json"
        f.write_text(p.stdout)
        return f

    def prove(agreement, head):
        return d.client("auditor", "audit", "prove", agreement, "--head", str(head)).returncode

    def consistent(a, b):
        p = d.client("auditor", "audit", "consistent", str(a), str(b))
        return p.returncode

    @tap.case("medaid audit consistent OLD NEW after more records: exit 0; NEW OLD (a "
              "smaller later tree): exit 5; the same head twice: exit 0")
    def _():
        fill(env, 37)
        st["h2"] = new_head("head2")
        expect(consistent(st["h1"], st["h2"]) == 0, "h1 h2")
        expect(consistent(st["h2"], st["h1"]) == 5, "h2 h1")
        expect(consistent(st["h1"], st["h1"]) == 0, "h1 h1")
        fill(env, 1)

    agr_rec = q(env, f"SELECT seq FROM audit_log WHERE object = '{st['agreement']}' "
                     "AND action = 'agreement.issue'")
    a_seq = int(agr_rec[0][0]) if agr_rec else None

    @tap.case("a changed record (its detail rewritten by the owner): its inclusion proof "
              "against the saved head fails (exit 5); the tree rebuilt from the changed log "
              "gives a head whose consistency with the saved one fails (exit 5); undone and "
              "rebuilt: both pass")
    def _():
        orig = q(env, f"SELECT detail FROM audit_log WHERE seq = {a_seq}")[0][0]
        alter_log(env, f"UPDATE audit_log SET detail = replace(detail, '\"covered\" : true', "
                       f"'\"covered\" : false') || ' ' WHERE seq = {a_seq}")
        try:
            expect(prove(st["agreement"], st["h1"]) == 5, "changed record still proves")
            env.psql(REBUILD)
            hx = new_head("head-changed")
            expect(prove(st["agreement"], hx) == 0, "the rebuilt tree holds the changed record")
            expect(consistent(st["h1"], hx) == 5, "a rewritten tree is consistent with h1")
            expect(consistent(st["h2"], hx) == 5, "a rewritten tree is consistent with h2")
        finally:
            env.psql(f"BEGIN; ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only; "
                     f"UPDATE audit_log SET detail = $m${orig}$m$ WHERE seq = {a_seq}; "
                     "ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only; COMMIT")
            env.psql(REBUILD)
        hy = new_head("head-restored")
        expect(prove(st["agreement"], st["h1"]) == 0, "restored record does not prove")
        expect(consistent(st["h1"], hy) == 0, "restored tree not consistent with h1")

    @tap.case("a removed record (before the agreement's; one record added so that the tree "
              "is as large): the agreement's proof against the saved head fails, and the "
              "consistency of the rebuilt tree's head with it (exit 5); undone: both pass")
    def _():
        victim = recs[len(recs) // 2][0]
        env.psql("DROP TABLE IF EXISTS merkle_saved; CREATE TABLE merkle_saved AS "
                 f"SELECT * FROM audit_log WHERE seq = {victim}")
        alter_log(env, f"DELETE FROM audit_log WHERE seq = {victim}")
        try:
            env.psql(REBUILD)
            fill(env, 1)
            hx = new_head("head-removed")
            expect(prove(st["agreement"], st["h1"]) == 5, "proves with a record removed")
            expect(consistent(st["h1"], hx) == 5, "consistent with a record removed")
        finally:
            alter_log(env, "INSERT INTO audit_log SELECT * FROM merkle_saved")
            env.psql("DROP TABLE merkle_saved")
            env.psql(REBUILD)
        hy = new_head("head-restored2")
        expect(prove(st["agreement"], st["h1"]) == 0, "restored: does not prove")
        expect(consistent(st["h1"], hy) == 0, "restored: not consistent")

    @tap.case("two records swapped (the agreement's and an earlier one's seq): the proof "
              "and the consistency with the saved head fail (exit 5); undone: both pass")
    def _():
        other = recs[3][0]
        swap = (f"UPDATE audit_log SET seq = -1 WHERE seq = {a_seq}; "
                f"UPDATE audit_log SET seq = {a_seq} WHERE seq = {other}; "
                f"UPDATE audit_log SET seq = {other} WHERE seq = -1")
        alter_log(env, swap)
        try:
            env.psql(REBUILD)
            hx = new_head("head-swapped")
            expect(prove(st["agreement"], st["h1"]) == 5, "proves with records swapped")
            expect(consistent(st["h1"], hx) == 5, "consistent with records swapped")
        finally:
            alter_log(env, swap)
            env.psql(REBUILD)
        hy = new_head("head-restored3")
        expect(prove(st["agreement"], st["h1"]) == 0, "restored: does not prove")
        expect(consistent(st["h1"], hy) == 0, "restored: not consistent")

    @tap.case("records written by concurrent writers (agreements, reads) while tree heads "
              "are signed in a loop: every head's tree is a prefix of the final one, which "
              "holds every record once, in seq order (the reference's root)")
    def _():
        s = new_ssin()
        create(d, "ocmw", decision_body(s))
        stop = threading.Event()
        heads, errors = [], []

        def writer(k):
            for i in range(25):
                try:
                    if (i + k) % 2:
                        ask(d, s)
                    else:
                        r = d.request("auditor", "GET", f"/v1/beneficiaries/{s}/decisions")
                        expect(r.status == 200, repr(r))
                except Exception as e:  # noqa: BLE001 - reported below
                    errors.append(repr(e))

        def signer():
            while not stop.is_set():
                r = d.request("auditor", "POST", "/v1/audit/tree-head", {})
                if r.status == 201:
                    heads.append(r.json)
                else:
                    errors.append(repr(r))

        ts = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
        sg = threading.Thread(target=signer)
        sg.start()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        stop.set()
        sg.join()
        final = post_head()
        rs = records(env)
        rf = Ref([leaf_of(x) for _, x in rs])
        expect(not errors, f"{errors[:3]}")
        expect(len(heads) >= 2, f"only {len(heads)} heads while writing")
        expect(final["tree_size"] == len(rs) and final["root_hash"] == rf.mth(0, len(rs)).hex(),
               f"final head {final['tree_size']} vs {len(rs)} records")
        bad = [h["tree_size"] for h in heads if rf.mth(0, h["tree_size"]).hex() != h["root_hash"]]
        expect(not bad, f"heads that are not a prefix of the final tree: {bad}")

    @tap.case("the daemon's role cannot write the tree (permission denied), and the owner "
              "cannot change or delete a node while its trigger is on")
    def _():
        for sql in ("INSERT INTO audit_tree_node VALUES (0, 999999, sha256(''))",
                    "DELETE FROM audit_tree_leaf", "UPDATE audit_tree_head SET tree_size = 0",
                    "INSERT INTO audit_tree_leaf VALUES (999999, 999999)"):
            p = env.psql_as("medaid_app", sql, check=False)
            expect(p.returncode != 0 and "permission denied" in p.stderr, f"{sql}: {p.stderr}")
        p = env.psql_as("medaid", "DELETE FROM audit_tree_node WHERE level = 0 AND idx = 0",
                        check=False)
        expect(p.returncode != 0, "the owner deleted a node")

    expect(d.stop() == 0, "stop")

    @tap.case("with audit_checkpoint_interval_s = 1 the daemon signs tree heads by itself")
    def _():
        d2 = Daemon(env, "merkle-timer", audit_signing_key=key, audit_checkpoint_interval_s=1)
        d2.start()
        fill(env, 3)
        deadline = time.monotonic() + 30
        size = len(records(env))
        got = None
        while time.monotonic() < deadline:
            r = d2.request("auditor", "GET", "/v1/audit/tree-head")
            if r.status == 200 and r.json["tree_size"] >= size:
                got = r.json
                break
            time.sleep(0.5)
        expect(got is not None, "no tree head within 30 s")
        expect(openssl_verifies(env, key, got), "signature")
        expect(d2.stop() == 0, "stop")
