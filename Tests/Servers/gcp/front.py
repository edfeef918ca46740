"""The validating front of the GCP test servers: the one base URL a client is pointed at (override only the
root URL: http://127.0.0.1:PORT/ serves /compute/v1/…, /storage/v1/…, /upload/storage/v1/…, /dns/v1/…,
/v3/projects/… (monitoring)). Every request is

  1. found in Google's own discovery documents (compute v1, storage v1, dns v1, monitoring v3, shipped in the
     google-api-python-client wheel) by HTTP method + path template, and checked against them — parameters and
     the body against the method's request schema (see discovery.py). A request they reject is answered 400 and
     recorded (GET /_front/violations);
  2. counted per discovery method id (GET /_front/stats), for benchmarks;
  3. optionally checked for a bearer token that the token endpoint issued (401 otherwise);
  4. optionally failed on purpose (fault injection, POST /_front/faults);
  5. routed to the server that answers it: gcplocal, gcp-storage-emulator, or the stand-in (gcpstandin.py),
     with the small adaptations README.md lists where a real server differs from Google (all marked ADAPT).

Control API (never validated, never needs a token): see README.md or GET /_front/help."""

import argparse
import copy
import hashlib
import http.client
import json
import re
import sys
import threading
import time
import uuid
from urllib.parse import quote, urlsplit

from discovery import Discovery
from gcpcommon import APIError, Response, error_body, serve, serve_forever

COMPUTE = "https://www.googleapis.com/compute/v1/"
STORAGE = "https://www.googleapis.com/storage/v1/"

# Which server answers which discovery method (first match wins). The reasons are in README.md.
ROUTES = [
    (r"compute\.firewalls\.(insert|get|list|delete|patch)", "gcplocal"),
    (r"compute\.globalOperations\.(get|wait)", "operations"),  # gcplocal's or the stand-in's, by name
    (r"compute\..*", "standin"),
    (r"storage\.buckets\.(insert|get|list|delete|patch|getIamPolicy|setIamPolicy|testIamPermissions)", "gcs"),
    (r"storage\.objects\.(insert|get|list|delete|patch|copy|rewrite|compose)", "gcs"),
    (r"dns\..*", "standin"),
    (r"monitoring\.projects\.(alertPolicies|notificationChannels)\..*", "standin"),
]

FAULT_DEFAULTS = {"rateLimitExceeded": 429, "userRateLimitExceeded": 429, "quotaExceeded": 403,
                  "backendError": 503, "internalError": 500, "resourceNotReady": 400}
FAULT_STATUS = {"resourceNotReady": "FAILED_PRECONDITION"}
BUCKET_WRITABLE = ("acl", "defaultObjectAcl", "cors", "lifecycle", "location", "storageClass", "versioning", "labels",
                   "website", "billing", "iamConfiguration", "encryption", "logging", "retentionPolicy",
                   "softDeletePolicy")
MULTI_REGIONS = {"US", "EU", "ASIA"}
DUAL_REGIONS = {"NAM4", "EUR4", "ASIA1", "EUR5", "EUR7", "EUR8"}


class Backend:
    def __init__(self, name, base):
        self.name, self.base = name, base.rstrip("/")
        u = urlsplit(self.base)
        self.host, self.port = u.hostname, u.port
        self.local = threading.local()

    def call(self, method, path, body=b"", headers=None):
        """→ (status, [(header, value)], body bytes)"""
        hdrs = {"Content-Length": str(len(body or b""))}
        hdrs.update(headers or {})
        for attempt in (0, 1):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=150)
            try:
                conn.request(method, path, body=body or None, headers=hdrs)
                r = conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    self.local.conn = None
                return r.status, r.getheaders(), data
            except (http.client.HTTPException, OSError):
                conn.close()
                self.local.conn = None
                if attempt:
                    raise APIError(503, "backendError", f"front: the {self.name} server at {self.base} does not answer")

    def json(self, method, path, body=None):
        raw = json.dumps(body).encode() if body is not None else b""
        status, headers, data = self.call(method, path, raw, {"Content-Type": "application/json"} if raw else {})
        try:
            return status, json.loads(data) if data.strip() else None
        except ValueError:
            return status, None


