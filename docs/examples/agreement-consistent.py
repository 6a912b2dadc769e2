#!/usr/bin/env python3
"""agreement-consistent.py NUMBER

Was agreement NUMBER consistent with the data of its day? Reads the answer the
registry gave (GET /v1/agreements/NUMBER), finds the question it answered
(GET /v1/audit/consultations), asks the registry what it would have answered to
that question with only the data known when it answered (GET
/v1/audit/coverage-as-of, with the provider, at the consultation's known_at:
the moment the registry read the data for that answer), and compares the two:
covered, the reason code, the decision (id, version, OCMW, period) and the
cover (care type, period, conditions).

Prints "consistent", or "inconsistent" followed by one line per difference,
tab-separated: member, what the agreement said, what the data said (JSON).
Exit status: 0 consistent, 1 inconsistent, 2 error (usage, connection, refused,
unexpected answer).

Environment: MEDAID_URL (default https://localhost:8443), MEDAID_CERT,
MEDAID_KEY, MEDAID_CA (an auditor's certificate, as for medaid).
Python 3 standard library only (ssl, http.client).
"""

import http.client
import json
import os
import re
import ssl
import sys
import urllib.parse

PROG = os.path.basename(sys.argv[0])


class Error(Exception):
    pass


class Registry:
    def __init__(self):
        url = urllib.parse.urlsplit(os.environ.get("MEDAID_URL") or "https://localhost:8443")
        if url.scheme != "https" or not url.hostname:
            raise Error(f"MEDAID_URL must be an https:// URL: {url.geturl()}")
        self.host, self.port = url.hostname, url.port or 443
        self.prefix = url.path.rstrip("/")
        ctx = ssl.create_default_context(cafile=os.environ.get("MEDAID_CA") or None)
        cert = os.environ.get("MEDAID_CERT") or None
        if cert:
            try:
                ctx.load_cert_chain(cert, os.environ.get("MEDAID_KEY") or None)
            except (OSError, ssl.SSLError) as e:
                raise Error(f"cannot load the client certificate {cert}: {e}") from None
        self.ctx = ctx
        self.conn = None

    def get(self, path, query=None, accept="application/json"):
        """GET one JSON answer: (status, headers, body as JSON)."""
        if query:
            path += "?" + urllib.parse.urlencode(query)
        for attempt in (1, 2):  # once more on a kept-alive connection the server closed
            if self.conn is None:
                self.conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx,
                                                        timeout=30)
            try:
                self.conn.request("GET", self.prefix + path, headers={"Accept": accept})
                r = self.conn.getresponse()
                body = r.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        try:
            data = json.loads(body) if body else None
        except ValueError:
            raise Error(f"GET {path}: HTTP {r.status}, not JSON") from None
        return r.status, r, data

    def get_ok(self, path, query=None):
        status, r, data = self.get(path, query)
        if status != 200:
            detail = data.get("detail") if isinstance(data, dict) else None
            raise Error(f"GET {path}: HTTP {status} {detail or ''}".rstrip())
        return r, data


def find_consultation(reg, number):
    """The consultation (audit item) of agreement `number`.

    The consultations list is in agreement-number order and its cursor is the
    number of the last item of a page, so asking for one item after the number
    just below this one gives exactly this agreement: one short request. If the
    server does not take that cursor, stream the whole list and pick it."""
    m = re.fullmatch(r"(A[0-9]{4}-)([0-9]{8})", number)
    below = f"{m.group(1)}{int(m.group(2)) - 1:08d}"
    status, _, page = reg.get("/v1/audit/consultations", {"cursor": below, "limit": "1"})
    if status == 200 and isinstance(page, dict):
        for item in page.get("items") or []:
            if item.get("agreement") == number:
                return item
    # fall back: the whole list, one JSON object per line
    path = reg.prefix + "/v1/audit/consultations"
    conn = http.client.HTTPSConnection(reg.host, reg.port, context=reg.ctx, timeout=300)
    conn.request("GET", path, headers={"Accept": "application/x-ndjson"})
    r = conn.getresponse()
    if r.status != 200:
        raise Error(f"GET {path}: HTTP {r.status}")
    found = None
    for line in r:
        if not line.strip():
            continue
        item = json.loads(line)
        if "error" in item:
            raise Error(f"the list of consultations is incomplete: {item['error']}")
        if item.get("agreement") == number:
            found = item  # read on to the end: a cut-off list is an error
    conn.close()
    if found is None:
        raise Error(f"agreement {number} is not in the consultations")
    return found


def essentials(answer):
    """What the comparison looks at, flattened: member -> value."""
    out = {"covered": answer.get("covered")}
    if not answer.get("covered"):
        out["reason"] = (answer.get("reason") or {}).get("code")
    dec = answer.get("decision") or {}
    for k in ("id", "version", "ocmw", "period"):
        out[f"decision.{k}"] = dec.get(k)
    cover = answer.get("cover") or {}
    for k in ("care_type", "period", "prescription_required", "convention",
              "urgent_attestation_required"):
        out[f"cover.{k}"] = cover.get(k)
    return out


def as_of(reg, item, known_at):
    query = {"ssin": item["ssin"], "service_date": item["service_date"],
             "care_type": item["care_type"], "known_at": known_at, "provider": item["provider"]}
    return reg.get_ok("/v1/audit/coverage-as-of", query)[1]


def differences(a, b):
    return [(k, a.get(k), b.get(k)) for k in a.keys() | b.keys() if a.get(k) != b.get(k)]


def main(argv):
    if len(argv) != 2 or not re.fullmatch(r"A[0-9]{4}-[0-9]{8}", argv[1]):
        raise Error(f"usage: {PROG} AGREEMENT-NUMBER (A2026-00000042)")
    number = argv[1]
    reg = Registry()

    # 1. the answer as it was given
    r, answer = reg.get_ok(f"/v1/agreements/{number}")
    if not isinstance(answer, dict) or answer.get("agreement") != number:
        raise Error(f"unexpected answer for {number}")
    voided = r.getheader("Agreement-Voided-At")

    # 2. the question it answered, and when
    item = find_consultation(reg, number)

    # 3. what the data known then gives: known_at is the moment the registry
    # read the data for this answer, to the microsecond, so the data as of
    # known_at is exactly what it saw. It is null when the answer needed no
    # data (invalid_ssin, a service date in the future or too old): then any
    # moment of that day gives the same answer, and issued_at is used.
    known_at = item.get("known_at") or item.get("issued_at")
    if not isinstance(known_at, str):
        raise Error(f"the consultation of {number} has neither known_at nor issued_at")
    diffs = differences(essentials(answer), essentials(as_of(reg, item, known_at)))
    if voided:
        print(f"{PROG}: note: the provider voided this agreement at {voided}", file=sys.stderr)
    if not diffs:
        print("consistent")
        return 0
    print("inconsistent")
    for k, was, data in sorted(diffs):
        print(f"{k}\t{json.dumps(was, sort_keys=True)}\t{json.dumps(data, sort_keys=True)}")
    return 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Error as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        sys.exit(2)
    except (OSError, ssl.SSLError, http.client.HTTPException, ValueError) as e:
        print(f"{PROG}: {e.__class__.__name__}: {e}", file=sys.stderr)
        sys.exit(2)
