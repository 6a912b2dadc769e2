"""Integration tests of issue 12's first part: answers under a monthly patient-share cap are
recorded through the worker's group commit (schema/014: agreement_record_many), caps
allocated in one order, never over the cap, across workers and across two daemons on one
database; an answer whose month's usage changed before its flush is stated again (and
signed again) for the next flush; a flush that fails records nothing of any of its
answers, capped or not, and gives no cap away.
"""

import hashlib
import json
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from harness import Daemon, clean_exit, day, expect, free_port, new_ssin
from tests_agreements import SAMPLE, capped_person, import_csv, question
from tests_lifecycle import concurrent_raw, raw_http
from tests_ops import scrape, value
from tests_signatures import check_signed, raw_public

SHARE = 600  # the patient share of code 101076 in the sample tariffs


def capped_counts(port):
    s = scrape(port)
    return {k: value(s, "medaid_group_commit_capped_total", outcome=k)
            for k in ("recorded", "restated", "recomputed")} | {
        "flushes": value(s, "medaid_group_commit_capped_flushes_total")}


def delta(before, after):
    return {k: after[k] - before[k] for k in before}


def stored(env, number):
    """(cap_cents, answer) of one stored agreement."""
    row = env.psql(f"SELECT cap_cents, answer FROM agreement WHERE number = '{number}'")
    cap, _, ans = row.partition("|")
    return int(cap), ans


def check_answers(env, bodies, kid, pub, cap):
    """Every answer verifies and equals its stored agreement; by number, each states as used
    what the ones numbered before it granted; the OCMW part is what it grants. Returns the
    sum granted."""
    granted = 0
    for b in sorted(bodies, key=lambda b: json.loads(b)["agreement"]):
        j = check_signed(env, b, kid, pub)
        c = j["caps"]["patient_share"]
        expect(c["cap_cents"] == cap and c["used_cents"] == granted
               and c["remaining_cents"] == max(0, cap - granted - c["granted_cents"]),
               f"{j['agreement']}: {c!r} (granted before it: {granted})")
        expect(j["items"][0]["ocmw_cents"] == c["granted_cents"],
               f"{j['agreement']}: item {j['items'][0]!r}, cap {c!r}")
        cap_cents, ans = stored(env, j["agreement"])
        expect(cap_cents == c["granted_cents"] and ans == b.decode(),
               f"{j['agreement']}: stored cap_cents {cap_cents}, answer stored as sent: "
               f"{ans == b.decode()}")
        granted += c["granted_cents"]
    return granted


class PersonLock:
    """The person's lock (schema/009: advisory 1836, hashtext(ssin)) held by a psql session
    of its own until release(): every question about that person waits for it."""

    def __init__(self, env, ssin):
        self.p = subprocess.Popen(
            ["psql", "-X", "-At", "-q", "-h", str(env.sock), "-p", str(env.port), "-U",
             "medaid", "-d", "medaid"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            text=True)
        self.p.stdin.write(f"SELECT pg_advisory_lock(1836, hashtext('{ssin}'));\n")
        self.p.stdin.flush()
        q = ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
             f"AND classid = 1836 AND objid = hashtext('{ssin}')::oid")
        deadline = time.monotonic() + 20
        while env.psql(q) != "1":
            expect(time.monotonic() < deadline and self.p.poll() is None,
                   "the person's lock was not taken")
            time.sleep(0.1)

    def release(self):
        if self.p.poll() is None:
            self.p.stdin.write("SELECT pg_advisory_unlock_all();\n\\q\n")
            self.p.stdin.flush()
            self.p.stdin.close()
            self.p.wait(30)