class Call:
    """One client request as the front saw it."""

    def __init__(self, req, meth, values, template):
        self.req, self.meth, self.values, self.template = req, meth, values, template
        self.id = meth.id if meth else None

    def forward_headers(self):
        keep = {}
        for k in ("Content-Type", "Accept", "Range", "X-Upload-Content-Type", "X-Upload-Content-Length",
                  "Content-Range", "If-Match", "If-None-Match", "X-Goog-Api-Client", "User-Agent"):
            v = self.req.headers.get(k)
            if v is not None:
                keep[k] = v
        for k, v in self.req.headers.items():
            if k.lower().startswith("x-goog-") and k.lower() != "x-goog-user-project":
                keep[k] = v
        if self.id:
            keep["X-Front-Method-Id"] = self.id
        return keep

    def target(self):
        q = self.req.raw_query
        return self.req.path + ("?" + q if q else "")


class Front:
    def __init__(self, args):
        self.args = args
        self.disc = Discovery(args.documents or None)
        self.backends = {"gcplocal": Backend("gcplocal", args.gcplocal), "gcs": Backend("gcp-storage-emulator", args.gcs),
                         "standin": Backend("stand-in", args.standin)}
        self.token = Backend("token endpoint", args.token) if args.token else None
        self.lock = threading.RLock()
        self.require_token = args.require_token
        self.reject_invalid = True
        self.create_lock = threading.Lock()
        self.reset()

    def reset(self, servers=False):
        with self.lock:
            self.violations = []
            self.counts, self.by_backend, self.total = {}, {}, 0
            self.faults = []
            if servers:
                self.gl_ops = set()          # operation names gcplocal answered
                self.request_ids = {}        # (project, requestId) → Response, for methods routed to gcplocal
                self.tokens = {}
            if not hasattr(self, "gl_ops"):
                self.gl_ops, self.request_ids, self.tokens = set(), {}, {}

    # ── entry ──
    def handle(self, req):
        if req.path.startswith("/_front/"):
            return self.control(req)
        if req.path.startswith("/_standin/"):
            return self.relay(self.backends["standin"], Call(req, None, {}, None), rewrite=False)
        call = self.find(req)
        if call is None:
            return self.reject(req, None, "route", [f"no method of {', '.join(self.disc.docs)} matches "
                                                    f"{req.method} {req.path}"], 404, "notFound")
        with self.lock:
            self.total += 1
            self.counts[call.id] = self.counts.get(call.id, 0) + 1
        if call.meth is not None and not call.values.get("_continuation"):
            problems = self.disc.check(call.meth, call.values, req.query_all, req.raw_body, req.headers.get("Content-Type"))
            if problems:
                resp = self.reject(req, call.id, "discovery", problems, 400, "invalid")
                if self.reject_invalid:
                    return resp
        if self.require_token:
            bad = self.check_token(req)
            if bad:
                return self.reject(req, call.id, "auth", [bad], 401, "authError" if "invalid" in bad.lower() else "required")
        fault = self.take_fault(req, call.id)
        if fault:
            return fault
        backend = next((b for rx, b in ROUTES if re.fullmatch(rx, call.id)), None)
        if backend is None:
            return self.reject(req, call.id, "unimplemented",
                               [f"{call.id} is in the discovery document, but no local server implements it "
                                "(see Tests/Servers/gcp/README.md)"], 501, "notImplemented")
        with self.lock:
            self.by_backend[backend] = self.by_backend.get(backend, 0) + 1
        adapter = ADAPTERS.get(call.id)
        if adapter:
            resp = adapter(self, call)
        elif backend == "gcs":
            resp = self.gcs_forward(call)
        else:
            resp = self.relay(self.backends[backend], call)
        if backend == "standin" and resp.code == 501:
            self.record(req, call.id, "unimplemented", [json.loads(resp.payload() or b"{}").get("error", {}).get("message", "")])
        return resp

    def find(self, req):
        if req.path.startswith(("/upload/storage/v1/", "/resumable/upload/storage/v1/")) and "upload_id" in req.query:
            # the continuation of a resumable upload: bytes only, no discovery method of its own
            call = Call(req, self.disc.methods["storage.objects.insert"], {"_continuation": True}, None)
            return call
        m = self.disc.match(req.method, req.path)
        return Call(req, *m) if m else None

    # ── violations, stats, control ──
    def record(self, req, method_id, kind, problems):
        with self.lock:
            if len(self.violations) >= 10000:
                del self.violations[:1000]
            self.violations.append({"time": time.time(), "kind": kind, "method": req.method, "path": req.path,
                                    "methodId": method_id, "problems": problems})
        sys.stderr.write(f"VIOLATION {kind} {req.method} {req.path} {method_id}: {'; '.join(problems)}\n")

    def reject(self, req, method_id, kind, problems, code, reason):
        self.record(req, method_id, kind, problems)
        what = {"discovery": f"front: {method_id} rejected by Google's discovery document: ",
                "route": "front: ", "auth": "front: ", "unimplemented": "front: "}[kind]
        return Response(code, error_body(code, reason, what + "; ".join(problems)))

    def control(self, req):
        what = req.path[len("/_front/"):]
        if what == "health":
            return Response(200, {"ok": True, "apis": list(self.disc.docs)})
        if what == "violations":
            with self.lock:
                return Response(200, {"violations": list(self.violations)})
        if what == "stats":
            with self.lock:
                return Response(200, {"total": self.total, "byMethod": dict(sorted(self.counts.items())),
                                      "byBackend": dict(self.by_backend)})
        if what == "reset" and req.method == "POST":
            servers = req.query.get("servers") == "true"
            self.reset(servers)
            if servers:
                self.backends["standin"].call("POST", "/_standin/reset")
                self.backends["gcplocal"].call("POST", "/reset")
                self.backends["gcs"].call("GET", "/wipe")
            return Response(200, {"reset": True, "servers": servers})
        if what == "config":
            if req.method == "POST":
                body = req.json()
                if "requireToken" in body:
                    self.require_token = bool(body["requireToken"])
                if "rejectInvalid" in body:
                    self.reject_invalid = bool(body["rejectInvalid"])
            return Response(200, {"requireToken": self.require_token, "rejectInvalid": self.reject_invalid})
        if what == "faults":
            with self.lock:
                if req.method == "POST":
                    f = req.json()
                    reason = f.get("reason", "backendError")
                    f.setdefault("code", FAULT_DEFAULTS.get(reason, 503))
                    f["reason"] = reason
                    f["remaining"] = int(f.get("count", 1))
                    if f.get("pathRegex"):
                        re.compile(f["pathRegex"])
                    self.faults.append(f)
                elif req.method == "DELETE":
                    self.faults = []
                return Response(200, {"faults": self.faults})
        if what == "routes":
            return Response(200, {"routes": [{"methodIds": rx, "server": b} for rx, b in ROUTES],
                                  "servers": {k: b.base for k, b in self.backends.items()}})
        if what == "help":
            return Response(200, raw=__doc__, content_type="text/plain")
        return Response(404, error_body(404, "notFound", f"front control: no {req.method} {req.path}"))

    def take_fault(self, req, method_id):
        with self.lock:
            for f in self.faults:
                if f["remaining"] <= 0:
                    continue
                if f.get("methodId") and f["methodId"] != method_id:
                    continue
                if f.get("httpMethod") and f["httpMethod"] != req.method:
                    continue
                if f.get("pathRegex") and not re.search(f["pathRegex"], req.path):
                    continue
                f["remaining"] -= 1
                self.faults = [x for x in self.faults if x["remaining"] > 0]
                reason = f["reason"]
                msg = f.get("message") or {
                    "rateLimitExceeded": "Rate Limit Exceeded", "backendError": "Backend Error",
                    "resourceNotReady": "The resource is not ready", "internalError": "Internal Error"}.get(reason, reason)
                return Response(f["code"], error_body(f["code"], reason, msg, status=FAULT_STATUS.get(reason)),
                                {"X-Front-Fault": "injected"})
        return None

    def check_token(self, req):
        auth = req.headers.get("Authorization") or ""
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return "Request is missing required authentication credential. Expected OAuth 2 access token."
        token = auth[7:].strip()
        key = hashlib.sha256(token.encode()).hexdigest()
        with self.lock:
            exp = self.tokens.get(key)
        if exp is None:
            if self.token is None:
                return "Invalid Credentials (the front knows no token endpoint)"
            status, headers, data = self.token.call("POST", "/tokeninfo", ("access_token=" + quote(token)).encode(),
                                                    {"Content-Type": "application/x-www-form-urlencoded"})
            if status != 200:
                return "Request had invalid authentication credentials (Invalid Credentials): the token endpoint did not issue this token"
            exp = time.time() + int(json.loads(data).get("expires_in", 0))
            with self.lock:
                self.tokens[key] = exp
        if exp < time.time():
            return "Request had invalid authentication credentials (Invalid Credentials): the access token has expired"
        return None

    # ── forwarding ──
    def relay(self, backend, call, rewrite=True, path=None, method=None, body=None):
        req = call.req
        status, headers, data = backend.call(method or req.method, path or call.target(),
                                             req.raw_body if body is None else body, call.forward_headers())
        out = {}
        for k, v in headers:
            if k.lower() in ("content-type", "location", "etag", "range", "x-stand-in", "x-goog-hash",
                             "x-goog-generation", "x-goog-metageneration", "x-goog-stored-content-length",
                             "x-guploader-uploadid", "content-range", "content-disposition", "content-encoding"):
                out[k] = v
        if rewrite and backend.name == "gcplocal":
            data = data.replace((backend.base + "/compute/v1/").encode(), COMPUTE.encode())
        if "Location" in out:
            out["Location"] = out["Location"].replace(backend.base, "http://" + (req.headers.get("Host") or ""))
        ctype = out.pop("Content-Type", "application/json; charset=UTF-8")
        return Response(status, raw=data, headers=out, content_type=ctype)

    def gl(self):
        return self.backends["gcplocal"]

    def remember_gl_op(self, resp):
        try:
            body = json.loads(resp.payload())
        except ValueError:
            return
        if isinstance(body, dict) and body.get("kind") == "compute#operation" and body.get("name"):
            with self.lock:
                self.gl_ops.add(body["name"])

    # ── Cloud Storage: gcp-storage-emulator, with Google's error bodies ──
    def gcs_forward(self, call, **kw):
        resp = self.relay(self.backends["gcs"], call, **kw)
        return self.gcs_shape(call, resp)

    def gcs_shape(self, call, resp):
        if resp.code < 400:
            return resp
        try:
            body = json.loads(resp.payload())
        except ValueError:
            body = None
        bucket = call.values.get("bucket", "")
        if not isinstance(body, dict) or "error" not in body:
            # ADAPT: gcp-storage-emulator answers some errors with an empty body; GCS answers JSON.
            if resp.code == 404:
                msg = "The specified bucket does not exist." if call.id.startswith("storage.buckets") or \
                    "object" not in call.values else f"No such object: {bucket}/{call.values.get('object')}"
                body = error_body(404, "notFound", msg)
            elif resp.code == 409 and call.id == "storage.buckets.delete":
                body = error_body(409, "conflict", "The bucket you tried to delete is not empty.")
            else:
                body = error_body(resp.code, "invalid" if resp.code == 400 else "backendError",
                                  (resp.payload() or b"").decode(errors="replace") or f"HTTP {resp.code}")
        else:
            body["error"].setdefault("status", {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 409: "CONFLICT",
                                                412: "FAILED_PRECONDITION"}.get(resp.code, "UNKNOWN"))
        return Response(resp.code, body, resp.headers)


