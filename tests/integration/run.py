#!/usr/bin/python3
"""Integration tests of medaidd: real PostgreSQL, real daemon, real clients.

    /usr/bin/python3 tests/integration/run.py --build build [--keep] [--only GROUP,...]
                                              [--skip GROUP,...]

Creates one throwaway PostgreSQL cluster and one dev CA per run (scripts/lib.sh),
migrates, registers principals, then runs the groups of tests, each against its own
medaidd on a free loopback port. Prints TAP (`ok N - name` / `not ok N - name`, then
`1..N`); exits 1 when a test failed. Everything it started is stopped at the end,
also when a test fails or the run is interrupted.
"""

import argparse
import atexit
import os
import signal
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
import contract  # noqa: E402
from harness import Env, Failure  # noqa: E402
import tests_agreements  # noqa: E402
import tests_api  # noqa: E402
import tests_audit  # noqa: E402
import tests_dbrules  # noqa: E402
import tests_faults  # noqa: E402
import tests_freeze  # noqa: E402
import tests_input  # noqa: E402
import tests_lifecycle  # noqa: E402
import tests_strict  # noqa: E402
import tests_reads  # noqa: E402
import tests_anchor  # noqa: E402
import tests_merkle  # noqa: E402
import tests_shutdown  # noqa: E402
import tests_flood  # noqa: E402
import tests_invoices  # noqa: E402
import tests_tariffv  # noqa: E402
import tests_kinds  # noqa: E402
import tests_signatures  # noqa: E402
import tests_groupcap  # noqa: E402
import tests_gaps  # noqa: E402
import tests_contract  # noqa: E402
import tests_fhir  # noqa: E402
import tests_ops  # noqa: E402
import tests_client  # noqa: E402
import tests_balancer  # noqa: E402
import tests_failover  # noqa: E402
import tests_standby  # noqa: E402
import tests_plans  # noqa: E402
import tests_conns  # noqa: E402
import tests_batches  # noqa: E402

try:  # written separately; the run goes on without it (but not past its own errors)
    import tests_audit_scripts  # noqa: E402
except ImportError as e:
    if getattr(e, "name", None) != "tests_audit_scripts":
        raise
    tests_audit_scripts = None


