"""The wire contract checked on every answer: each response the integration suite
receives (harness.Daemon.request, and hand-made HTTP the tests parse with check_raw)
is validated against proto/openapi.yaml.

The operation is found by method + path template (a literal path before a template;
HEAD as GET), the response by status (then "4XX"-style ranges, then "default"), the
schema by media type: application/json and application/problem+json (the whole
body), application/x-ndjson (every line), text/csv (the header line against the
example's, when the document gives one). A status or a media type the document does
not list for that operation is a failure, and so is the first schema error.

Failures are collected, not raised, so that one run lists all of them: run.py ends
each group with a case that fails when that group received an answer that does not
match (take_failures()). The document is OpenAPI 3.1 (JSON Schema 2020-12 schemas);
a 3.0 document is also read (nullable: true becomes a type that allows null).

Needs python3-jsonschema and python3-yaml (scripts/lib.sh installs them): without
them every check is a failure, never a silent pass.
"""

import json
import re
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC_PATH = ROOT / "proto" / "openapi.yaml"

_lock = threading.Lock()
_failures = []  # (operation, status, message)
_seen = set()
_count = [0]
_state = {}
_deferred = []  # raw answers read by read_http, checked at the group's end
_validators = {}  # id(schema) -> (validator, schema): the schema kept alive with its id


def _nullable30(node):
    """OpenAPI 3.0's nullable: true as JSON Schema (a type that also allows null)."""
    if isinstance(node, dict):
        node = {k: _nullable30(v) for k, v in node.items()}
        if node.pop("nullable", False):
            t = node.get("type")
            if isinstance(t, str):
                node["type"] = [t, "null"]
            elif isinstance(t, list) and "null" not in t:
                node["type"] = t + ["null"]
            elif "enum" in node and None not in node["enum"]:
                node["enum"] = node["enum"] + [None]
        return node
    if isinstance(node, list):
        return [_nullable30(v) for v in node]
    return node


def _load():
    """(doc, validator class, [(method, regex, template, literal-count)]) or raises."""
    if "doc" in _state:
        return _state["doc"]
    import jsonschema  # noqa: F401 - python3-jsonschema
    import yaml  # python3-yaml

    doc = yaml.safe_load(DOC_PATH.read_text())
    version = str(doc.get("openapi", ""))
    if version.startswith("3.0"):
        doc = _nullable30(doc)
        cls = jsonschema.Draft4Validator
    else:
        cls = jsonschema.Draft202012Validator
    routes = []
    for template, item in (doc.get("paths") or {}).items():
        rx = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        literal = len(re.sub(r"\{[^/]+?\}", "", template))
        routes.append((re.compile(rx), template, literal, item))
    # the most literal template first: /v1/audit/verify before /v1/audit/{x}
    routes.sort(key=lambda r: -r[2])
    _state["doc"] = (doc, cls, routes)
    return _state["doc"]


def _resolve(doc, node):
    while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/"):
        target = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _first_error(doc, cls, schema, value):
    # the schema is validated inside a root that carries the document's components, so
    # that its "#/components/..." references resolve (no resolver API needed)
    v = _validators.get(id(schema))
    if v is None:
        root = {"components": doc.get("components", {}), "allOf": [schema]}
        v = _validators[id(schema)] = (cls(root), schema)
    errors = sorted(v[0].iter_errors(value), key=lambda e: len(list(e.absolute_path)))
    if not errors:
        return None
    best = errors[0]
    # the deepest reason of a oneOf/anyOf failure says the most
    while best.context:
        best = sorted(best.context, key=lambda e: -len(list(e.absolute_path)))[0]
    where = "/".join(str(p) for p in best.absolute_path) or "(body)"
    rule = "/".join(str(p) for p in best.schema_path)
    msg = best.message if len(best.message) <= 300 else best.message[:300] + "..."
    return f"at {where}: {msg} (schema rule {rule})"


def _fail(op, status, message):
    key = (op, status, message)
    with _lock:
        if key in _seen:
            return
        _seen.add(key)
        _failures.append(key)


def check(method, target, status, headers, body):
    """Validate one answer (headers: lower-case names). Records a failure, returns it;
    never raises into the test that made the request."""
    try:
        return _check(method, target, status, headers, body)
    except Exception as e:  # noqa: BLE001 - a broken check is a failure of the check
        msg = f"the contract check broke: {type(e).__name__}: {e}"
        _fail(f"{method} {target}", status, msg)
        return msg