# ── adapters (ADAPT: where a real server differs from Google, the front makes up the difference) ──

def parse_json(resp):
    try:
        return json.loads(resp.payload() or b"null")
    except ValueError:
        return None


def check_request_id(rid):
    try:
        u = uuid.UUID(rid)
        assert u.int != 0
    except (ValueError, AssertionError):
        raise APIError(400, "invalid", f"Invalid value for field 'requestId': '{rid}'. The request ID must be a valid "
                       "UUID with the exception that zero UUID is not supported.")


def gl_mutation(front, call, before=None):
    """gcplocal ignores requestId: the front answers a repeated one with the first answer."""
    rid = call.req.query.get("requestId")
    key = (call.values.get("project"), rid)
    if rid is not None:
        check_request_id(rid)
        with front.lock:
            if key in front.request_ids:
                return front.request_ids[key]
    with front.create_lock:
        if before:
            early = before(front, call)
            if early is not None:
                return early
        resp = front.relay(front.gl(), call)
    front.remember_gl_op(resp)
    if rid is not None and resp.code == 200:
        with front.lock:
            front.request_ids[key] = resp
    return resp


def firewall_insert_checks(front, call):
    body = call.req.json()
    project, name = call.values["project"], body.get("name")
    if isinstance(name, str):
        # ADAPT: gcplocal answers a duplicate insert with 200 and overwrites; Compute Engine answers 409.
        status, _ = front.gl().json("GET", f"/compute/v1/projects/{project}/global/firewalls/{quote(name)}")
        if status == 200:
            raise APIError(409, "alreadyExists", f"The resource 'projects/{project}/global/firewalls/{name}' already exists")
    net = body.get("network")
    if isinstance(net, str):
        # ADAPT: gcplocal checks no reference; networks live in the stand-in, so ask it.
        m = re.match(r"^(?:https?://[^/]+/compute/v1/)?(?:projects/([^/]+)/)?global/networks/([^/]+)$", net)
        if not m:
            raise APIError(400, "invalid", f"Invalid value for field 'resource.network': '{net}'. The URL is malformed.")
        p = m.group(1) or project
        status, _ = front.backends["standin"].json("GET", f"/compute/v1/projects/{p}/global/networks/{m.group(2)}")
        if status == 404:
            raise APIError(404, "notFound", f"The resource 'projects/{p}/global/networks/{m.group(2)}' was not found")
    return None


