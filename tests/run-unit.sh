#!/usr/bin/env bash
# tests/run-unit.sh BUILDDIR: run every unit and fuzz-replay test meson registered in
# BUILDDIR (suites `unit` and `fuzz`; not `integration`, `docs`, ...) directly and
# print one TAP stream of real test cases (the binaries print TAP themselves).
#   - each `ok` / `not ok` line of a binary is passed through, prefixed with its name;
#   - a binary that exits non-zero without any `not ok` line counts as one failure;
#   - a binary that exits 0 without any TAP line counts as one passing test.
# Ends with `1..N`; exits 1 when anything failed. A quick way to run the unit tests;
# scripts/test runs them through `meson test` instead.
set -euo pipefail
[ $# -eq 1 ] || {
	echo "usage: $0 BUILDDIR" >&2
	exit 1
}
exec /usr/bin/python3 - "$1" <<'PY'
import json, os, re, subprocess, sys, time

build = os.path.abspath(sys.argv[1])
tests = json.loads(subprocess.run(["meson", "introspect", build, "--tests"],
                                  check=True, capture_output=True, text=True).stdout)
tests = [t for t in tests if any(s.split(":")[-1] in ("unit", "fuzz") for s in t.get("suite") or [])]
n = 0
failed = 0
OK = re.compile(r"^(not )?ok\b\s*\d*\s*-?\s*(.*)$")

def emit(good, name, diag=""):
    global n, failed
    n += 1
    if not good:
        failed += 1
    print(f"{'ok' if good else 'not ok'} {n} - {name}")
    for line in diag.splitlines()[-40:]:
        print(f"#   {line}")
    sys.stdout.flush()

for t in tests:
    name = t["name"]
    env = dict(os.environ)
    env.update(t.get("env") or {})
    timeout = t.get("timeout") or 60
    if timeout <= 0:
        timeout = 600
    t0 = time.monotonic()
    try:
        p = subprocess.run(t["cmd"], cwd=t.get("workdir") or build, env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           errors="replace", timeout=timeout)
        out, err, rc = p.stdout, p.stderr, p.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err, rc = f"timed out after {timeout}s", -1
    except OSError as e:
        out, err, rc = "", str(e), -1
    dt = time.monotonic() - t0
    seen = 0
    bad = 0
    after_fail = 0
    for line in out.splitlines():
        m = OK.match(line)
        if not m:
            if after_fail and line.lstrip().startswith("#"):
                after_fail -= 1
                print(f"#   {line.lstrip()[1:].strip()}")
            continue
        after_fail = 0
        seen += 1
        good = m.group(1) is None
        desc = m.group(2)
        if "# SKIP" in desc.upper() and good:
            print(f"# skipped: {name}: {desc}")
            seen -= 1
            continue
        if not good:
            bad += 1
            after_fail = 20
        emit(good, f"{name}: {desc}")
    if rc != 0 and bad == 0:
        emit(False, f"{name}: exited with status {rc} without a failing test case", out[-2000:] + "\n" + err)
    elif bad and err.strip():
        print(f"# {name}: standard error (last lines):")
        for line in err.splitlines()[-20:]:
            print(f"#   {line}")
    elif seen == 0 and rc == 0:
        emit(True, f"{name} (exit status 0, no TAP)")
    print(f"# {name}: {dt:.1f}s")

print(f"1..{n}")
print(f"# unit tests in {build}: {n - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
