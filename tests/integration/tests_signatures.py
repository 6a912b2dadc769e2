"""Integration tests of signed agreements (issue 14): every coverage answer, single or
in a batch, carries an Ed25519 signature over its RFC 8785 form without the signature;
GET /v1/agreements/{n} gives it back byte for byte; GET /v1/keys lists the keys with
their validity; `medaid agreement verify` checks a saved answer offline (exit 0 / 5);
the openssl commands of docs/verifying.md (run exactly as the doc has them) agree; a
rotated key keeps old agreements verifying."""

import base64
import hashlib
import json
import re
import subprocess

from harness import ROOT, Daemon, clean_exit, day, expect, new_ssin, run as run_cmd
from tests_agreements import SAMPLE, capped_person, import_csv, question
from tests_api import decision_body
from tests_lifecycle import concurrent_raw, create, raw_http

B64_SIG = re.compile(r"^[A-Za-z0-9+/]{86}==$")


def doc_commands():
    """The sh code blocks of docs/verifying.md's section "With openssl alone", as the doc
    has them."""
    text = (ROOT / "docs" / "verifying.md").read_text()
    m = re.search(r"^## With openssl alone\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    expect(m, 'docs/verifying.md has no section "## With openssl alone"')
    blocks = re.findall(r"^```sh\n(.*?)^```", m.group(1), re.S | re.M)
    expect(blocks, "docs/verifying.md has no sh block")
    return "\n".join(blocks)


def openssl_doc(env, name, answer_bytes, keys_bytes):
    """Run the doc's commands in a directory of their own; (exit code, output)."""
    work = env.tmp / f"verify-{name}"
    work.mkdir(exist_ok=True)
    (work / "agreement.json").write_bytes(answer_bytes)
    (work / "keys.json").write_bytes(keys_bytes)
    p = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", doc_commands()], cwd=str(work),
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


def raw_public(path):
    der = subprocess.run(["openssl", "pkey", "-in", str(path), "-pubout", "-outform", "DER"],
                         capture_output=True, check=True).stdout
    return der[-32:]


def canonical(obj):
    """RFC 8785 for medaid's answers (ASCII names, integers): the reference of the tests."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def client_verify(d, env, name, answer_bytes, keys_bytes):
    a = env.tmp / f"{name}.json"
    k = env.tmp / f"{name}-keys.json"
    a.write_bytes(answer_bytes)
    k.write_bytes(keys_bytes)
    return d.client("provider", "agreement", "verify", str(a), "--keys", str(k))


def alter_one_byte(b):
    """One digit of the agreement number changed: still JSON, another content."""
    m = re.search(rb'"agreement":"A[0-9]{4}-[0-9]{7}([0-9])"', b)
    expect(m, f"no agreement number in {b[:200]!r}")
    i = m.start(1)
    return b[:i] + (b"1" if b[i:i + 1] != b"1" else b"2") + b[i + 1:]


def check_signed(env, answer_bytes, key_id, pub):
    j = json.loads(answer_bytes)
    sig = j.get("signature")
    expect(isinstance(sig, dict) and set(sig) == {"algorithm", "key_id", "value"}
           and sig["algorithm"] == "Ed25519" and sig["key_id"] == key_id
           and B64_SIG.match(sig["value"]), f"signature object {sig!r}")
    expect(list(j)[-1] == "signature", "the signature is the last member")
    body = dict(j)
    del body["signature"]
    # the reference check, with the key's raw bytes (independent of the daemon's code)
    pem = env.tmp / "ref-pub.pem"
    der = bytes.fromhex("302a300506032b6570032100") + pub
    pem.write_text("-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(der).decode() +
                   "\n-----END PUBLIC KEY-----\n")
    (env.tmp / "ref-msg").write_bytes(canonical(body))
    (env.tmp / "ref-sig").write_bytes(base64.b64decode(sig["value"]))
    p = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(pem), "-rawin",
                        "-in", str(env.tmp / "ref-msg"), "-sigfile", str(env.tmp / "ref-sig")],
                       capture_output=True, text=True)
    expect(p.returncode == 0, f"reference check: {p.stdout} {p.stderr}")
    return j


def run(env, tap):
    key1 = env.certs / "agreement-signing.pem"
    pub1 = raw_public(key1)
    kid1 = hashlib.sha256(pub1).hexdigest()
    d = Daemon(env, "signatures")
    st = {}

    @tap.case("medaidd with agreement_signing_key starts")
    def _():
        d.start()

    if d.proc is None or d.proc.poll() is not None:
        return

    @tap.case("POST /v1/coverage: covered and not covered answers carry an Ed25519 signature "
              "of key_id = SHA-256 of the public key over the RFC 8785 form without it; "
              "GET /v1/agreements/{n} gives the same bytes")
    def _():
        s = new_ssin()
        create(d, "ocmw", decision_body(s))
        for name, ssin in (("covered", s), ("refused", new_ssin())):
            r = d.request("provider", "POST", "/v1/coverage",
                          {"ssin": ssin, "service_date": day(0), "care_type": "general_practice"})
            expect(r.status == 200, repr(r))
            j = check_signed(env, r.body, kid1, pub1)
            expect(j["covered"] is (name == "covered"), repr(j))
            g = d.request("auditor", "GET", f"/v1/agreements/{j['agreement']}")
            expect(g.status == 200 and g.body == r.body, f"GET: {g!r}")
            st[name] = r.body

    @tap.case("GET /v1/keys (every role): the key with key_id, Ed25519, raw and PEM public key, "
              "valid_from, valid_until null, current")
    def _():
        for who in ("provider", "ocmw", "auditor", "admin"):
            r = d.request(who, "GET", "/v1/keys")
            expect(r.status == 200, f"{who}: {r!r}")
        keys = r.json["keys"]
        expect(len(keys) == 1, repr(keys))
        k = keys[0]
        expect(k["key_id"] == kid1 and k["algorithm"] == "Ed25519"
               and base64.b64decode(k["public_key"]) == pub1 and k["current"] is True
               and k["valid_until"] is None
               and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", k["valid_from"] or ""),
               repr(k))
        p = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                           input=k["public_key_pem"].encode(), capture_output=True)
        expect(p.returncode == 0 and p.stdout[-32:] == pub1, "public_key_pem")
        st["keys"] = r.body

    if "keys" not in st or "covered" not in st:
        return

    @tap.case("medaid agreement verify FILE --keys KEYS.json: exit 0 for both answers, offline "
              "(MEDAID_URL points nowhere)")
    def _():
        for name in ("covered", "refused"):
            a = env.tmp / f"saved-{name}.json"
            k = env.tmp / "saved-keys.json"
            a.write_bytes(st[name])
            k.write_bytes(st["keys"])
            p = run_cmd([str(env.medaid), "agreement", "verify", str(a), "--keys", str(k)],
                        check=False, env={"PATH": "/usr/bin:/bin", "HOME": str(env.home),
                                          "MEDAID_URL": "https://127.0.0.1:1"})
            expect(p.returncode == 0, f"{name}: exit {p.returncode}: {p.stdout} {p.stderr}")
            v = json.loads(p.stdout)
            expect(v == {"valid": True, "agreement": json.loads(st[name])["agreement"],
                         "key_id": kid1}, repr(v))

    @tap.case("docs/verifying.md: its openssl commands, exactly as written, accept the answers")
    def _():
        for name in ("covered", "refused"):
            rc, out = openssl_doc(env, name, st[name], st["keys"])
            expect(rc == 0 and "Signature Verified Successfully" in out, f"{name}: {rc} {out}")
        # re-indented, the same content: still valid
        pretty = json.dumps(json.loads(st["covered"]), indent=2).encode()
        rc, out = openssl_doc(env, "pretty", pretty, st["keys"])
        expect(rc == 0, f"pretty: {rc} {out}")
        p = client_verify(d, env, "pretty", pretty, st["keys"])
        expect(p.returncode == 0, f"client, pretty: {p.returncode} {p.stderr}")

    @tap.case("an answer altered by one byte fails: client exit 5, the doc's openssl commands "
              "fail; a changed signature, an unknown key, an unsigned answer: exit 5; no "
              "--keys or a missing file: exit 1")
    def _():
        bad = alter_one_byte(st["covered"])
        expect(len(bad) == len(st["covered"]) and bad != st["covered"], "one byte")
        p = client_verify(d, env, "altered", bad, st["keys"])
        expect(p.returncode == 5 and "NOT VALID" in p.stderr, f"{p.returncode} {p.stderr}")
        rc, out = openssl_doc(env, "altered", bad, st["keys"])
        expect(rc != 0 and "Signature Verification Failure" in out, f"openssl: {rc} {out}")
        j = json.loads(st["covered"])
        v = j["signature"]["value"]
        j["signature"]["value"] = ("B" if v[0] != "B" else "C") + v[1:]
        p = client_verify(d, env, "badsig", json.dumps(j).encode(), st["keys"])
        expect(p.returncode == 5, f"changed signature: {p.returncode} {p.stderr}")
        p = client_verify(d, env, "nokey", st["covered"], b'{"keys":[]}')
        expect(p.returncode == 5 and kid1 in p.stderr, f"unknown key: {p.returncode} {p.stderr}")
        j = json.loads(st["covered"])
        del j["signature"]
        p = client_verify(d, env, "unsigned", json.dumps(j).encode(), st["keys"])
        expect(p.returncode == 5, f"unsigned: {p.returncode} {p.stderr}")
        p = d.client("provider", "agreement", "verify", str(env.tmp / "covered.json"))
        expect(p.returncode == 1, f"no --keys: {p.returncode} {p.stderr}")
        p = d.client("provider", "agreement", "verify", str(env.tmp / "missing.json"), "--keys",
                     str(env.tmp / "saved-keys.json"))
        expect(p.returncode == 1, f"missing file: {p.returncode} {p.stderr}")

    @tap.case("POST /v1/coverage/batch: every answer is signed and verifies (client and the "
              "doc's commands); GET /v1/agreements gives each one back byte for byte; a "
              "question in error has no agreement and no signature")
    def _():
        s = new_ssin()
        create(d, "ocmw", decision_body(s))
        qs = [{"ssin": s, "service_date": day(0), "care_type": "general_practice",
               "items": [{"code": "101076", "quantity": 1}]},
              {"ssin": new_ssin(), "service_date": day(0), "care_type": "general_practice"},
              {"ssin": s, "service_date": "2026-13-01", "care_type": "general_practice"}]
        r = d.request("provider", "POST", "/v1/coverage/batch", {"questions": qs})
        expect(r.status == 200, repr(r))
        answers = r.json["answers"]
        expect(len(answers) == 3 and "error" in answers[2] and "signature" not in answers[2],
               repr(answers))
        for i, a in enumerate(answers[:2]):
            g = d.request("provider", "GET", f"/v1/agreements/{a['agreement']}")
            expect(g.status == 200, repr(g))
            check_signed(env, g.body, kid1, pub1)
            expect(json.loads(g.body) == a, f"answer {i}: the batch's and the stored differ")
            p = client_verify(d, env, f"batch{i}", g.body, st["keys"])
            expect(p.returncode == 0, f"client {i}: {p.returncode} {p.stderr}")
            # as the batch gave it (re-encoded by the test: the same content)
            rc, out = openssl_doc(env, f"batch{i}", json.dumps(a).encode(), st["keys"])
            expect(rc == 0, f"openssl {i}: {rc} {out}")
            rc, out = openssl_doc(env, f"batch{i}-bad", alter_one_byte(g.body), st["keys"])
            expect(rc != 0, f"openssl {i}, altered: {rc} {out}")

    @tap.case("answers under a monthly cap, 16 at once (recorded by compare-and-set, restated "
              "and signed again when others took from the cap): each verifies, states the "
              "usage the agreements numbered before it granted, and is stored as sent")
    def _():
        r = import_csv(d, SAMPLE.read_text())
        expect(r.status in (200, 201), f"tariffs: {r!r}")
        s, _v = capped_person(d, 6000)
        body = json.dumps(question(s, day(0), items=[{"code": "101076"}])).encode()
        res = concurrent_raw(d, ["provider"] * 16, raw_http("POST", "/v1/coverage", body))
        bad = [(code, b[:200]) for code, b in res if code != 200]
        expect(not bad, f"not 200: {bad[:3]!r}")
        granted = 0
        for b in sorted((b for _c, b in res), key=lambda b: json.loads(b)["agreement"]):
            j = check_signed(env, b, kid1, pub1)
            c = j["caps"]["patient_share"]
            expect(c["used_cents"] == granted, f"{j['agreement']}: {c!r} (before: {granted})")
            granted += c["granted_cents"]
            g = d.request("provider", "GET", f"/v1/agreements/{j['agreement']}")
            expect(g.status == 200 and g.body == b, f"GET {j['agreement']}: {g!r}")
        expect(granted == 6000, f"granted in all: {granted}")

    @tap.case("medaidd exits 0 on SIGTERM")
    def _():
        expect(d.stop() == 0, d.tail())

    # -- rotation -------------------------------------------------------------------------
    key2 = env.tmp / "agreement-signing-2.pem"
    run_cmd(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(key2)])
    pub2 = raw_public(key2)
    kid2 = hashlib.sha256(pub2).hexdigest()
    spare = env.tmp / "older-keys"
    spare.mkdir(exist_ok=True)
    key3 = env.tmp / "agreement-signing-3.pem"
    run_cmd(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(key3)])
    run_cmd(["openssl", "pkey", "-in", str(key3), "-pubout", "-out", str(spare / "k3.pem")])
    kid3 = hashlib.sha256(raw_public(key3)).hexdigest()
    d2 = Daemon(env, "signatures-rotated", agreement_signing_key=key2,
                agreement_public_keys=spare)

    @tap.case("rotation: restarted with a new key (and a directory of older public keys), new "
              "answers carry the new key_id; GET /v1/keys lists the old key (valid until the "
              "new one's first use), the new one (current) and the configured one (never used)")
    def _():
        d2.start()
        s = new_ssin()
        create(d2, "ocmw", decision_body(s))
        r = d2.request("provider", "POST", "/v1/coverage",
                       {"ssin": s, "service_date": day(0), "care_type": "general_practice"})
        expect(r.status == 200, repr(r))
        check_signed(env, r.body, kid2, pub2)
        k = d2.request("auditor", "GET", "/v1/keys")
        expect(k.status == 200, repr(k))
        keys = {e["key_id"]: e for e in k.json["keys"]}
        expect(set(keys) == {kid1, kid2, kid3}, repr(keys))
        expect(keys[kid1]["current"] is False and keys[kid2]["current"] is True
               and keys[kid1]["valid_until"] == keys[kid2]["valid_from"]
               and keys[kid2]["valid_until"] is None and keys[kid3]["valid_from"] is None
               and keys[kid3]["current"] is False, repr(keys))
        st["keys2"] = k.body
        st["new"] = r.body

    if "keys2" not in st:
        return

    @tap.case("rotation: the old agreements still verify with the new key list (client and the "
              "doc's commands) and are given back unchanged; the new one verifies; the new one "
              "does not verify with the old list")
    def _():
        for name in ("covered", "refused"):
            number = json.loads(st[name])["agreement"]
            g = d2.request("auditor", "GET", f"/v1/agreements/{number}")
            expect(g.status == 200 and g.body == st[name], f"GET {number}: {g!r}")
            p = client_verify(d2, env, f"old-{name}", st[name], st["keys2"])
            expect(p.returncode == 0, f"client: {p.returncode} {p.stderr}")
            rc, out = openssl_doc(env, f"old-{name}", st[name], st["keys2"])
            expect(rc == 0, f"openssl: {rc} {out}")
        p = client_verify(d2, env, "new", st["new"], st["keys2"])
        expect(p.returncode == 0, f"new: {p.returncode} {p.stderr}")
        p = client_verify(d2, env, "new-oldlist", st["new"], st["keys"])
        expect(p.returncode == 5, f"new with the old list: {p.returncode} {p.stderr}")

    clean_exit(tap, d2)