def firewall_insert(front, call):
    return gl_mutation(front, call, firewall_insert_checks)


def firewall_mutate(front, call):
    return gl_mutation(front, call)


def firewall_get(front, call):
    return front.relay(front.gl(), call)


def global_operation(front, call):
    project, name = call.values["project"], call.values["operation"]
    with front.lock:
        ours = name in front.gl_ops
    if not ours:
        return front.relay(front.backends["standin"], call)
    # ADAPT: gcplocal's operations are DONE when returned and it has no operations.wait: answer wait with get.
    resp = front.relay(front.gl(), call, method="GET", body=b"",
                       path=f"/compute/v1/projects/{project}/global/operations/{quote(name)}")
    body = parse_json(resp)
    if isinstance(body, dict):
        body.setdefault("selfLink", COMPUTE + f"projects/{project}/global/operations/{name}")
        return Response(resp.code, body)
    return resp


def location_type(loc):
    loc = (loc or "").upper()
    return "multi-region" if loc in MULTI_REGIONS else "dual-region" if loc in DUAL_REGIONS else "region"


def tidy_bucket(b):
    if not isinstance(b, dict) or b.get("kind") != "storage#bucket":
        return b
    for k in BUCKET_WRITABLE:
        if b.get(k) == {}:
            del b[k]  # ADAPT: a field cleared with null (stored as {} by the emulator) is absent, as on GCS
    b["selfLink"] = STORAGE + "b/" + b["name"]
    b["locationType"] = location_type(b.get("location"))
    return b


