#!/usr/bin/python3
"""Summary of a CPU profile of scripts/bench (BENCH_PROFILE=1).

    perf report -i perf.data --stdio --no-children -g none --sort comm,dso,sym > report.txt
    python3 tests/bench/perfsummary.py report.txt

Prints the share of the samples in medaidd, PostgreSQL, medaid-loadgen, pgbench, idle
and the rest of the machine (each split in user and kernel time, and as a share of
the benchmark's own processes), inside medaidd the share
of TLS (libssl, libcrypto), JSON (cJSON), libpq, libevent, the C library, the kernel and
the daemon's own code, and the top functions.
"""

import re
import sys
from collections import defaultdict

LINE = re.compile(r"^\s*([0-9.]+)%\s+(.+?)\s+(\S+)\s+\[(.)\]\s+(.*?)\s*$")

PROCESSES = [("medaidd", "medaidd"), ("postgres", "PostgreSQL"),
             ("medaid-loadgen", "medaid-loadgen"), ("pgbench", "pgbench"),
             ("swapper", "idle (swapper)")]

# the processes of the benchmark itself (the "of the bench" column: on a shared machine
# the rest is someone else's)
BENCH = ("medaidd", "PostgreSQL", "medaid-loadgen", "pgbench")

# inside medaidd, by shared object
LIBS = [("TLS (libssl, libcrypto)", re.compile(r"^(libssl|libcrypto)\.")),
        ("JSON (cJSON)", re.compile(r"^libcjson")),
        ("libpq", re.compile(r"^libpq\.")),
        ("libevent", re.compile(r"^libevent")),
        ("C library (libc, libm, ld.so)", re.compile(r"^(libc|libm|ld-linux|libpthread)[.-]")),
        ("daemon's own code", re.compile(r"^medaidd$"))]


def parse(lines):
    rows = []
    for line in lines:
        if line.startswith("#") or not line.strip():
            continue
        m = LINE.match(line)
        if m:
            pct, comm, dso, level, sym = m.groups()
            rows.append((float(pct), comm.strip(), dso, level, sym))
    return rows


def process_of(comm):
    for prefix, label in PROCESSES:
        if comm.startswith(prefix):
            return label
    return "other"


def kernel(dso, level):
    return level == "k" or dso.startswith("[kernel")


def summary(rows, top=15):
    out = []
    total = sum(r[0] for r in rows) or 1.0
    by = defaultdict(lambda: [0.0, 0.0])
    for pct, comm, dso, level, _ in rows:
        by[process_of(comm)][1 if kernel(dso, level) else 0] += pct
    bench = sum(sum(by.get(label, (0.0, 0.0))) for label in BENCH) or 1.0
    out.append(f"{'process':<28}{'CPU %':>8}{'user %':>9}{'kernel %':>10}"
               f"{'of the bench %':>16}")
    for label in [p[1] for p in PROCESSES] + ["other"]:
        u, k = by.get(label, (0.0, 0.0))
        share = f"{100 * (u + k) / bench:>16.1f}" if label in BENCH else ""
        out.append(f"{label:<28}{100 * (u + k) / total:>8.1f}{100 * u / total:>9.1f}"
                   f"{100 * k / total:>10.1f}{share}")
    kern = sum(v[1] for v in by.values())
    out.append(f"{'kernel (all processes)':<28}{100 * kern / total:>8.1f}")

    mine = [r for r in rows if process_of(r[1]) == "medaidd"]
    m_total = sum(r[0] for r in mine)
    out.append("")
    out.append(f"inside medaidd ({100 * m_total / total:.1f} % of the samples)")
    if m_total > 0:
        parts = defaultdict(float)
        for pct, _, dso, level, _ in mine:
            if kernel(dso, level):
                parts["kernel (system calls, network)"] += pct
                continue
            for label, rx in LIBS:
                if rx.search(dso):
                    parts[label] += pct
                    break
            else:
                parts["other (" + dso + ")" if dso != "[unknown]" else "unknown"] += pct
        for label, pct in sorted(parts.items(), key=lambda kv: -kv[1]):
            out.append(f"  {label:<40}{100 * pct / m_total:>6.1f} %")

    out.append("")
    out.append(f"top {top} functions of the bench's processes (% of all samples)")
    ours = [r for r in rows if process_of(r[1]) in BENCH]
    for pct, comm, dso, level, sym in sorted(ours, key=lambda r: -r[0])[:top]:
        out.append(f"  {100 * pct / total:>5.1f} %  {comm[:15]:<15} {dso[:24]:<24} {sym[:60]}")
    return "\n".join(out)


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(argv[1], errors="replace") as f:
        rows = parse(f)
    if not rows:
        print(f"perfsummary: no samples in {argv[1]}", file=sys.stderr)
        return 1
    print(summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