class Tap:
    def __init__(self, only=None):
        self.n = 0
        self.failed = 0
        self.prefix = ""
        self.only = only

    def result(self, good, name, diag=""):
        self.n += 1
        if not good:
            self.failed += 1
        print(f"{'ok' if good else 'not ok'} {self.n} - {self.prefix}{name}", flush=True)
        if diag:
            for line in str(diag).rstrip().splitlines()[:80]:
                print(f"#   {line}")
        sys.stdout.flush()

    def case(self, name):
        """Decorator: run the function now as one test case."""
        def deco(fn):
            t0 = time.monotonic()
            try:
                fn()
            except Failure as e:
                self.result(False, name, str(e))
            except Exception:  # noqa: BLE001 - a broken test is a failed test
                self.result(False, name, traceback.format_exc())
            else:
                self.result(True, name)
            dt = time.monotonic() - t0
            if dt > 2:
                print(f"#   ({dt:.1f}s)")
            return fn
        return deco


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build", help="meson build directory")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, cluster)")
    ap.add_argument("--only", default=os.environ.get("MEDAID_TEST_GROUPS", ""),
                    help="comma-separated group names (the groups list below); default: "
                         "$MEDAID_TEST_GROUPS, or every group")
    ap.add_argument("--skip", default=os.environ.get("MEDAID_TEST_SKIP", ""),
                    help="comma-separated group names not to run; default: $MEDAID_TEST_SKIP")
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))
    skip = set(filter(None, args.skip.split(",")))

    tap = Tap()
    t_start = time.monotonic()
    env = None
    done = [False]

    def cleanup():
        if env is not None and not done[0]:
            done[0] = True
            env.teardown(keep=args.keep)

    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))

    try:
        groups = [
            ("api", tests_api.run),
            ("lifecycle", tests_lifecycle.run),
            ("agreements", tests_agreements.run),
            ("audit", tests_audit.run),
            ("dbrules", tests_dbrules.run),
            ("strict", tests_strict.run),
            ("slow", tests_faults.slow_clients),
            ("database", tests_faults.database_down),
            ("shutdown", tests_faults.shutdown),
            ("freeze", tests_freeze.run),
            ("input", tests_input.run),
            ("reads", tests_reads.run),
            ("anchor", tests_anchor.run),
            ("sigterm", tests_shutdown.run),
            ("flood", tests_flood.run),
            ("invoices", tests_invoices.run),
            ("tariffv", tests_tariffv.run),
            ("kinds", tests_kinds.run),
            ("signatures", tests_signatures.run),
            ("gaps", tests_gaps.run),
            ("contract", tests_contract.run),
            ("fhir", tests_fhir.run),
            ("ops", tests_ops.run),
            ("client", tests_client.run),
            ("merkle", tests_merkle.run),
            ("balancer", tests_balancer.run),
            ("failover", tests_failover.run),
            ("standby", tests_standby.run),
            ("groupcap", tests_groupcap.run),
            ("plans", tests_plans.run),
            ("conns", tests_conns.run),
            ("batches", tests_batches.run),
        ]
        if tests_audit_scripts is not None:
            groups.insert(4, ("audit_scripts", tests_audit_scripts.run))
        elif not only or "audit_scripts" in only:
            print("# group audit_scripts: skipped (tests_audit_scripts.py is missing)")
        try:
            env = Env(args.build)
            env.setup()
        except Exception as e:  # noqa: BLE001
            tap.result(False, "set-up: cluster, certificates, migrate, principals",
                       e if isinstance(e, Failure) else traceback.format_exc())
            groups = []
        else:
            tap.result(True, "set-up: cluster, certificates, migrate, principals")

        for name, fn in groups:
            if (only and name not in only) or name in skip:
                continue
            tap.prefix = f"{name}: "
            t0 = time.monotonic()
            n_before = contract.checked()
            try:
                fn(env, tap)
            except Exception:  # noqa: BLE001 - a group that breaks is one failure
                tap.result(False, "group aborted", traceback.format_exc())
            finally:
                for d in env.daemons:
                    d.kill()
                env.daemons.clear()
            n_checked = contract.checked()
            bad = contract.take_failures()
            tap.result(not bad, "every answer matches proto/openapi.yaml "
                       "(operation, status, media type, schema)",
                       "\n".join([f"{len(bad)} answer(s) do not match the document:"] + bad)
                       if bad else "")
            print(f"# group {name}: {time.monotonic() - t0:.1f}s; "
                  f"{n_checked - n_before} answers checked against openapi.yaml", flush=True)

        tap.prefix = "logs: "

        @tap.case("no test SSIN appears in clear in the daemon logs")
        def _():
            harness.expect(env is not None, "no environment")
            found = []
            for fname, text in env.logs():
                for s in set(harness.USED_SSINS):
                    if s in text:
                        found.append(f"{fname}: {s}")
            harness.expect(not found, "SSINs in logs: " + ", ".join(found[:20]))

        @tap.case("no test SSIN appears in PostgreSQL's server log (after every group's refusals)")
        def _():
            harness.expect(env is not None, "no environment")
            text = (env.pgdata / "server.log").read_text(errors="replace")
            found = sorted(s for s in set(harness.USED_SSINS) if s in text)
            harness.expect(not found, "SSINs in the server log: " + ", ".join(found[:20]))
    finally:
        cleanup()

    print(f"1..{tap.n}")
    print(f"# integration: {tap.n - tap.failed} passed, {tap.failed} failed "
          f"in {time.monotonic() - t_start:.0f}s")
    return 1 if tap.failed else 0


if __name__ == "__main__":
    os.environ.setdefault("LC_ALL", "C.UTF-8")
    sys.exit(main())