def gcs_body(front, call, resp):
    resp = front.gcs_shape(call, resp)
    if resp.code >= 400:
        return resp
    body = parse_json(resp)
    if isinstance(body, dict):
        if body.get("kind") == "storage#buckets":
            body["items"] = [tidy_bucket(b) for b in body.get("items", [])]
            if not body["items"]:
                del body["items"]
        else:
            tidy_bucket(body)
        return Response(resp.code, body, resp.headers)
    return resp


def normalise_bucket_fields(fields, current=None):
    out = {}
    for k, v in fields.items():
        if k == "location" and isinstance(v, str):
            v = v.upper()  # GCS stores and answers locations in upper case
        if k == "retentionPolicy" and isinstance(v, dict):
            v = dict(v)
            if v.get("retentionPeriod") != ((current or {}).get("retentionPolicy") or {}).get("retentionPeriod"):
                v["effectiveTime"] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
            else:
                v.setdefault("effectiveTime", current["retentionPolicy"].get("effectiveTime"))
        out[k] = v
    return out


def bucket_insert(front, call):
    # ADAPT: gcp-storage-emulator's buckets.insert keeps only the name; GCS keeps the whole body. The front
    # creates the bucket by name, then sets the rest of the body with the emulator's PATCH, which stores it.
    body = call.req.json()
    if not isinstance(body, dict) or not body.get("name"):
        return front.gcs_forward(call)
    gcs = front.backends["gcs"]
    rest = {k: v for k, v in body.items() if k != "name" and v is not None}
    dropped = [k for k in rest if k not in BUCKET_WRITABLE]
    resp = front.relay(gcs, call, body=json.dumps({"name": body["name"]}).encode())
    if resp.code != 200 or not rest:
        return gcs_body(front, call, resp)
    resp = front.relay(gcs, call, method="PATCH", path="/storage/v1/b/" + quote(body["name"]),
                       body=json.dumps(normalise_bucket_fields(rest)).encode())
    out = gcs_body(front, call, resp)
    if dropped:
        out.headers["X-Front-Note"] = "gcp-storage-emulator does not store: " + ", ".join(dropped)
    return out


