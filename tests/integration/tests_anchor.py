"""Integration tests of the signed checkpoints of the audit chain heads (issue "Hold
under attack and faults", item 9): medaidd signs every chain's head with its Ed25519
key (audit_signing_key) at an interval and on demand; `medaid audit verify --anchor
FILE` checks the trail against a saved checkpoint, so that a chain whose tail was cut
off and whose head was moved back (which the chains alone cannot show) is found; a
changed checkpoint is refused; verify also finds an agreement without its record.

The tampering runs as the cluster's superuser and is undone after each case."""

import base64
import hashlib
import json
import subprocess
import time

from harness import Daemon, expect, new_ssin, run as run_cmd
from tests_api import decision_body, problem
from tests_audit import ask, heads, q, verify
from tests_lifecycle import create


def genkey(env, name):
    path = env.tmp / f"{name}.pem"
    run_cmd(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(path)])
    return path


def raw_public(path):
    der = subprocess.run(["openssl", "pkey", "-in", str(path), "-pubout", "-outform", "DER"],
                         capture_output=True, check=True).stdout
    return der[-32:]


def signed_text(cp):
    t = f"medaid audit checkpoint v1\ncreated_at {cp['created_at']}\nkey_id {cp['key_id']}\n"
    return t + "".join(f"{h['chain']} {h['chain_seq']} {h['seq']} {h['hash']}\n"
                       for h in cp["heads"])


def openssl_verifies(env, key, cp):
    """The signature checked with openssl, independently of the daemon."""
    pub = env.tmp / "anchor-pub.pem"
    run_cmd(["openssl", "pkey", "-in", str(key), "-pubout", "-out", str(pub)])
    (env.tmp / "anchor-msg").write_bytes(signed_text(cp).encode())
    (env.tmp / "anchor-sig").write_bytes(base64.b64decode(cp["signature"]))
    p = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(pub),
                        "-rawin", "-in", str(env.tmp / "anchor-msg"),
                        "-sigfile", str(env.tmp / "anchor-sig")], capture_output=True, text=True)
    return p.returncode == 0