def _check(method, target, status, headers, body):
    if not status:
        return None  # no answer (a timeout or a refused connection): nothing to check
    with _lock:
        _count[0] += 1
    method = method.upper()
    path = target.split("?", 1)[0].split("#", 1)[0]
    try:
        doc, cls, routes = _load()
    except Exception as e:  # noqa: BLE001 - a missing validator is a failure, not a pass
        msg = f"cannot validate against {DOC_PATH.name}: {type(e).__name__}: {e}"
        _fail("(contract)", status, msg)
        return msg
    op_name = f"{method} {path}"
    item = template = None
    for rx, tmpl, _lit, it in routes:
        if rx.match(path):
            item, template = it, tmpl
            break
    op = None
    if item is not None:
        op = item.get(method.lower()) or (item.get("get") if method == "HEAD" else None)
        op_name = f"{method} {template}" + (f" ({op['operationId']})" if op and op.get(
            "operationId") else "")
    if op is None:
        # not an operation of the document: only the router's and the framing's own
        # refusals may answer it (404 unknown path, 405 unknown method on a known path,
        # 400/408/413/431 before the request was routed), as a Problem
        allowed = {400, 403, 404, 405, 408, 411, 413, 415, 429, 431, 503}
        if status not in allowed:
            msg = f"status {status} for a request that is no operation of the document"
            _fail(op_name, status, msg)
            return msg
        if status == 405 and not headers.get("allow"):
            msg = "405 without Allow"
            _fail(op_name, status, msg)
            return msg
        if path == "/fhir" or path.startswith("/fhir/"):
            # under /fhir every refusal is an OperationOutcome (docs/fhir.md)
            return _check_body(doc, cls, op_name, status, headers, body, method,
                               {"content": {"application/fhir+json": {
                                   "schema": {"$ref": "#/components/schemas/FhirOperationOutcome"}}}})
        return _check_body(doc, cls, op_name, status, headers, body, method,
                           {"content": {"application/problem+json": {
                               "schema": {"$ref": "#/components/schemas/Problem"}}}})
    responses = op.get("responses") or {}
    resp = (responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
            or responses.get("default"))
    if resp is None:
        msg = (f"status {status} is not documented (documented: "
               f"{', '.join(sorted(responses))})")
        _fail(op_name, status, msg)
        return msg
    return _check_body(doc, cls, op_name, status, headers, body, method, _resolve(doc, resp))