def run(env, tap):
    key = env.certs / "agreement-signing.pem"
    pub = raw_public(key)
    kid = hashlib.sha256(pub).hexdigest()
    ports = (free_port(), free_port())
    # statements may wait for the person's lock a test holds: longer than the default waits
    waits = dict(workers=2, db_pool_size=4, db_queue_timeout_ms=20000, db_wait_timeout_ms=20000)
    da = Daemon(env, "groupcap-a", ops_listen=f"127.0.0.1:{ports[0]}", **waits)
    db = Daemon(env, "groupcap-b", ops_listen=f"127.0.0.1:{ports[1]}", **waits)

    @tap.case("two medaidd on one database (2 workers each, the operator listener on) start")
    def _():
        da.start()
        db.start()
        r = import_csv(da, SAMPLE.read_text())
        expect(r.status in (200, 201), f"tariffs: {r!r}")

    if any(d.proc is None or d.proc.poll() is not None for d in (da, db)):
        return

    def both_at_once(ssin, per_daemon):
        body = json.dumps(question(ssin, day(0), items=[{"code": "101076"}])).encode()
        req = raw_http("POST", "/v1/coverage", body)
        with ThreadPoolExecutor(max_workers=2) as ex:
            fa = ex.submit(concurrent_raw, da, ["provider"] * per_daemon, req)
            fb = ex.submit(concurrent_raw, db, ["provider"] * per_daemon, req)
            return fa.result() + fb.result()

    @tap.case("2 x 24 simultaneous capped questions for one person and month, on 2 daemons "
              "of 2 workers (demand 28800, cap 10000): all 200, the grants sum to 10000 "
              "exactly; each verifies, grants what it states and is stored as sent; by "
              "number each states the usage granted before it; cap_usage agrees")
    def _():
        s, _v = capped_person(da, 10000)
        res = both_at_once(s, 24)
        bad = [(c, b[:200]) for c, b in res if c != 200]
        expect(not bad, f"{len(bad)} not 200: {bad[:3]!r}")
        granted = check_answers(env, [b for _c, b in res], kid, pub, 10000)
        expect(granted == 10000, f"granted in all: {granted}")
        used = env.psql(f"SELECT used_cents FROM cap_usage WHERE ssin = '{s}'")
        caps = env.psql(f"SELECT sum(cap_cents), count(*) FROM agreement WHERE ssin = '{s}'")
        expect(used == "10000" and caps == "10000|48", f"cap_usage {used}, agreements {caps}")

    @tap.case("questions released together after the person's lock (both daemons computed "
              "them from the same usage): the flushes that found the usage changed state "
              "their answers again (counted), nothing is lost: all 200, grants sum to the cap")
    def _():
        s, _v = capped_person(da, 6000)
        before = [capped_counts(p) for p in ports]
        lock = PersonLock(env, s)
        out = {}
        t = threading.Thread(target=lambda: out.setdefault("res", both_at_once(s, 8)))
        try:
            t.start()
            time.sleep(2)  # every question is waiting in its lookup
        finally:
            lock.release()
        t.join(60)
        res = out.get("res") or []
        expect(len(res) == 16, f"{len(res)} answers of 16")
        bad = [(c, b[:200]) for c, b in res if c != 200]
        expect(not bad, f"{len(bad)} not 200: {bad[:3]!r}")
        granted = check_answers(env, [b for _c, b in res], kid, pub, 6000)
        expect(granted == 6000, f"granted in all: {granted}")
        d = [delta(b, capped_counts(p)) for b, p in zip(before, ports)]
        expect(sum(x["recorded"] for x in d) == 16, f"capped recorded: {d!r}")
        expect(sum(x["restated"] + x["recomputed"] for x in d) >= 1,
               f"no flush found the usage changed: {d!r}")

    @tap.case("a batch of 40 capped questions for one person (cap not reachable): 40 answers "
              "of 600, recorded in shared group commits (fewer flushes with capped answers "
              "than capped answers recorded, /metrics)")
    def _():
        s, _v = capped_person(da, 1000000)
        before = capped_counts(ports[0])
        qs = [question(s, day(0), items=[{"code": "101076"}]) for _ in range(40)]
        r = da.request("provider", "POST", "/v1/coverage/batch", {"questions": qs}, max_time=120)
        expect(r.status == 200, repr(r))
        answers = r.json["answers"]
        parts = [a["items"][0]["ocmw_cents"] for a in answers]
        expect(parts == [SHARE] * 40, f"OCMW parts: {parts!r}")
        x = delta(before, capped_counts(ports[0]))
        expect(x["recorded"] == 40 and 1 <= x["flushes"] < 40,
               f"capped recorded {x['recorded']} in {x['flushes']} group commits")
        used = env.psql(f"SELECT used_cents FROM cap_usage WHERE ssin = '{s}'")
        expect(used == str(40 * SHARE), f"cap_usage {used}")

    @tap.case("a group commit that fails (a row refused by the database) records nothing of "
              "its answers, capped or not: each gets an error, no cap is taken; afterwards "
              "the same questions are answered and the cap is exact")
    def _():
        bad_ssin = new_ssin()
        s, _v = capped_person(da, 3000)
        free = new_ssin()
        env.psql("CREATE FUNCTION groupcap_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
                 "BEGIN RAISE EXCEPTION 'refused by the test'; END $$;"
                 "CREATE TRIGGER groupcap_refuse BEFORE INSERT ON agreement FOR EACH ROW "
                 f"WHEN (NEW.ssin = '{bad_ssin}') EXECUTE FUNCTION groupcap_refuse();")
        qs = ([question(s, day(0), items=[{"code": "101076"}]) for _ in range(4)]
              + [question(free, day(0)), question(bad_ssin, day(0))])
        try:
            r = da.request("provider", "POST", "/v1/coverage/batch", {"questions": qs},
                           max_time=120)
        finally:
            env.psql("DROP TRIGGER groupcap_refuse ON agreement; "
                     "DROP FUNCTION groupcap_refuse();")
        expect(r.status == 200, repr(r))
        errs = [a for a in r.json["answers"] if "error" in a]
        expect(errs, f"no slot failed: {r.json['answers']!r}")
        ok = [a for a in r.json["answers"] if "agreement" in a]
        for a in ok:
            n = env.psql(f"SELECT count(*) FROM agreement WHERE number = '{a['agreement']}'")
            expect(n == "1", f"{a['agreement']} answered but not stored")
        stored_caps = env.psql(f"SELECT coalesce(sum(cap_cents), 0) FROM agreement "
                               f"WHERE ssin = '{s}'")
        used = env.psql(f"SELECT coalesce(sum(used_cents), 0) FROM cap_usage WHERE ssin = '{s}'")
        granted_ok = sum(a["caps"]["patient_share"]["granted_cents"] for a in ok
                         if a.get("caps"))
        expect(stored_caps == used == str(granted_ok),
               f"cap_usage {used}, stored cap_cents {stored_caps}, granted by answers sent "
               f"{granted_ok}")
        n_bad = env.psql(f"SELECT count(*) FROM agreement WHERE ssin = '{bad_ssin}'")
        expect(n_bad == "0", f"{n_bad} agreements of the refused person")
        res = both_at_once(s, 4)
        expect(all(c == 200 for c, _b in res), f"afterwards: {[c for c, _b in res]}")
        allb = [b for _c, b in res]
        total = sum(json.loads(b)["caps"]["patient_share"]["granted_cents"] for b in allb)
        expect(total + granted_ok == 3000, f"granted afterwards {total} + before {granted_ok}")
        used = env.psql(f"SELECT used_cents FROM cap_usage WHERE ssin = '{s}'")
        expect(used == "3000", f"cap_usage {used}")

    for d in (da, db):
        clean_exit(tap, d)