def run(env, tap):
    sup = env.superuser_psql
    key = genkey(env, "audit-signing")

    @tap.case("without audit_signing_key: checkpoints and verify --anchor answer 503 "
              "checkpoints_disabled; plain verify works")
    def _():
        d0 = Daemon(env, "anchor-nokey")
        d0.start()
        problem(d0.request("auditor", "GET", "/v1/audit/checkpoint"), 503,
                "checkpoints_disabled")
        problem(d0.request("auditor", "POST", "/v1/audit/checkpoint", {}), 503,
                "checkpoints_disabled")
        problem(d0.request("auditor", "POST", "/v1/audit/verify", {}), 503,
                "checkpoints_disabled")
        expect(verify(d0).get("intact") is True, "plain verify")
        expect(d0.stop() == 0, "stop")

    @tap.case("an audit_signing_key that is not an Ed25519 key stops the start")
    def _():
        bad = Daemon(env, "anchor-badkey", audit_signing_key=env.certs / "server.key")
        try:
            bad.start(wait=20)
            expect(False, "started with a TLS key as audit_signing_key")
        except Exception as e:  # noqa: BLE001 - Failure from start()
            expect("exited" in str(e) and "audit_signing_key" in bad.tail(),
                   f"{e}\n{bad.tail()}")

    d = Daemon(env, "anchor", audit_signing_key=key, audit_checkpoint_interval_s=0)

    @tap.case("medaidd with a signing key starts and answers /v1/health")
    def _():
        d.start()

    if d.proc is None or d.proc.poll() is not None:
        return
    st = {}

    @tap.case("POST /v1/audit/checkpoint (auditor): 201, every chain's head as audit_head "
              "holds it, key_id = SHA-256 of the public key, an Ed25519 signature openssl "
              "accepts; GET answers the latest, the same; other roles 403")
    def _():
        problem(d.request("auditor", "GET", "/v1/audit/checkpoint"), 404, "not_found")
        s = new_ssin()
        create(d, "ocmw", decision_body(s))
        ask(d, s)
        for _ in range(6):  # reads last, so that heads are read records
            expect(d.request("auditor", "GET", f"/v1/beneficiaries/{s}/decisions").status == 200,
                   "read")
        hd = heads(env)
        r = d.request("auditor", "POST", "/v1/audit/checkpoint", {})
        expect(r.status == 201, repr(r))
        cp = r.json
        expect([(h["chain"], h["chain_seq"], h["seq"], h["hash"]) for h in cp["heads"]] ==
               [(c, n, ls, h) for c, (n, ls, h) in sorted(hd.items())],
               f"heads {cp['heads']!r} differ from audit_head {hd!r}")
        expect(cp["key_id"] == hashlib.sha256(raw_public(key)).hexdigest(), repr(cp))
        expect(base64.b64decode(cp["public_key"]) == raw_public(key), "public_key")
        expect(openssl_verifies(env, key, cp), "openssl refuses the signature")
        g = d.request("auditor", "GET", "/v1/audit/checkpoint")
        expect(g.status == 200 and g.json == cp, f"GET {g!r}")
        for who in ("ocmw", "provider", "admin"):
            problem(d.request(who, "GET", "/v1/audit/checkpoint"), 403, "forbidden")
        st["cp"] = cp
        st["file"] = env.tmp / "checkpoint.json"
        p = d.client("auditor", "audit", "checkpoint")
        expect(p.returncode == 0 and json.loads(p.stdout) == cp, f"{p.returncode} {p.stderr}")
        st["file"].write_text(p.stdout)

    if "cp" not in st:
        return

    @tap.case("after more writes and reads: medaid audit verify --anchor FILE: intact "
              "(exit 0), with the anchor")
    def _():
        s = new_ssin()
        create(d, "ocmw", decision_body(s))
        ask(d, s)
        for _ in range(20):
            expect(d.request("auditor", "GET", f"/v1/beneficiaries/{s}/decisions").status == 200,
                   "read")
        p = d.client("auditor", "audit", "verify", "--anchor", str(st["file"]))
        expect(p.returncode == 0, f"exit {p.returncode}: {p.stdout} {p.stderr}")
        v = json.loads(p.stdout)
        expect(v["intact"] is True and v["anchor"] == {"created_at": st["cp"]["created_at"],
                                                       "chains": 16}, repr(v))

    def cut_back(chain, from_seq):
        """Delete chain's records from chain_seq from_seq on and move its head back to the
        record before; returns what undo() puts back."""
        saved = sup(f"SELECT last_chain_seq, last_seq, last_hash FROM audit_head "
                    f"WHERE chain = {chain}")
        sup("DROP TABLE IF EXISTS anchor_cut; CREATE TABLE anchor_cut AS SELECT * FROM "
            f"audit_log WHERE chain = {chain} AND chain_seq >= {from_seq}")
        sup("BEGIN; ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only; "
            f"DELETE FROM audit_log WHERE chain = {chain} AND chain_seq >= {from_seq}; "
            "UPDATE audit_head h SET last_chain_seq = l.chain_seq, last_seq = l.seq, "
            f"last_hash = l.hash FROM audit_log l WHERE h.chain = {chain} AND l.chain = "
            f"{chain} AND l.chain_seq = {from_seq - 1}; "
            "ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only; COMMIT")
        return chain, saved

    def undo(cut):
        chain, saved = cut
        n, ls, h = saved.split("|")
        sup("BEGIN; INSERT INTO audit_log SELECT * FROM anchor_cut; "
            f"UPDATE audit_head SET last_chain_seq = {n}, last_seq = {ls}, last_hash = '{h}' "
            f"WHERE chain = {chain}; DROP TABLE anchor_cut; COMMIT")

    @tap.case("a chain's tail cut off and its head moved back (as superuser): plain verify "
              "says intact, verify --anchor finds it (behind_anchor, exit 5); put back: intact")
    def _():
        cp = st["cp"]
        # a chain whose anchored record and everything after it are reads (no version or
        # agreement is lost, so only the anchor can tell)
        pick = None
        for h in cp["heads"]:
            if h["chain_seq"] < 2:
                continue
            acts = {r[0] for r in q(env, "SELECT action FROM audit_log WHERE chain = "
                                         f"{h['chain']} AND chain_seq >= {h['chain_seq']}")}
            if acts and all(a.startswith("read.") for a in acts):
                pick = h
                break
        expect(pick is not None, f"no chain ends in reads at the checkpoint: {cp['heads']!r}")
        cut = cut_back(pick["chain"], pick["chain_seq"])
        try:
            v = verify(d)
            expect(v.get("intact") is True, f"plain verify: {v!r}")
            p = d.client("auditor", "audit", "verify", "--anchor", str(st["file"]))
            expect(p.returncode == 5, f"exit {p.returncode}: {p.stdout} {p.stderr}")
            v = json.loads(p.stdout)
            expect(v.get("intact") is False and v.get("reason") == "behind_anchor"
                   and v.get("chain") == pick["chain"] and v.get("broken_at") == pick["seq"],
                   f"verify --anchor: {v!r}, anchored head {pick!r}")
        finally:
            undo(cut)
        p = d.client("auditor", "audit", "verify", "--anchor", str(st["file"]))
        expect(p.returncode == 0, f"after undo: exit {p.returncode}: {p.stdout}")

    @tap.case("a record before the anchor rewritten and its chain recomputed to a new head "
              "(as superuser): plain verify says intact, verify --anchor: anchor_mismatch")
    def _():
        cp = st["cp"]
        h = max(cp["heads"], key=lambda x: x["chain_seq"])
        c, k = h["chain"], h["chain_seq"]
        saved = sup(f"SELECT last_chain_seq, last_seq, last_hash FROM audit_head WHERE chain = {c}")
        sup("DROP TABLE IF EXISTS anchor_rw; CREATE TABLE anchor_rw AS SELECT * FROM audit_log "
            f"WHERE chain = {c} AND chain_seq >= {k}")
        sup("BEGIN; ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only; "
            "DO $$ DECLARE r record; prev text; BEGIN "
            f"SELECT hash INTO prev FROM audit_log WHERE chain = {c} AND chain_seq = {k - 1}; "
            f"UPDATE audit_log SET organisation = 'host' WHERE chain = {c} AND chain_seq = {k}; "
            f"FOR r IN SELECT * FROM audit_log WHERE chain = {c} AND chain_seq >= {k} "
            "ORDER BY chain_seq LOOP "
            "UPDATE audit_log SET prev_hash = prev, hash = encode(sha256(convert_to(prev || "
            "audit_canonical(r.seq, r.chain, r.chain_seq, r.recorded_at, r.principal_id, "
            "r.organisation, r.action, r.object, r.detail), 'UTF8')), 'hex') "
            "WHERE seq = r.seq RETURNING hash INTO prev; END LOOP; "
            f"UPDATE audit_head SET last_hash = prev WHERE chain = {c}; END $$; "
            "ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only; COMMIT")
        try:
            v = verify(d)
            expect(v.get("intact") is True, f"plain verify: {v!r}")
            r = d.request("auditor", "POST", "/v1/audit/verify", cp)
            expect(r.status == 200 and r.json.get("intact") is False
                   and r.json.get("reason") == "anchor_mismatch" and r.json.get("chain") == c
                   and r.json.get("broken_at") == h["seq"], f"{r!r}, anchored {h!r}")
        finally:
            n, ls, hh = saved.split("|")
            sup("BEGIN; ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only; "
                f"DELETE FROM audit_log WHERE chain = {c} AND chain_seq >= {k}; "
                "INSERT INTO audit_log SELECT * FROM anchor_rw; "
                f"UPDATE audit_head SET last_chain_seq = {n}, last_seq = {ls}, "
                f"last_hash = '{hh}' WHERE chain = {c}; DROP TABLE anchor_rw; "
                "ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only; COMMIT")
        expect(d.request("auditor", "POST", "/v1/audit/verify", cp).json.get("intact") is True,
               "after putting it back")

    @tap.case("a saved checkpoint changed (a head's seq or hash, the signature, the key id, "
              "created_at) or not one: refused, 422 checkpoint_invalid (client: exit 2)")
    def _():
        cp = st["cp"]

        def changed(fn):
            c = json.loads(json.dumps(cp))
            fn(c)
            return c

        h = max(range(16), key=lambda i: cp["heads"][i]["chain_seq"])
        cases = [
            changed(lambda c: c["heads"][h].update(chain_seq=c["heads"][h]["chain_seq"] - 1)),
            changed(lambda c: c["heads"][h].update(hash="0" * 64)),
            changed(lambda c: c.update(signature=c["signature"][:10] +
                                       ("A" if c["signature"][10] != "A" else "B") +
                                       c["signature"][11:])),
            changed(lambda c: c.update(key_id="1" * 64)),
            changed(lambda c: c.update(created_at="2020-01-01T00:00:00.000000Z")),
            changed(lambda c: c.pop("heads")),
        ]
        for c in cases:
            problem(d.request("auditor", "POST", "/v1/audit/verify", c), 422,
                    "checkpoint_invalid")
        bad = env.tmp / "checkpoint-changed.json"
        bad.write_text(json.dumps(cases[0]))
        p = d.client("auditor", "audit", "verify", "--anchor", str(bad))
        expect(p.returncode == 2 and "checkpoint_invalid" in p.stderr,
               f"exit {p.returncode}: {p.stderr}")
        # signed by another key: refused as well
        other = genkey(env, "other-signing")
        d2 = Daemon(env, "anchor-other", audit_signing_key=other, audit_checkpoint_interval_s=0)
        d2.start()
        try:
            theirs = d2.request("auditor", "POST", "/v1/audit/checkpoint", {}).json
        finally:
            d2.stop()
        problem(d.request("auditor", "POST", "/v1/audit/verify", theirs), 422,
                "checkpoint_invalid")
        p = d.client("auditor", "audit", "verify", "--anchor", str(env.tmp / "nonexistent"))
        expect(p.returncode == 1, f"missing file: exit {p.returncode}")

    @tap.case("an agreement's audit record deleted (last of its chain, head moved back, as "
              "superuser): verify reports the missing record (exit 5); put back: intact")
    def _():
        s = new_ssin()
        create(d, "ocmw", decision_body(s))
        j = ask(d, s)  # nothing is written after it: its record ends its chain
        row = q(env, "SELECT chain, chain_seq FROM audit_log WHERE action = 'agreement.issue' "
                     f"AND object = '{j['agreement']}'")
        expect(len(row) == 1, repr(row))
        chain, cs = int(row[0][0]), int(row[0][1])
        expect(heads(env)[chain][0] == cs, "the agreement's record is not its chain's last")
        cut = cut_back(chain, cs)
        try:
            p = d.client("auditor", "audit", "verify")
            expect(p.returncode == 5, f"exit {p.returncode}: {p.stdout} {p.stderr}")
            v = json.loads(p.stdout)
            expect(v.get("intact") is False and v.get("reason") == "missing_record"
                   and v.get("kind") == "agreement" and v.get("object") == j["agreement"]
                   and v.get("records") == 0, repr(v))
            p = d.client("auditor", "--format", "table", "audit", "verify")
            expect(j["agreement"] in p.stdout and "missing_record" in p.stdout, p.stdout)
        finally:
            undo(cut)
        expect(verify(d).get("intact") is True, "after undo")

    @tap.case("medaidd stops cleanly")
    def _():
        expect(d.stop() == 0, "exit")

    @tap.case("audit_checkpoint_interval_s: checkpoints made by the timer, one per interval "
              "for all workers (no conflict logged)")
    def _():
        dt = Daemon(env, "anchor-timer", audit_signing_key=key, audit_checkpoint_interval_s=2)
        dt.start()
        before = int(sup("SELECT count(*) FROM audit_checkpoint WHERE slot IS NOT NULL"))
        deadline = time.monotonic() + 30
        n = before
        while time.monotonic() < deadline and n < before + 2:
            time.sleep(0.5)
            n = int(sup("SELECT count(*) FROM audit_checkpoint WHERE slot IS NOT NULL"))
        expect(dt.stop() == 0, "stop")
        expect(n >= before + 2, f"{n - before} timer checkpoints in 30 s at a 2 s interval")
        slots = sup("SELECT slot FROM audit_checkpoint WHERE slot IS NOT NULL ORDER BY slot")
        expect(len(slots.split()) == len(set(slots.split())), "two checkpoints in one slot")
        log = (env.tmp / "anchor-timer.log").read_text(errors="replace")
        expect("checkpoint was not made" not in log, "a timer checkpoint failed")