def _check_body(doc, cls, op_name, status, headers, body, method, resp):
    content = resp.get("content") or {}
    ctype = (headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if method == "HEAD" or status in (204, 304) or (not body and not ctype):
        if body and method != "HEAD":
            msg = f"a body ({len(body)} bytes) on a {status}"
            _fail(op_name, status, msg)
            return msg
        if not body and not ctype and content and method != "HEAD" and status not in (204, 304):
            msg = f"no body, the document gives one ({', '.join(content)})"
            _fail(op_name, status, msg)
            return msg
        return None
    media = content.get(ctype)
    if media is None:
        msg = (f"media type {ctype or '(none)'} is not documented for this status "
               f"(documented: {', '.join(content) or 'no body'})")
        _fail(op_name, status, msg)
        return msg
    media = _resolve(doc, media)
    schema = media.get("schema")
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    err = None
    if ctype in ("application/json", "application/problem+json") or ctype.endswith("+json"):
        try:
            value = json.loads(text)
        except ValueError as e:
            err = f"not JSON: {e}"
        else:
            if schema is not None:
                err = _first_error(doc, cls, schema, value)
    elif ctype == "application/x-ndjson":
        for n, line in enumerate(text.split("\n"), 1):
            if not line:
                continue
            try:
                value = json.loads(line)
            except ValueError as e:
                err = f"line {n} is not JSON: {e}"
                break
            if schema is not None:
                e = _first_error(doc, cls, schema, value)
                if e:
                    err = f"line {n} {e}"
                    break
    elif ctype == "text/csv":
        example = media.get("example")
        if example is None and isinstance(schema, dict):
            example = _resolve(doc, schema).get("example")
        if isinstance(example, str) and example.strip():
            want = example.split("\n", 1)[0].strip()
            got = text.split("\n", 1)[0].strip()
            if want != got:
                err = f"CSV header {got!r}, documented {want!r}"
    if err:
        _fail(op_name, status, err)
    return err


_REQUEST_LINE = re.compile(rb"(?:^|\r\n\r\n|\n)(GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS) (\S+) HTTP/1\.[01]\r?\n")


class RecordingSocket:
    """Mixin for an ssl.SSLSocket (harness.Daemon.tls_socket): remembers the method and
    target of every request line written on it, so that read_http can check the answers
    it reads in order (pipelined ones included)."""

    def _contract_note(self, data):
        try:
            raw = bytes(data)
        except TypeError:
            return
        q = self.__dict__.setdefault("contract_requests", [])
        for m in _REQUEST_LINE.finditer(raw):
            target = m.group(2).decode("latin-1")
            target = re.sub(r"^https?://[^/]*", "", target) or "/"
            q.append((m.group(1).decode(), target))

    # (SSLSocket.sendall writes through send: noting it there once is enough)
    def send(self, data, *a, **kw):
        self._contract_note(data)
        return super().send(data, *a, **kw)

    def write(self, data):
        self._contract_note(data)
        return super().write(data)


def check_stream(sock, data):
    """Check the answers in data (bytes read from sock, a RecordingSocket) against the
    requests written since the last check. Only when they pair up one to one (as many
    complete answers as requests): a test that read some answers by itself, or a
    request line split over writes, leaves nothing to pair, and nothing is guessed."""
    q = getattr(sock, "__dict__", {}).get("contract_requests")
    if not q:
        return
    answers, rest = [], data
    while rest.startswith(b"HTTP/"):
        if re.match(rb"HTTP/1\.[01] 1[0-9][0-9] ", rest):  # 100 Continue: not the answer
            i = rest.find(b"\r\n\r\n")
            if i < 0:
                break
            rest = rest[i + 4:]
            continue
        end = _complete(rest)
        if end is None:
            break
        answers.append(rest[:end])
        rest = rest[end:]
    pending = list(q)
    q.clear()
    if len(answers) != len(pending):
        return
    # checked later (checked(), take_failures()): no time taken from the exchange, which
    # may be timing-sensitive (idle connections, SIGTERM under load)
    with _lock:
        _deferred.extend((method, target, raw) for (method, target), raw in zip(pending, answers))


def _flush():
    with _lock:
        pending = list(_deferred)
        _deferred.clear()
    for method, target, raw in pending:
        check_raw(method, target, raw)


def _complete(data):
    """The length of the first answer in data when it is complete (sized, or chunked
    and ended); None otherwise (also for a close-delimited body)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return None
    start = len(head) + 4
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return None
    if status == 304 or status == 204 or 100 <= status < 200:
        return start
    if "content-length" in headers:
        try:
            n = int(headers["content-length"])
        except ValueError:
            return None
        return start + n if len(body) >= n else None
    if "chunked" in headers.get("transfer-encoding", "").lower():
        pos = 0
        while True:
            i = body.find(b"\r\n", pos)
            if i < 0:
                return None
            try:
                n = int(body[pos:i].split(b";")[0] or b"x", 16)
            except ValueError:
                return None
            if n == 0:
                j = body.find(b"\r\n", i + 2)
                return start + j + 2 if j >= 0 else None
            pos = i + 2 + n + 2
            if pos > len(body):
                return None
    return None


def check_raw(method, target, data):
    """Check a hand-made exchange's raw answer (the bytes read from the socket): the
    first response in data, when it is complete."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep or not head.startswith(b"HTTP/"):
        return None
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return None
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        n = int(headers["content-length"] or 0)
        if len(body) < n:
            return None
        body = body[:n]
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        out, rest = b"", body
        while True:
            size, sep, rest = rest.partition(b"\r\n")
            if not sep:
                return None
            n = int(size.split(b";")[0] or b"0", 16)
            if n == 0:
                break
            out, rest = out + rest[:n], rest[n + 2:]
        body = out
    return check(method, target, status, headers, body)


def checked():
    _flush()
    return _count[0]


def take_failures():
    """The failures recorded since the last call, as text lines (and forget them)."""
    _flush()
    with _lock:
        out = [f"{op}: status {status}: {msg}" for op, status, msg in _failures]
        _failures.clear()
    return out


class deliberate:
    """with contract.deliberate() as got: checks a test makes on purpose (answers made
    up to see the check refuse them); their failures end up in got, not in the group's
    list, and the failures recorded before are kept."""

    def __enter__(self):
        with _lock:
            self._before = list(_failures)
            _failures.clear()
        self.got = []
        return self.got

    def __exit__(self, *exc):
        with _lock:
            self.got.extend(f"{op}: status {status}: {msg}" for op, status, msg in _failures)
            _seen.difference_update(_failures)  # a real answer like them still counts
            _failures[:] = self._before
        return False