def preconditions(call, current):
    q = call.req.query
    mg = (current or {}).get("metageneration")
    if "ifMetagenerationMatch" in q and q["ifMetagenerationMatch"] != mg or \
            "ifMetagenerationNotMatch" in q and q["ifMetagenerationNotMatch"] == mg:
        raise APIError(412, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.",
                       extra={"locationType": "header", "location": "If-Match"})


def bucket_patch(front, call):
    gcs = front.backends["gcs"]
    name = call.values["bucket"]
    status, current = gcs.json("GET", "/storage/v1/b/" + quote(name))
    if status != 200:
        raise APIError(404, "notFound", "The specified bucket does not exist.")
    preconditions(call, current)
    body = call.req.json()
    if not isinstance(body, dict):
        return front.gcs_forward(call)
    # ADAPT: GCS applies PATCH as a merge (labels: a key set to null is removed; a field set to null is
    # cleared); the emulator replaces each top-level field and ignores null. The front sends the merged result.
    send = {}
    for k, v in body.items():
        if k not in BUCKET_WRITABLE:
            continue
        if v is None:
            send[k] = {}
        elif isinstance(v, dict) and isinstance(current.get(k), dict):
            send[k] = merge(current[k], v)
        else:
            send[k] = v
    send = normalise_bucket_fields(send, current)
    resp = front.relay(gcs, call, method="PATCH", path="/storage/v1/b/" + quote(name),
                       body=json.dumps(send).encode())
    return gcs_body(front, call, resp)


def merge(a, b):
    out = copy.deepcopy(a)
    for k, v in b.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def bucket_get(front, call):
    return gcs_body(front, call, front.relay(front.backends["gcs"], call))


def bucket_delete(front, call):
    gcs = front.backends["gcs"]
    status, current = gcs.json("GET", "/storage/v1/b/" + quote(call.values["bucket"]))
    if status == 200:
        preconditions(call, current)
    resp = front.gcs_forward(call)
    if resp.code == 200 and not resp.payload().strip():
        return Response(204)  # GCS answers 204 No Content
    return resp


ADAPTERS = {
    "compute.firewalls.insert": firewall_insert,
    "compute.firewalls.delete": firewall_mutate,
    "compute.firewalls.patch": firewall_mutate,
    "compute.firewalls.get": firewall_get,
    "compute.firewalls.list": firewall_get,
    "compute.globalOperations.get": global_operation,
    "compute.globalOperations.wait": global_operation,
    "storage.buckets.insert": bucket_insert,
    "storage.buckets.patch": bucket_patch,
    "storage.buckets.get": bucket_get,
    "storage.buckets.list": bucket_get,
    "storage.buckets.delete": bucket_delete,
}


def main():
    ap = argparse.ArgumentParser(description="validating front of the GCP test servers")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--gcplocal", required=True)
    ap.add_argument("--gcs", required=True)
    ap.add_argument("--standin", required=True)
    ap.add_argument("--token", default="", help="the token endpoint's base URL (for --require-token)")
    ap.add_argument("--require-token", action="store_true")
    ap.add_argument("--documents", default="", help="discovery documents folder (default: google-api-python-client's)")
    args = ap.parse_args()
    serve_forever(serve(Front(args), args.host, args.port, "front"))


if __name__ == "__main__":
    main()
