#!/usr/bin/env python3
"""A STAND-IN for kube-apiserver, for maifctl's tests. It is not Kubernetes.

It follows the documented API machinery of Kubernetes 1.30 (discovery, OpenAPI, validation against the
published schemas, resourceVersion/generation, server-side apply with managedFields, the status and
scale subresources, deletion with propagation and finalizers, client-certificate/token authentication
and a small RBAC) and runs no controllers beyond the few the API machinery itself needs: CRD
establishment, garbage collection of dependents, and namespace cleanup. See README.md beside it.

    apiserver.py --dir DIR [--port 0] [--crd-establish-delay 0.5] [--gc-delay 0.2]

DIR receives ca.crt, server.crt/key, admin.crt/key, tokens.csv, authz.json, port, kubeconfig,
kubeconfig-inline; the log goes to stderr.
"""
import argparse
import base64
import copy
import datetime
import hashlib
import json
import os
import re
import secrets
import socket
import ssl
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import yaml  # noqa: E402

import kube_defaults  # noqa: E402
import kube_fields  # noqa: E402
import kube_patch  # noqa: E402
import kube_proto  # noqa: E402
import kube_openapi  # noqa: E402
from kube_resources import (ApiError, Resource, VIRTUAL, already_exists, bad_request, builtin_resources,  # noqa: E402
                            conflict, forbidden, invalid, method_not_allowed, namespace_not_found, not_found,
                            path_not_found, unauthorized)
from kube_schema import (ANY, PINNED_VERSION, Findings, Types, apply_crd_defaults, check,  # noqa: E402
                         crd_object_schema, crd_validate, load_definitions)

STANDIN_VERSION = "v%s-maifctl-standin" % PINNED_VERSION
MEDIA_JSON = "application/json"
AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")

SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
             "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
             "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
DNS1035_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
               "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
               "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def log(msg):
    sys.stderr.write("%s %s\n" % (datetime.datetime.now().strftime("%H:%M:%S.%f")[:-3], msg))
    sys.stderr.flush()


# ---------------------------------------------------------------------------------------------------
# selectors

def parse_label_selector(sel):
    """[(key, op, values)] with op in =, !=, in, notin, exists, !exists."""
    if not sel:
        return []
    parts, depth, cur = [], 0, ""
    for ch in sel:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    reqs = []
    for p in parts:
        p = p.strip()
        if not p:
            continue
        m = re.match(r"^([^\s!=]+)\s+(in|notin)\s+\((.*)\)$", p)
        if m:
            vals = [v.strip() for v in m.group(3).split(",") if v.strip()]
            reqs.append((m.group(1), m.group(2), vals))
            continue
        m = re.match(r"^([^\s!=]+)\s*(==|=|!=)\s*(\S*)$", p)
        if m:
            reqs.append((m.group(1), "!=" if m.group(2) == "!=" else "=", [m.group(3)]))
            continue
        if p.startswith("!"):
            reqs.append((p[1:].strip(), "!exists", []))
            continue
        if re.match(r"^[^\s!=()]+$", p):
            reqs.append((p, "exists", []))
            continue
        raise bad_request("unable to parse requirement: %s" % p)
    return reqs


def labels_match(reqs, labels):
    labels = labels or {}
    for key, op, vals in reqs:
        has = key in labels
        v = labels.get(key)
        if op == "=" and (not has or v != vals[0]):
            return False
        if op == "!=" and has and v == vals[0]:
            return False
        if op == "in" and (not has or v not in vals):
            return False
        if op == "notin" and has and v in vals:
            return False
        if op == "exists" and not has:
            return False
        if op == "!exists" and has:
            return False
    return True


def parse_field_selector(sel):
    out = []
    for p in (sel or "").split(","):
        p = p.strip()
        if not p:
            continue
        m = re.match(r"^([^!=]+)(==|=|!=)(.*)$", p)
        if not m:
            raise bad_request("invalid selector: '%s'; can't understand '%s'" % (sel, p))
        key, op, val = m.group(1).strip(), m.group(2), m.group(3).strip()
        if key not in ("metadata.name", "metadata.namespace"):
            raise bad_request('field label not supported: %s' % key)
        out.append((key, op != "!=", val))
    return out


def fields_match(reqs, obj):
    md = obj.get("metadata") or {}
    for key, eq, val in reqs:
        have = md.get("name" if key == "metadata.name" else "namespace", "")
        if (have == val) != eq:
            return False
    return True


def selector_string(sel):
    if not isinstance(sel, dict):
        return ""
    parts = ["%s=%s" % (k, v) for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for e in sel.get("matchExpressions") or []:
        op = e.get("operator")
        if op == "In":
            parts.append("%s in (%s)" % (e["key"], ",".join(e.get("values") or [])))
        elif op == "NotIn":
            parts.append("%s notin (%s)" % (e["key"], ",".join(e.get("values") or [])))
        elif op == "Exists":
            parts.append(e["key"])
        elif op == "DoesNotExist":
            parts.append("!" + e["key"])
    return ",".join(parts)


def get_path(obj, dotted):
    cur = obj
    for p in dotted.strip(".").split("."):
        if not isinstance(cur, dict) or p not in cur:
            return None
        cur = cur[p]
    return cur


def set_path(obj, dotted, value):
    parts = dotted.strip(".").split(".")
    cur = obj
    for p in parts[:-1]:
        cur = cur.setdefault(p, {})
    cur[parts[-1]] = value


def human_age(ts):
    try:
        t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        return "<unknown>"
    s = int((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds())
    if s < 0:
        s = 0
    if s < 120:
        return "%ds" % s
    if s < 600:
        return "%dm%ds" % (s // 60, s % 60) if s % 60 else "%dm" % (s // 60)
    if s < 3 * 3600:
        return "%dm" % (s // 60)
    if s < 48 * 3600:
        return "%dh" % (s // 3600)
    return "%dd" % (s // 86400)


# ---------------------------------------------------------------------------------------------------
# the server state

class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.types = Types(load_definitions())
        self.builtins = builtin_resources()
        self.crd_resources = []
        self.rv = 1
        self.objects = {}        # (group, plural, ns, name) -> obj
        self.events = []         # (rv, type, group, plural, ns, obj)
        self.ip_counter = 10
        self.requests = []
        self.stopping = False
        self.openapi_cache = {}
        self.discovery_epoch = 0
        self.tokens = {}
        self.policy = []
        self.started = time.time()
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self._seed_namespace(ns)

    def _seed_namespace(self, name):
        obj = {"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
               "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
        md = obj["metadata"]
        md["uid"] = str(uuid.uuid4())
        md["creationTimestamp"] = now_rfc3339()
        md["resourceVersion"] = str(self.next_rv())
        md["managedFields"] = kube_fields.store_managers([(
            {"manager": "kube-apiserver", "operation": "Update", "apiVersion": "v1", "time": md["creationTimestamp"]},
            {(("f", "metadata"), ("f", "labels")), (("f", "metadata"), ("f", "labels"), ("f", "kubernetes.io/metadata.name"))})])
        self.objects[("", "namespaces", "", name)] = obj

    def reset(self):
        with self.lock:
            self.objects = {}
            self.crd_resources = []
            self.events = []
            self.openapi_cache = {}
            self.discovery_epoch += 1
            for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
                self._seed_namespace(ns)
            self.cond.notify_all()

    def next_rv(self):
        self.rv += 1
        return self.rv

    def allocate_ip(self):
        self.ip_counter += 1
        n = self.ip_counter
        return "10.96.%d.%d" % (n // 250, n % 250 + 1)

    # --- registry ---
    def resources(self):
        return self.builtins + self.crd_resources

    def find(self, group, version, plural):
        for r in self.resources():
            if r.group == group and r.version == version and r.plural == plural:
                return r
        return None

    def find_kind(self, group, kind):
        for r in self.resources():
            if r.group == group and r.kind == kind:
                return r
        return None

    def schema_of(self, res):
        if res.crd is not None:
            for v in res.crd["spec"].get("versions") or []:
                if v.get("name") == res.version:
                    return crd_object_schema(((v.get("schema") or {}).get("openAPIV3Schema")))
            return crd_object_schema(None)
        return self.types.of_kind(res.group, res.version, res.kind) or ANY

    def refresh_crds(self):
        """Serves the custom resources of every Established CRD."""
        out = []
        for key, crd in sorted(self.objects.items()):
            if key[0] != "apiextensions.k8s.io" or key[1] != "customresourcedefinitions":
                continue
            conds = {c.get("type"): c.get("status") for c in (crd.get("status") or {}).get("conditions") or []}
            if conds.get("Established") != "True":
                continue
            spec = crd["spec"]
            names = spec.get("names") or {}
            for v in spec.get("versions") or []:
                if not v.get("served"):
                    continue
                subs = v.get("subresources") or {}
                subresources = []
                if "status" in subs:
                    subresources.append("status")
                scale_paths = None
                if "scale" in subs:
                    subresources.append("scale")
                    sc = subs["scale"] or {}
                    scale_paths = {"spec": sc.get("specReplicasPath", ".spec.replicas"),
                                   "status": sc.get("statusReplicasPath", ".status.replicas"),
                                   "selector": sc.get("labelSelectorPath")}
                out.append(Resource(spec["group"], v["name"], names["plural"], names.get("singular") or names["kind"].lower(),
                                    names["kind"], namespaced=spec.get("scope") == "Namespaced",
                                    short=names.get("shortNames") or [], categories=names.get("categories") or [],
                                    subresources=subresources, generation=True, crd=crd, scale_paths=scale_paths,
                                    columns=v.get("additionalPrinterColumns") or []))
        before = [(r.group, r.version, r.plural, r.kind, tuple(r.subresources)) for r in self.crd_resources]
        after = [(r.group, r.version, r.plural, r.kind, tuple(r.subresources)) for r in out]
        self.crd_resources = out
        if before != after:
            self.discovery_epoch += 1
        self.openapi_cache = {}

    # --- events ---
    def record(self, etype, res, obj):
        md = obj["metadata"]
        self.events.append((int(md.get("resourceVersion") or self.rv), etype, res.group, res.plural,
                            md.get("namespace", ""), copy.deepcopy(obj)))
        if len(self.events) > 20000:
            del self.events[:5000]
        self.cond.notify_all()


# ---------------------------------------------------------------------------------------------------
# authentication / authorization

def load_tokens(path):
    out = {}
    if not os.path.exists(path):
        return out
    import csv
    with open(path) as f:
        for row in csv.reader(f):
            if len(row) >= 2 and not row[0].startswith("#"):
                groups = [g for g in (row[3] if len(row) > 3 else "").split(",") if g]
                out[row[0]] = (row[1], groups)
    return out


def allowed(policy, user, groups, verb, group, resource, ns, name):
    if "system:masters" in groups:
        return True
    for rule in policy:
        if not (user in rule.get("users", []) or set(groups) & set(rule.get("groups", []))):
            continue
        if not _m(rule.get("verbs"), verb):
            continue
        if not _m(rule.get("apiGroups"), group):
            continue
        if not (_m(rule.get("resources"), resource) or _m(rule.get("resources"), resource.split("/")[0] + "/*")):
            continue
        if rule.get("namespaces") and not _m(rule.get("namespaces"), ns):
            continue
        if rule.get("resourceNames") and name not in rule["resourceNames"]:
            continue
        return True
    return False


def _m(values, v):
    return values is not None and ("*" in values or v in values)


# ---------------------------------------------------------------------------------------------------
# the HTTP side

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kube-apiserver-standin"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_PATCH(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def do_HEAD(self):
        self.dispatch()

    @property
    def st(self):
        return self.server.state

    # --- plumbing ---
    def dispatch(self):
        started = time.time()
        self.warnings = []
        self.status_code = 0
        self.verb = ""
        self.user = ""
        self.streamed = False
        u = urllib.parse.urlsplit(self.path)
        self.url_path = u.path
        self.params = {k: v[-1] for k, v in urllib.parse.parse_qs(u.query, keep_blank_values=True).items()}
        try:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                self.body = self.read_chunked()
            else:
                length = int(self.headers.get("Content-Length") or 0)
                self.body = self.rfile.read(length) if length else b""
            self.authenticate()
            self.route()
        except ApiError as e:
            self.send_json(e.code, e.status(), extra=e.headers)
        except (BrokenPipeError, ConnectionResetError):
            return
        except Exception as e:  # a stand-in bug: say so, as the real server would with a 500
            log("500 %s %s: %s\n%s" % (self.command, self.path, e, traceback.format_exc()))
            try:
                self.send_json(500, ApiError(500, "InternalError", "stand-in error: %s" % e).status())
            except Exception:
                pass
        finally:
            ms = (time.time() - started) * 1000
            if not self.url_path.startswith("/_standin"):
                with self.st.lock:
                    if len(self.st.requests) >= 200000:
                        del self.st.requests[:50000]
                    self.st.requests.append({"method": self.command, "path": self.url_path,
                                             "query": urllib.parse.urlsplit(self.path).query,
                                             "verb": self.verb, "status": self.status_code, "user": self.user,
                                             "ms": round(ms, 2)})
            log("%s %s %s -> %s (%s, %.1f ms)" % (self.user or "-", self.command, self.path, self.status_code,
                                                  self.verb or "-", ms))

    def read_chunked(self):
        out = b""
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return out
            out += self.rfile.read(size)
            self.rfile.readline()

    def send_bytes(self, code, data, content_type):
        self.status_code = code
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_json(self, code, obj, extra=None, content_type=MEDIA_JSON):
        if self.streamed:
            return
        accept = self.headers.get("Accept") or ""
        if "application/yaml" in accept and "json" not in accept and content_type == MEDIA_JSON:
            data = yaml.safe_dump(obj, sort_keys=False).encode()
            content_type = "application/yaml"
        else:
            data = (json.dumps(obj, separators=(",", ":")) + "\n").encode()
        self.status_code = code
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", str(uuid.uuid4()))
        for w in self.warnings:
            self.send_header("Warning", '299 - "%s"' % w.replace('"', '\\"'))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def authenticate(self):
        self.groups = []
        cert = None
        try:
            cert = self.connection.getpeercert()
        except (AttributeError, ValueError):
            cert = None
        if cert:
            cn, orgs = None, []
            for rdn in cert.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        cn = v
                    elif k == "organizationName":
                        orgs.append(v)
            if cn:
                self.user, self.groups = cn, orgs + ["system:authenticated"]
                return
        auth = self.headers.get("Authorization") or ""
        if auth.lower().startswith("bearer "):
            tok = auth[7:].strip()
            found = self.st.tokens.get(tok)
            if found:
                self.user, self.groups = found[0], list(found[1]) + ["system:authenticated"]
                return
        if self.url_path in ("/healthz", "/livez", "/readyz", "/version"):
            self.user, self.groups = "system:anonymous", ["system:unauthenticated"]
            return
        raise unauthorized()

    def authorize(self, verb, res, ns, name, sub=""):
        if res.plural in VIRTUAL and verb == "create":
            return  # system:basic-user: every authenticated user may ask what it may do and who it is
        resource = res.plural + ("/" + sub if sub else "")
        if not allowed(self.st.policy, self.user, self.groups, verb, res.group, resource, ns, name):
            raise forbidden(res, name, self.user, verb, ns, sub)

    def read_body(self, allow_yaml=True):
        ctype = (self.headers.get("Content-Type") or MEDIA_JSON).split(";")[0].strip()
        if not self.body:
            raise bad_request("the request body is empty")
        if "protobuf" in ctype:
            try:
                return kube_proto.decode_object(self.body)
            except kube_proto.ProtoError as e:
                raise ApiError(415, "UnsupportedMediaType",
                               "the body of the request was in an unknown format - accepted media types include: "
                               "application/json, application/yaml (%s)" % e, {})
        try:
            if ctype in ("application/yaml", "application/apply-patch+yaml") and allow_yaml:
                return yaml.safe_load(self.body.decode())
            return json.loads(self.body.decode())
        except (ValueError, yaml.YAMLError) as e:
            raise bad_request("error decoding body: %s" % e)

    # --- routing ---
    def route(self):
        p = self.url_path.rstrip("/") or "/"
        segs = [urllib.parse.unquote(s) for s in p.strip("/").split("/")] if p != "/" else []
        m = self.command
        if p.startswith("/_standin"):
            return self.standin(segs[1:])
        if p in ("/healthz", "/livez", "/readyz") or p.startswith("/healthz/") or p.startswith("/readyz/") or p.startswith("/livez/"):
            self.verb = "get"
            data = b"ok"
            self.status_code = 200
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if p == "/version":
            self.verb = "get"
            return self.send_json(200, {
                "major": "1", "minor": PINNED_VERSION.split(".")[1], "gitVersion": STANDIN_VERSION,
                "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
                "buildDate": "2024-04-17T17:27:00Z", "goVersion": "python%d.%d (stand-in)" % sys.version_info[:2],
                "compiler": "standin", "platform": "linux/amd64"})
        if segs and segs[0] == "openapi":
            self.verb = "get"
            return self.openapi(segs[1:])
        if segs[:1] == ["api"] and len(segs) == 1:
            self.verb = "get"
            return self.discovery_core_root()
        if segs[:1] == ["apis"] and len(segs) == 1:
            self.verb = "get"
            return self.discovery_apis_root()
        if segs[:1] == ["api"] and len(segs) == 2:
            self.verb = "get"
            return self.discovery_resources("", segs[1])
        if segs[:1] == ["apis"] and len(segs) == 2:
            self.verb = "get"
            return self.discovery_group(segs[1])
        if segs[:1] == ["apis"] and len(segs) == 3:
            self.verb = "get"
            return self.discovery_resources(segs[1], segs[2])
        if segs[:1] == ["api"] and len(segs) >= 3:
            return self.resource_request("", segs[1], segs[2:])
        if segs[:1] == ["apis"] and len(segs) >= 4:
            return self.resource_request(segs[1], segs[2], segs[3:])
        if m == "GET" and p == "/":
            self.verb = "get"
            return self.send_json(200, {"paths": sorted(["/api", "/api/v1", "/apis", "/version", "/openapi/v2",
                                                         "/openapi/v3", "/healthz", "/livez", "/readyz"])})
        raise path_not_found()

    # --- stand-in control endpoints ---
    def standin(self, segs):
        if "system:masters" not in self.groups:
            raise ApiError(403, "Forbidden", 'forbidden: User "%s" cannot use the stand-in control endpoints' % self.user, {})
        if segs == ["requests"] and self.command == "GET":
            with self.st.lock:
                reqs = list(self.st.requests)
            by_verb, by_path, by_method = {}, {}, {}
            for r in reqs:
                by_verb[r["verb"]] = by_verb.get(r["verb"], 0) + 1
                by_method[r["method"]] = by_method.get(r["method"], 0) + 1
                k = "%s %s" % (r["method"], r["path"])
                by_path[k] = by_path.get(k, 0) + 1
            body = {"total": len(reqs), "byVerb": by_verb, "byMethod": by_method, "byPath": by_path}
            if self.params.get("log") in ("1", "true"):
                body["requests"] = reqs
            return self.send_json(200, body)
        if segs == ["requests"] and self.command == "DELETE":
            with self.st.lock:
                n = len(self.st.requests)
                self.st.requests = []
            return self.send_json(200, {"cleared": n})
        if segs == ["reset"] and self.command == "POST":
            self.st.reset()
            with self.st.lock:
                self.st.requests = []
            return self.send_json(200, {"reset": True})
        raise path_not_found()

    # --- discovery ---
    def wants_aggregated(self):
        accept = self.headers.get("Accept") or ""
        for part in accept.split(","):
            p = part.replace(" ", "")
            if "g=apidiscovery.k8s.io" in p and "as=APIGroupDiscoveryList" in p:
                if "v=v2beta1" in p:
                    return "v2beta1"
                if "v=v2" in p:
                    return "v2"
            elif p.startswith("application/json") or p.startswith("*/*"):
                return None
        return None

    def api_groups(self):
        out = {}
        for r in self.st.resources():
            if r.group:
                out.setdefault(r.group, [])
                if r.version not in out[r.group]:
                    out[r.group].append(r.version)
        return out

    def preferred(self, group, versions):
        for r in self.st.resources():
            if r.group == group and r.crd is not None:
                vs = [v["name"] for v in r.crd["spec"]["versions"] if v.get("served")]
                return sorted(vs, key=version_priority)[0]
        return sorted(versions, key=version_priority)[0]

    def discovery_core_root(self):
        agg = self.wants_aggregated()
        if agg:
            return self.send_aggregated(agg, [None])
        host = "%s:%d" % self.server.server_address[:2]
        return self.send_json(200, {"kind": "APIVersions", "versions": ["v1"],
                                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}]})

    def discovery_apis_root(self):
        with self.st.lock:
            groups = self.api_groups()
            agg = self.wants_aggregated()
            if agg:
                return self.send_aggregated(agg, sorted(groups, key=group_order))
            out = []
            for g in sorted(groups, key=group_order):
                vs = sorted(groups[g], key=version_priority)
                pref = self.preferred(g, vs)
                out.append({"name": g, "versions": [{"groupVersion": "%s/%s" % (g, v), "version": v} for v in vs],
                            "preferredVersion": {"groupVersion": "%s/%s" % (g, pref), "version": pref}})
        return self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": out})

    def discovery_group(self, group):
        with self.st.lock:
            groups = self.api_groups()
            if group not in groups:
                raise path_not_found()
            vs = sorted(groups[group], key=version_priority)
            pref = self.preferred(group, vs)
        return self.send_json(200, {"kind": "APIGroup", "apiVersion": "v1", "name": group,
                                    "versions": [{"groupVersion": "%s/%s" % (group, v), "version": v} for v in vs],
                                    "preferredVersion": {"groupVersion": "%s/%s" % (group, pref), "version": pref}})

    def discovery_resources(self, group, version):
        with self.st.lock:
            rs = [r for r in self.st.resources() if r.group == group and r.version == version]
        if not rs:
            raise path_not_found()
        out = []
        for r in rs:
            e = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind,
                 "verbs": r.verbs}
            if r.short:
                e["shortNames"] = r.short
            if r.categories:
                e["categories"] = r.categories
            if r.plural not in VIRTUAL:
                e["storageVersionHash"] = r.storage_hash()
            out.append(e)
            for sub in r.subresources:
                if sub == "scale":
                    out.append({"name": r.plural + "/scale", "singularName": "", "namespaced": r.namespaced,
                                "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]})
                elif sub == "finalize":
                    out.append({"name": r.plural + "/finalize", "singularName": "", "namespaced": r.namespaced,
                                "kind": r.kind, "verbs": ["update"]})
                else:
                    out.append({"name": r.plural + "/" + sub, "singularName": "", "namespaced": r.namespaced,
                                "kind": r.kind, "verbs": ["get", "patch", "update"]})
        gv = version if not group else "%s/%s" % (group, version)
        return self.send_json(200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out})

    def send_aggregated(self, ver, groups):
        items = []
        with self.st.lock:
            allres = self.st.resources()
            gv = self.api_groups()
            for g in groups:
                group = g or ""
                versions = ["v1"] if g is None else sorted(gv[g], key=version_priority)
                vitems = []
                for v in versions:
                    rs = []
                    for r in allres:
                        if r.group != group or r.version != v:
                            continue
                        e = {"resource": r.plural,
                             "responseKind": {"group": "", "version": "", "kind": r.kind},
                             "scope": "Namespaced" if r.namespaced else "Cluster",
                             "singularResource": r.singular, "verbs": r.verbs}
                        if r.short:
                            e["shortNames"] = r.short
                        if r.categories:
                            e["categories"] = r.categories
                        subs = []
                        for sub in r.subresources:
                            if sub == "scale":
                                subs.append({"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
                                             "verbs": ["get", "patch", "update"]})
                            elif sub == "finalize":
                                subs.append({"subresource": "finalize", "responseKind": {"group": "", "version": "", "kind": r.kind},
                                             "verbs": ["update"]})
                            else:
                                subs.append({"subresource": sub, "responseKind": {"group": "", "version": "", "kind": r.kind},
                                             "verbs": ["get", "patch", "update"]})
                        if subs:
                            e["subresources"] = subs
                        rs.append(e)
                    vitems.append({"version": v, "resources": rs, "freshness": "Current"})
                md = {"creationTimestamp": None}
                if g:
                    md["name"] = g
                items.append({"metadata": md, "versions": vitems})
        ctype = AGGREGATED_V2 if ver == "v2" else AGGREGATED_V2BETA1
        body = {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/" + ver, "metadata": {}, "items": items}
        etag = '"%s"' % hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32].upper()
        return self.send_json(200, body, extra={"Vary": "Accept", "ETag": etag}, content_type=ctype)

    # --- openapi ---
    def openapi(self, segs):
        with self.st.lock:
            resources = list(self.st.resources())
            cache = self.st.openapi_cache
            if segs == ["v2"]:
                accept = self.headers.get("Accept") or ""
                if "v2" not in cache:
                    cache["v2"] = kube_openapi.v2_document(self.st.types, resources, self.st.schema_of)
                doc = cache["v2"]
                first = accept.split(",")[0].strip()
                if "protobuf" in first or (accept and "json" not in accept and "*/*" not in accept):
                    if "protobuf" not in accept:
                        raise ApiError(406, "NotAcceptable", "only the following media types are accepted: application/json, "
                                       + kube_openapi.PB_V2, {})
                    if "v2pb" not in cache:
                        cache["v2pb"] = kube_openapi.v2_protobuf(doc)
                    return self.send_bytes(200, cache["v2pb"], kube_openapi.PB_V2_RESPONSE)
                return self.send_json(200, doc)
            if segs == ["v3"]:
                if "v3index" not in cache:
                    paths = {}
                    for gvp in kube_openapi.v3_group_versions(resources):
                        body = self.v3_doc(gvp, resources, cache)
                        h = hashlib.sha512(json.dumps(body, sort_keys=True).encode()).hexdigest()[:128].upper()
                        paths[gvp] = {"serverRelativeURL": "/openapi/v3/%s?hash=%s" % (gvp, h)}
                    cache["v3index"] = {"paths": paths}
                return self.send_json(200, cache["v3index"])
            if segs and segs[0] == "v3":
                gvp = "/".join(segs[1:])
                if gvp not in kube_openapi.v3_group_versions(resources):
                    raise path_not_found()
                body = self.v3_doc(gvp, resources, cache)
                return self.send_json(200, body, extra={"Cache-Control": "public, immutable"} if "hash" in self.params else None)
        raise path_not_found()

    def v3_doc(self, gvp, resources, cache):
        key = "v3:" + gvp
        if key not in cache:
            cache[key] = kube_openapi.v3_document(self.st.types, resources, self.st.schema_of, gvp)
        return cache[key]

    # --- resources ---
    def resource_request(self, group, version, rest):
        ns = ""
        if rest[0] == "namespaces" and len(rest) >= 3 and not (len(rest) == 3 and rest[2] in ("status", "finalize")):
            ns, rest = rest[1], rest[2:]
        plural = rest[0]
        name = rest[1] if len(rest) > 1 else ""
        sub = rest[2] if len(rest) > 2 else ""
        if len(rest) > 3:
            raise path_not_found()
        with self.st.lock:
            res = self.st.find(group, version, plural)
        if res is None:
            raise path_not_found()
        if ns and not res.namespaced:
            raise path_not_found()
        if sub and sub not in res.subresources:
            raise path_not_found()
        m = self.command
        if m in ("GET", "HEAD"):
            if name:
                verb = "get"
            else:
                verb = "watch" if self.params.get("watch") in ("1", "true") else "list"
        elif m == "POST":
            if name:
                raise method_not_allowed()
            verb = "create"
        elif m == "PUT":
            verb = "update"
        elif m == "PATCH":
            verb = "patch"
        elif m == "DELETE":
            verb = "delete" if name else "deletecollection"
        else:
            raise method_not_allowed()
        self.verb = verb
        if verb not in res.verbs and not (sub and verb in ("get", "update", "patch")):
            raise method_not_allowed()
        if verb in ("update", "patch", "delete", "get") and not name:
            raise method_not_allowed()
        self.authorize(verb, res, ns, name, sub)
        if res.plural in VIRTUAL:
            return self.review(res)
        if res.namespaced and not ns and verb not in ("list", "watch"):
            raise path_not_found()
        ops = Ops(self.st, res, self)
        if verb == "get":
            obj = ops.get(ns, name)
            if sub == "scale":
                return self.send_json(200, ops.scale_of(obj))
            return self.send_object(200, obj, res)
        if verb == "list":
            return self.send_list(res, ns, ops.list(ns))
        if verb == "watch":
            return self.watch(res, ns)
        if verb == "create":
            obj = ops.create(ns, self.read_body())
            return self.send_object(201, obj, res)
        if verb == "update":
            if sub == "scale":
                return self.send_json(200, ops.update_scale(ns, name, self.read_body()))
            code, obj = ops.update(ns, name, self.read_body(), sub)
            return self.send_object(code, obj, res)
        if verb == "patch":
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if sub == "scale":
                return self.send_json(200, ops.patch_scale(ns, name, ctype, self.body))
            code, obj = ops.patch(ns, name, ctype, self.body, sub)
            return self.send_object(code, obj, res)
        if verb == "delete":
            opts = {}
            if self.body:
                try:
                    opts = json.loads(self.body.decode()) or {}
                except ValueError as e:
                    raise bad_request("error decoding DeleteOptions: %s" % e)
            code, obj = ops.delete(ns, name, opts)
            return self.send_json(code, self.versioned(obj, res) if obj.get("kind") != "Status" else obj)
        if verb == "deletecollection":
            opts = {}
            if self.body:
                try:
                    opts = json.loads(self.body.decode()) or {}
                except ValueError:
                    opts = {}
            items = ops.delete_collection(ns, opts)
            return self.send_json(200, self.list_body(res, items))
        raise method_not_allowed()

    def versioned(self, obj, res):
        if res.crd is not None and obj.get("apiVersion") != res.group_version:
            obj = dict(obj)
            obj["apiVersion"] = res.group_version
        return obj

    def wants_table(self):
        accept = self.headers.get("Accept") or ""
        first = accept.split(",")[0].replace(" ", "")
        return "as=Table" in first and "g=meta.k8s.io" in first

    def send_object(self, code, obj, res):
        obj = self.versioned(obj, res)
        if self.wants_table():
            return self.send_json(code, self.table(res, [obj], (obj.get("metadata") or {}).get("resourceVersion", "")))
        return self.send_json(code, obj)

    def list_body(self, res, items, rv=None, cont=None, remaining=None):
        md = {"resourceVersion": str(rv if rv is not None else self.st.rv)}
        if cont:
            md["continue"] = cont
        if remaining:
            md["remainingItemCount"] = remaining
        return {"kind": res.kind + "List", "apiVersion": res.group_version, "metadata": md,
                "items": [self.versioned(o, res) for o in items]}

    def send_list(self, res, ns, items_rv):
        items, rv = items_rv
        limit = int(self.params.get("limit") or 0)
        cont = self.params.get("continue")
        start = 0
        if cont:
            try:
                c = json.loads(base64.urlsafe_b64decode(cont.encode()).decode())
                start = int(c["start"])
            except Exception:
                raise bad_request("continue key is not valid")
        page = items[start:start + limit] if limit else items[start:]
        next_cont = None
        remaining = None
        if limit and start + limit < len(items):
            next_cont = base64.urlsafe_b64encode(json.dumps({"start": start + limit, "rv": rv}).encode()).decode()
            remaining = len(items) - start - limit
        if self.wants_table():
            t = self.table(res, page, str(rv))
            if next_cont:
                t["metadata"]["continue"] = next_cont
            return self.send_json(200, t)
        return self.send_json(200, self.list_body(res, page, rv, next_cont, remaining))

    def table(self, res, objs, rv):
        cols = [{"name": "Name", "type": "string", "format": "name",
                 "description": "Name must be unique within a namespace.", "priority": 0}]
        extra = []
        for c in res.columns:
            if c.get("jsonPath") == ".metadata.creationTimestamp":
                continue
            cols.append({"name": c["name"], "type": c.get("type", "string"), "format": c.get("format", ""),
                         "description": c.get("description", ""), "priority": c.get("priority", 0)})
            extra.append(c.get("jsonPath", ""))
        cols.append({"name": "Age", "type": "string", "format": "",
                     "description": "CreationTimestamp is a timestamp representing the server time when this object was created.",
                     "priority": 0})
        include = self.params.get("includeObject", "Metadata")
        rows = []
        for o in objs:
            md = o.get("metadata") or {}
            cells = [md.get("name", "")]
            for jp in extra:
                v = get_path(o, jp)
                cells.append(v if v is not None else None)
            cells.append(human_age(md.get("creationTimestamp")))
            row = {"cells": cells}
            if include == "Object":
                row["object"] = o
            elif include != "None":
                row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": md}
            rows.append(row)
        return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": rv},
                "columnDefinitions": cols, "rows": rows}

    def review(self, res):
        body = self.read_body()
        if res.plural == "selfsubjectreviews":
            return self.send_json(201, {"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
                                        "metadata": {"creationTimestamp": None},
                                        "status": {"userInfo": {"username": self.user, "groups": self.groups}}})
        if res.plural == "selfsubjectaccessreviews":
            ra = ((body or {}).get("spec") or {}).get("resourceAttributes")
            if ra:
                resource = ra.get("resource", "") + ("/" + ra["subresource"] if ra.get("subresource") else "")
                ok = allowed(self.st.policy, self.user, self.groups, ra.get("verb", ""), ra.get("group", ""),
                             resource, ra.get("namespace", ""), ra.get("name", ""))
            else:
                ok = "system:masters" in self.groups
            out = copy.deepcopy(body)
            out.setdefault("metadata", {})["creationTimestamp"] = None
            out["status"] = {"allowed": ok}
            if not ok:
                out["status"]["reason"] = ""
            return self.send_json(201, out)
        out = copy.deepcopy(body)
        out["status"] = {"resourceRules": [], "nonResourceRules": [], "incomplete": False}
        if "system:masters" in self.groups:
            out["status"]["resourceRules"] = [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]
        else:
            for r in self.st.policy:
                if self.user in r.get("users", []) or set(self.groups) & set(r.get("groups", [])):
                    out["status"]["resourceRules"].append({"verbs": r.get("verbs", []), "apiGroups": r.get("apiGroups", []),
                                                           "resources": r.get("resources", [])})
        return self.send_json(201, out)

    # --- watch ---
    def watch(self, res, ns):
        st = self.st
        lsel = parse_label_selector(self.params.get("labelSelector"))
        fsel = parse_field_selector(self.params.get("fieldSelector"))
        timeout = float(self.params.get("timeoutSeconds") or 1800)
        deadline = time.time() + min(timeout, 3600)
        rv = self.params.get("resourceVersion") or ""
        send_initial = self.params.get("sendInitialEvents") == "true"

        def match(obj, r_group, r_plural, r_ns):
            if r_group != res.group or r_plural != res.plural:
                return False
            if ns and r_ns != ns:
                return False
            return labels_match(lsel, (obj.get("metadata") or {}).get("labels")) and fields_match(fsel, obj)

        with st.lock:
            initial = []
            if rv in ("", "0") or send_initial:
                for (g, p, n, _), obj in sorted(st.objects.items()):
                    if match(obj, g, p, n):
                        initial.append(obj)
                last = st.rv
            else:
                try:
                    last = int(rv)
                except ValueError:
                    raise bad_request("invalid resource version: %s" % rv)
                oldest = st.events[0][0] if st.events else st.rv
                if last < oldest - 1 and st.events:
                    raise ApiError(410, "Expired", "too old resource version: %d (%d)" % (last, oldest - 1), {})
        self.status_code = 200
        self.send_response(200)
        self.send_header("Content-Type", MEDIA_JSON)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.streamed = True

        def emit(etype, obj):
            data = (json.dumps({"type": etype, "object": obj}, separators=(",", ":")) + "\n").encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        try:
            for obj in initial:
                emit("ADDED", self.versioned(obj, res))
            if send_initial:
                emit("BOOKMARK", {"kind": res.kind, "apiVersion": res.group_version,
                                  "metadata": {"resourceVersion": str(last),
                                               "annotations": {"k8s.io/initial-events-end": "true"}}})
            while time.time() < deadline and not st.stopping:
                with st.lock:
                    pending = [e for e in st.events if e[0] > last]
                    if not pending:
                        st.cond.wait(timeout=min(1.0, max(0.01, deadline - time.time())))
                        pending = [e for e in st.events if e[0] > last]
                for erv, etype, g, p, n, obj in pending:
                    last = max(last, erv)
                    if match(obj, g, p, n):
                        emit(etype, self.versioned(obj, res))
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True


def version_priority(v):
    """Kubernetes' version ordering: GA > beta > alpha, higher numbers first."""
    m = re.match(r"^v(\d+)(?:(alpha|beta)(\d+))?$", v)
    if not m:
        return (3, 0, 0, v)
    major = int(m.group(1))
    stage = {"": 0, None: 0, "beta": 1, "alpha": 2}[m.group(2)]
    minor = int(m.group(3) or 0)
    return (stage, -major, -minor, v)


BUILTIN_GROUP_ORDER = ["apps", "events.k8s.io", "authentication.k8s.io", "authorization.k8s.io", "autoscaling",
                       "batch", "networking.k8s.io", "policy", "apiextensions.k8s.io"]


def group_order(g):
    if g in BUILTIN_GROUP_ORDER:
        return (0, BUILTIN_GROUP_ORDER.index(g), g)
    return (1, 0, g)


# ---------------------------------------------------------------------------------------------------
# the API machinery: create / update / patch / apply / delete

class Ops:
    def __init__(self, st, res, handler):
        self.st, self.res, self.h = st, res, handler
        self.params = handler.params
        self.dry_run = handler.params.get("dryRun") == "All"
        dr = handler.params.get("dryRun")
        if dr not in (None, "", "All"):
            raise invalid(None, "", [("dryRun", "FieldValueNotSupported",
                                      'Unsupported value: []string{"%s"}: supported values: "All"' % dr)],
                          kind="PatchOptions.meta.k8s.io")
        fv = handler.params.get("fieldValidation") or "Warn"
        if fv not in ("Ignore", "Warn", "Strict"):
            raise bad_request('fieldValidation: Unsupported value: "%s": supported values: "Ignore", "Strict", "Warn"' % fv)
        self.field_validation = fv
        self.schema = st.schema_of(res)
        self.builtin = res.crd is None

    # helpers
    def key(self, ns, name):
        return (self.res.group, self.res.plural, ns if self.res.namespaced else "", name)

    def manager(self, default_op):
        fm = self.params.get("fieldManager")
        if fm is None or fm == "":
            ua = self.h.headers.get("User-Agent") or ""
            fm = "".join(ch for ch in ua.split("/")[0] if ch.isprintable())
        if len(fm) > 128:
            raise invalid(None, "", [("fieldManager", "FieldValueTooLong",
                                      "Too long: may not be longer than 128")], kind="PatchOptions.meta.k8s.io")
        return fm

    def get(self, ns, name):
        with self.st.lock:
            obj = self.st.objects.get(self.key(ns, name))
            if obj is None:
                raise not_found(self.res, name)
            return copy.deepcopy(obj)

    def list(self, ns):
        lsel = parse_label_selector(self.params.get("labelSelector"))
        fsel = parse_field_selector(self.params.get("fieldSelector"))
        with self.st.lock:
            out = []
            for (g, p, n, _), obj in sorted(self.st.objects.items()):
                if g != self.res.group or p != self.res.plural:
                    continue
                if ns and n != ns:
                    continue
                if not labels_match(lsel, (obj.get("metadata") or {}).get("labels")) or not fields_match(fsel, obj):
                    continue
                out.append(copy.deepcopy(obj))
            return out, self.st.rv

    # decoding and validation of a written object
    def check_type(self, body, for_apply=False):
        if not isinstance(body, dict):
            raise bad_request("the body of the request was not a JSON object")
        av, kind = body.get("apiVersion"), body.get("kind")
        if not av or not kind:
            if for_apply or not kind:
                raise bad_request("Object 'Kind' is missing in '%s'" % json.dumps(body, separators=(",", ":"))[:200]
                                  if not kind else "Object 'apiVersion' is missing")
        if kind != self.res.kind or av not in (self.res.group_version,):
            if self.res.crd is not None and kind == self.res.kind and av and av.startswith(self.res.group + "/"):
                pass
            else:
                raise bad_request("the API version in the data (%s) does not match the expected API version (%s)" % (
                    av, self.res.group_version) if kind == self.res.kind else
                    "%s in version \"%s\" cannot be handled as a %s: no kind \"%s\" is registered for version \"%s\"" % (
                        self.res.kind, self.res.version, self.res.kind, kind, av))

    def validate_fields(self, body, for_apply=False, namespace="", name=""):
        f = Findings()
        cleaned = check(self.st.types, body, self.schema, f, prune_unknown=(self.field_validation != "Strict" and not for_apply),
                        builtin=self.builtin)
        if for_apply and (f.unknown or f.decode):
            msgs = ["%s: field not declared in schema" % ("." + u if not u.startswith(".") else u) for u in f.unknown]
            msgs += f.decode
            where = "%s/%s" % (namespace, name) if namespace else "/" + name
            joined = msgs[0] if len(msgs) == 1 else "errors:\n  " + "\n  ".join(msgs)
            raise bad_request("failed to create typed patch object (%s; %s, Kind=%s): %s" % (
                where, self.res.group_version, self.res.kind, joined))
        if f.decode:
            raise bad_request('%s in version "%s" cannot be handled as a %s: %s' % (
                self.res.kind, self.res.version, self.res.kind, f.decode[0]))
        if f.unknown:
            if self.field_validation == "Strict":
                raise bad_request('%s in version "%s" cannot be handled as a %s: strict decoding error: %s' % (
                    self.res.kind, self.res.version, self.res.kind,
                    ", ".join('unknown field "%s"' % u for u in f.unknown)))
            if self.field_validation == "Warn":
                self.h.warnings.extend('unknown field "%s"' % u for u in f.unknown)
        return cleaned, f.invalid

    def validate_object(self, obj, old, schema_errors):
        """Checks the API server's validation makes (a subset), raising 422 Invalid."""
        res = self.res
        md = obj.get("metadata") or {}
        name = md.get("name", "")
        errs = list(schema_errors)
        if not name:
            errs.append(("metadata.name", "FieldValueRequired", "Required value: name or generateName is required"))
        elif res.plural == "namespaces":
            if not DNS1123_LABEL.match(name) or len(name) > 63:
                errs.append(("metadata.name", "FieldValueInvalid", 'Invalid value: "%s": %s' % (name, LABEL_MSG)))
        elif res.plural == "services":
            if not DNS1035_LABEL.match(name) or len(name) > 63:
                errs.append(("metadata.name", "FieldValueInvalid", 'Invalid value: "%s": %s' % (name, DNS1035_MSG)))
        elif not DNS1123_SUBDOMAIN.match(name) or len(name) > 253:
            errs.append(("metadata.name", "FieldValueInvalid", 'Invalid value: "%s": %s' % (name, SUBDOMAIN_MSG)))
        for k, v in (md.get("labels") or {}).items():
            prefix, _, short = k.rpartition("/")
            if not QUALIFIED_NAME.match(short) or len(short) > 63 or (prefix and not DNS1123_SUBDOMAIN.match(prefix)):
                errs.append(("metadata.labels", "FieldValueInvalid",
                             'Invalid value: "%s": name part must consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character' % k))
            if not isinstance(v, str) or not LABEL_VALUE.match(v) or len(v) > 63:
                errs.append(("metadata.labels", "FieldValueInvalid",
                             "Invalid value: \"%s\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')" % v))
        if old is not None and (old["metadata"].get("deletionTimestamp")):
            new_f = set(md.get("finalizers") or []) - set(old["metadata"].get("finalizers") or [])
            if new_f:
                errs.append(("metadata.finalizers", "FieldValueForbidden",
                             "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers %s" %
                             json.dumps(sorted(new_f))))
        spec = obj.get("spec") or {}
        g, kind = res.group, res.kind
        if g == "apps" and kind in ("StatefulSet", "Deployment"):
            sel = (spec.get("selector") or {}).get("matchLabels") or {}
            tl = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
            if not sel and not (spec.get("selector") or {}).get("matchExpressions"):
                errs.append(("spec.selector", "FieldValueInvalid", "Invalid value: \"null\": empty selector is invalid for %s" %
                             ("statefulset" if kind == "StatefulSet" else "deployment")))
            elif any(tl.get(k) != v for k, v in sel.items()):
                errs.append(("spec.template.metadata.labels", "FieldValueInvalid",
                             "Invalid value: %s: `selector` does not match template `labels`" % go_map(tl)))
            if isinstance(spec.get("replicas"), int) and spec["replicas"] < 0:
                errs.append(("spec.replicas", "FieldValueInvalid", "Invalid value: %d: must be greater than or equal to 0" % spec["replicas"]))
            if old is not None and kind == "StatefulSet":
                allowed_keys = {"replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"}
                os_ = {k: v for k, v in (old.get("spec") or {}).items() if k not in allowed_keys}
                ns_ = {k: v for k, v in spec.items() if k not in allowed_keys}
                if os_ != ns_:
                    errs.append(("spec", "FieldValueForbidden",
                                 "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"))
            if old is not None and kind == "Deployment" and (old.get("spec") or {}).get("selector") != spec.get("selector"):
                errs.append(("spec.selector", "FieldValueInvalid", "Invalid value: %s: field is immutable" %
                             json.dumps(spec.get("selector"))))
        if g == "" and kind in ("ConfigMap", "Secret") and old is not None and old.get("immutable"):
            for f in ("data", "binaryData", "stringData"):
                if old.get(f) != obj.get(f) and f != "stringData":
                    errs.append((f, "FieldValueForbidden", "Forbidden: field is immutable when `immutable` is set"))
            if not obj.get("immutable"):
                errs.append(("immutable", "FieldValueForbidden", "Forbidden: field is immutable when `immutable` is set"))
        if g == "" and kind == "Service" and old is not None:
            oc = (old.get("spec") or {}).get("clusterIP")
            if oc and spec.get("clusterIP") not in (oc, None, "") and spec.get("type") == (old.get("spec") or {}).get("type"):
                errs.append(("spec.clusterIPs[0]", "FieldValueInvalid", 'Invalid value: []string{"%s"}: may not change once set' % spec.get("clusterIP")))
        if g == "" and kind == "PersistentVolumeClaim" and old is not None:
            def strip_req(s):
                s = copy.deepcopy(s or {})
                (s.get("resources") or {}).pop("requests", None)
                s.pop("volumeAttributesClassName", None)
                return s
            if strip_req(old.get("spec")) != strip_req(spec):
                errs.append(("spec", "FieldValueForbidden", "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"))
        if g == "" and kind == "Pod" and old is not None:
            def mutable_off(s):
                s = copy.deepcopy(s or {})
                for c in (s.get("containers") or []) + (s.get("initContainers") or []):
                    c.pop("image", None)
                s.pop("activeDeadlineSeconds", None)
                s.pop("tolerations", None)
                s.pop("terminationGracePeriodSeconds", None)
                return s
            if mutable_off(old.get("spec")) != mutable_off(spec):
                errs.append(("spec", "FieldValueForbidden", "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"))
        if g == "batch" and kind == "Job" and old is not None:
            if (old.get("spec") or {}).get("template") != spec.get("template"):
                errs.append(("spec.template", "FieldValueInvalid", "Invalid value: ...: field is immutable"))
        if g == "apiextensions.k8s.io":
            errs += self.validate_crd(obj, old)
        if res.crd is not None:
            errs += crd_validate(obj, self.version_schema())
        if errs:
            raise invalid(res, name, errs)

    def version_schema(self):
        for v in self.res.crd["spec"].get("versions") or []:
            if v.get("name") == self.res.version:
                return (v.get("schema") or {}).get("openAPIV3Schema")
        return None

    def validate_crd(self, obj, old):
        errs = []
        spec = obj.get("spec") or {}
        names = spec.get("names") or {}
        group = spec.get("group", "")
        name = (obj.get("metadata") or {}).get("name", "")
        if not group:
            errs.append(("spec.group", "FieldValueRequired", "Required value"))
        if not names.get("plural"):
            errs.append(("spec.names.plural", "FieldValueRequired", "Required value"))
        if not names.get("kind"):
            errs.append(("spec.names.kind", "FieldValueRequired", "Required value"))
        if names.get("plural") and group and name != "%s.%s" % (names["plural"], group):
            errs.append(("metadata.name", "FieldValueInvalid",
                         'Invalid value: "%s": must be spec.names.plural+"."+spec.group' % name))
        if spec.get("scope") not in ("Namespaced", "Cluster"):
            errs.append(("spec.scope", "FieldValueNotSupported",
                         'Unsupported value: "%s": supported values: "Cluster", "Namespaced"' % spec.get("scope", "")))
        versions = spec.get("versions") or []
        if not versions:
            errs.append(("spec.versions", "FieldValueInvalid", "Invalid value: null: must have exactly one version marked as storage version"))
        elif sum(1 for v in versions if v.get("storage")) != 1:
            errs.append(("spec.versions", "FieldValueInvalid",
                         "Invalid value: %s: must have exactly one version marked as storage version" %
                         go_list([v.get("name") for v in versions])))
        for i, v in enumerate(versions):
            if not ((v.get("schema") or {}).get("openAPIV3Schema")):
                errs.append(("spec.versions[%d].schema.openAPIV3Schema" % i, "FieldValueRequired", "Required value: schemas are required"))
        if old is not None:
            if (old.get("spec") or {}).get("scope") != spec.get("scope"):
                errs.append(("spec.scope", "FieldValueInvalid", 'Invalid value: "%s": field is immutable' % spec.get("scope")))
            if (old.get("spec") or {}).get("group") != spec.get("group"):
                errs.append(("spec.group", "FieldValueInvalid", 'Invalid value: "%s": field is immutable' % spec.get("group")))
        return errs

    def normalize(self, obj):
        """What the API server does to every stored object of some kinds: defaults, derived fields."""
        res = self.res
        if res.crd is not None:
            apply_crd_defaults(self.st.types, obj, self.schema)
        else:
            kube_defaults.apply_defaults(res.group, res.kind, obj, self.st.allocate_ip)
        if res.group == "" and res.kind == "Secret" and obj.get("stringData"):
            data = obj.setdefault("data", {})
            for k, v in obj.pop("stringData").items():
                data[k] = base64.b64encode(str(v).encode()).decode()
        if res.group == "" and res.kind == "Namespace":
            obj.setdefault("metadata", {}).setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
        if res.group == "apiextensions.k8s.io":
            names = obj["spec"].setdefault("names", {})
            if names.get("kind"):
                names.setdefault("listKind", names["kind"] + "List")
                names.setdefault("singular", names["kind"].lower())
        return obj

    def has_status(self):
        return "status" in self.res.subresources

    def spec_of(self, obj):
        return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}

    def entry(self, operation, subresource=""):
        e = {"manager": self.manager(operation), "operation": operation, "apiVersion": self.res.group_version}
        if subresource:
            e["subresource"] = subresource
        return e

    def namespace_usable(self, ns):
        if not self.res.namespaced:
            return
        nso = self.st.objects.get(("", "namespaces", "", ns))
        if nso is None:
            raise namespace_not_found(ns)
        if nso["metadata"].get("deletionTimestamp"):
            raise ApiError(403, "Forbidden",
                           "%s \"%s\" is forbidden: unable to create new content in namespace %s because it is being terminated" % (
                               self.res.qualified, self._pending_name, ns),
                           {"name": self._pending_name, "group": self.res.group, "kind": self.res.plural,
                            "causes": [{"reason": "NamespaceTerminating", "message": "namespace %s is being terminated" % ns,
                                        "field": "metadata.namespace"}]} if self.res.group else
                           {"name": self._pending_name, "kind": self.res.plural,
                            "causes": [{"reason": "NamespaceTerminating", "message": "namespace %s is being terminated" % ns,
                                        "field": "metadata.namespace"}]})

    # --- create ---
    def create(self, ns, body, managers_override=None):
        self.check_type(body)
        md = body.setdefault("metadata", {}) if isinstance(body.get("metadata"), dict) or body.get("metadata") is None else None
        if md is None:
            raise bad_request("metadata must be an object")
        if body.get("metadata") is None:
            body["metadata"] = md = {}
        bns = md.get("namespace")
        if self.res.namespaced:
            if bns and bns != ns:
                raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
            md["namespace"] = ns
        else:
            md.pop("namespace", None)
        if not md.get("name") and md.get("generateName"):
            md["name"] = md["generateName"] + "".join(secrets.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
        cleaned, schema_errs = self.validate_fields(body)
        with self.st.lock:
            self._pending_name = cleaned["metadata"].get("name", "")
            self.namespace_usable(ns)
            return self._create_locked(ns, cleaned, schema_errs, managers_override)

    def _create_locked(self, ns, obj, schema_errs, managers_override=None, apply_managers=None):
        st, res = self.st, self.res
        md = obj["metadata"]
        name = md.get("name", "")
        if name and self.key(ns, name) in st.objects:
            raise already_exists(res, name)
        if self.has_status():
            init = kube_defaults.initial_status(res.group, res.kind, obj)
            if init is None:
                obj.pop("status", None)
            else:
                obj["status"] = init
        self.normalize(obj)
        self.validate_object(obj, None, schema_errs)
        for k in ("uid", "resourceVersion", "generation", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            md.pop(k, None)
        md["uid"] = str(uuid.uuid4())
        md["creationTimestamp"] = now_rfc3339()
        if res.generation:
            md["generation"] = 1
        if res.group == "apiextensions.k8s.io" and res.plural == "customresourcedefinitions":
            fins = md.setdefault("finalizers", [])
            if "customresourcecleanup.apiextensions.k8s.io" not in fins:
                fins.append("customresourcecleanup.apiextensions.k8s.io")
        t = now_rfc3339()
        if apply_managers is not None:
            managers = apply_managers
            for m, _ in managers:
                m["time"] = t
        elif managers_override:
            managers = managers_override
        else:
            incoming = kube_fields.load_managers(obj)
            if incoming:
                managers = incoming
            else:
                managers = kube_fields.update_managers(st.types, self.schema, None, obj, [],
                                                       self.entry("Update"), t, self.has_status())
        md.pop("managedFields", None)
        if managers:
            md["managedFields"] = kube_fields.store_managers(managers)
        if self.dry_run:
            return obj
        md["resourceVersion"] = str(st.next_rv())
        st.objects[self.key(ns, name)] = obj
        st.record("ADDED", res, obj)
        if res.group == "apiextensions.k8s.io":
            st.crd_pending = True
        return copy.deepcopy(obj)

    # --- update (PUT) ---
    def update(self, ns, name, body, sub=""):
        self.check_type(body)
        md = body.get("metadata") or {}
        if md.get("name") and md["name"] != name:
            raise bad_request("the name of the object (%s) does not match the name on the URL (%s)" % (md["name"], name))
        if self.res.namespaced and md.get("namespace") and md["namespace"] != ns:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        cleaned, schema_errs = self.validate_fields(body)
        with self.st.lock:
            old = self.st.objects.get(self.key(ns, name))
            if old is None:
                raise not_found(self.res, name)
            rv = (cleaned.get("metadata") or {}).get("resourceVersion")
            if rv and rv != old["metadata"].get("resourceVersion"):
                raise conflict(self.res, name)
            return self._update_locked(ns, name, old, cleaned, schema_errs, sub, "Update")

    def _update_locked(self, ns, name, old, new, schema_errs, sub, operation, apply_managers=None):
        st, res = self.st, self.res
        old = copy.deepcopy(old)
        new = copy.deepcopy(new)
        new.setdefault("metadata", {})
        if sub == "status":
            candidate = copy.deepcopy(old)
            if "status" in new:
                candidate["status"] = new["status"]
            else:
                candidate.pop("status", None)
            new = candidate
        elif self.has_status():
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        md, omd = new["metadata"], old["metadata"]
        md["name"] = name
        if res.namespaced:
            md["namespace"] = ns
        for k in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"):
            if k in omd:
                md[k] = omd[k]
            else:
                md.pop(k, None)
        md["resourceVersion"] = omd.get("resourceVersion")
        self.normalize(new)
        self.validate_object(new, old, schema_errs)
        t = now_rfc3339()
        if apply_managers is not None:
            managers = apply_managers
        else:
            base = kube_fields.load_managers(old)
            incoming = new["metadata"].get("managedFields")
            if incoming and incoming != omd.get("managedFields"):
                base = kube_fields.load_managers(new)
            managers = kube_fields.update_managers(st.types, self.schema, old, new, base,
                                                   self.entry(operation, sub), t, self.has_status(), sub)
        md.pop("managedFields", None)
        if managers:
            md["managedFields"] = kube_fields.store_managers(managers)
        if res.generation and self.spec_of(old) != self.spec_of(new):
            md["generation"] = int(omd.get("generation") or 1) + 1
        if new == old:
            return 200, old
        if not kube_fields_changed(old, new):
            # only managedFields times moved: not a change
            return 200, old
        if self.dry_run:
            return 200, new
        md["resourceVersion"] = str(st.next_rv())
        if md.get("deletionTimestamp") and not md.get("finalizers") and not self.namespace_finalizers(new):
            st.objects.pop(self.key(ns, name), None)
            st.record("DELETED", res, new)
            self.after_delete(new)
            return 200, new
        st.objects[self.key(ns, name)] = new
        st.record("MODIFIED", res, new)
        if res.group == "apiextensions.k8s.io":
            st.crd_pending = True
            if "status" in (new or {}) and new.get("status") != old.get("status"):
                st.refresh_crds()
        return 200, copy.deepcopy(new)

    def namespace_finalizers(self, obj):
        if self.res.plural == "namespaces":
            return (obj.get("spec") or {}).get("finalizers") or []
        return []

    # --- patch ---
    def patch(self, ns, name, ctype, raw, sub=""):
        if ctype == "application/apply-patch+yaml":
            return self.apply(ns, name, raw, sub)
        if self.params.get("force") is not None:
            raise invalid(None, "", [("force", "FieldValueForbidden", "Forbidden: may not be specified for non-apply patch")],
                          kind="PatchOptions.meta.k8s.io")
        if ctype not in ("application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"):
            raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: "
                           "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml" +
                           (", application/strategic-merge-patch+json" if self.builtin else ""), {})
        if ctype == "application/strategic-merge-patch+json" and not self.builtin:
            raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: "
                           "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml", {})
        try:
            patch = json.loads(raw.decode() or "null")
        except ValueError as e:
            raise bad_request("error decoding patch: %s" % e)
        with self.st.lock:
            old = self.st.objects.get(self.key(ns, name))
            if old is None:
                raise not_found(self.res, name)
            new = self.apply_patch(old, ctype, patch, name)
            md = new.get("metadata") or {}
            if md.get("name", name) != name:
                raise bad_request("the name of the object (%s) does not match the name on the URL (%s)" % (md.get("name"), name))
            rv = md.get("resourceVersion")
            if rv and rv != old["metadata"].get("resourceVersion"):
                raise conflict(self.res, name)
            self.check_type(new)
            cleaned, schema_errs = self.validate_fields(new)
            return self._update_locked(ns, name, old, cleaned, schema_errs, sub, "Update")

    def apply_patch(self, old, ctype, patch, name):
        try:
            if ctype == "application/json-patch+json":
                return kube_patch.json_patch(old, patch)
            if ctype == "application/merge-patch+json":
                if not isinstance(patch, dict):
                    raise bad_request("error decoding patch: the patch is not a JSON object")
                return kube_patch.merge_patch(old, patch)
            if not isinstance(patch, dict):
                raise bad_request("error decoding patch: the patch is not a JSON object")
            return kube_patch.strategic_merge(self.st.types, old, patch, self.schema)
        except kube_patch.PatchError as e:
            raise ApiError(422, "Invalid", "the server rejected our request due to an error in our request: %s" % e,
                           dict({"name": name, "kind": self.res.plural}, **({"group": self.res.group} if self.res.group else {})))

    # --- server-side apply ---
    def apply(self, ns, name, raw, sub=""):
        fm = self.params.get("fieldManager")
        if not fm:
            raise invalid(None, "", [("fieldManager", "FieldValueRequired", "Required value: is required for apply patch")],
                          kind="PatchOptions.meta.k8s.io")
        force = self.params.get("force") in ("true", "1")
        try:
            config = yaml.safe_load(raw.decode())
        except (yaml.YAMLError, UnicodeDecodeError) as e:
            raise bad_request("error decoding YAML: %s" % e)
        if not isinstance(config, dict):
            raise bad_request("error decoding YAML: the applied configuration is not an object")
        self.check_type(config, for_apply=True)
        md = config.get("metadata") or {}
        if md.get("name") != name:
            raise bad_request("the name of the object (%s) does not match the name on the URL (%s)" % (md.get("name", ""), name))
        if self.res.namespaced and md.get("namespace") and md["namespace"] != ns:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        if md.get("managedFields") is not None:
            raise bad_request("metadata.managedFields must be nil")
        # a configuration may be partial: required fields are checked on the merged object below
        cleaned, _ = self.validate_fields(config, for_apply=True, namespace=ns if self.res.namespaced else "", name=name)
        cleaned.setdefault("metadata", {})
        if self.res.namespaced:
            cleaned["metadata"]["namespace"] = ns
        entry = self.entry("Apply", sub)
        entry.pop("apiVersion", None)
        entry["apiVersion"] = self.res.group_version
        with self.st.lock:
            old = self.st.objects.get(self.key(ns, name))
            if old is None and sub:
                raise not_found(self.res, name)
            want_rv = cleaned["metadata"].pop("resourceVersion", None)
            if want_rv and (old is None or want_rv != old["metadata"].get("resourceVersion")):
                raise conflict(self.res, name)
            live = copy.deepcopy(old) if old is not None else {}
            managers = kube_fields.load_managers(live) if old is not None else []
            live_cmp = copy.deepcopy(live)
            if live_cmp:
                live_cmp["metadata"].pop("managedFields", None)
            cfg = copy.deepcopy(cleaned)
            cfg["metadata"].pop("managedFields", None)
            try:
                merged, managers = kube_fields.apply(self.st.types, self.schema, live_cmp, cfg, managers, entry,
                                                     now_rfc3339(), force, self.has_status(), sub)
            except kube_fields.Conflict as c:
                raise ApiError(409, "Conflict", str(c), {"causes": [
                    {"reason": "FieldManagerConflict", "message": "conflict with %s" % kube_fields.print_manager(e),
                     "field": kube_fields.path_string(p)} for e, p in c.conflicts]})
            except kube_fields.FieldError as e:
                where = "%s/%s" % (ns, name) if ns else "/" + name
                raise bad_request("failed to create typed patch object (%s; %s, Kind=%s): %s" % (
                    where, self.res.group_version, self.res.kind, e))
            f = Findings()
            check(self.st.types, merged, self.schema, f, prune_unknown=False, builtin=self.builtin)
            schema_errs = f.invalid
            if old is None:
                self._pending_name = name
                self.namespace_usable(ns)
                merged.setdefault("metadata", {})["name"] = name
                return 201, self._create_locked(ns, merged, schema_errs, apply_managers=managers)
            return self._update_locked(ns, name, old, merged, schema_errs, sub, "Apply", apply_managers=managers)

    # --- scale ---
    def scale_of(self, obj):
        res = self.res
        md = obj["metadata"]
        replicas = get_path(obj, res.scale_paths["spec"])
        sreplicas = get_path(obj, res.scale_paths["status"])
        if res.crd is None:
            selector = selector_string((obj.get("spec") or {}).get("selector"))
        else:
            selector = get_path(obj, res.scale_paths["selector"]) if res.scale_paths.get("selector") else None
        out = {"kind": "Scale", "apiVersion": "autoscaling/v1",
               "metadata": {"name": md["name"], "namespace": md.get("namespace"), "uid": md["uid"],
                            "resourceVersion": md["resourceVersion"], "creationTimestamp": md["creationTimestamp"]},
               "spec": {"replicas": replicas or 0} if replicas is not None or res.crd is None else {},
               "status": {"replicas": sreplicas or 0}}
        if selector:
            out["status"]["selector"] = selector
        return out

    def update_scale(self, ns, name, body):
        if not isinstance(body, dict) or body.get("kind") != "Scale":
            raise bad_request("the body of the request was not a Scale")
        with self.st.lock:
            old = self.st.objects.get(self.key(ns, name))
            if old is None:
                raise not_found(self.res, name)
            rv = (body.get("metadata") or {}).get("resourceVersion")
            if rv and rv != old["metadata"]["resourceVersion"]:
                raise conflict(self.res, name)
            return self._scale_to(ns, name, old, body)

    def patch_scale(self, ns, name, ctype, raw):
        if ctype == "application/apply-patch+yaml":
            raise ApiError(415, "UnsupportedMediaType", "the stand-in does not model server-side apply to the scale subresource", {})
        try:
            patch = json.loads(raw.decode() or "null")
        except ValueError as e:
            raise bad_request("error decoding patch: %s" % e)
        with self.st.lock:
            old = self.st.objects.get(self.key(ns, name))
            if old is None:
                raise not_found(self.res, name)
            current = self.scale_of(old)
            if ctype == "application/json-patch+json":
                new = kube_patch.json_patch(current, patch)
            elif ctype in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
                new = kube_patch.merge_patch(current, patch)
            else:
                raise ApiError(415, "UnsupportedMediaType", "unsupported patch type %s" % ctype, {})
            rv = (new.get("metadata") or {}).get("resourceVersion")
            if rv and rv != old["metadata"]["resourceVersion"]:
                raise conflict(self.res, name)
            return self._scale_to(ns, name, old, new)

    def _scale_to(self, ns, name, old, scale):
        replicas = (scale.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise invalid(None, name, [("spec.replicas", "FieldValueInvalid",
                                        "Invalid value: %s: must be greater than or equal to 0" % json.dumps(replicas))],
                          kind="Scale.autoscaling")
        new = copy.deepcopy(old)
        set_path(new, self.res.scale_paths["spec"], replicas)
        new["metadata"].pop("resourceVersion", None)
        code, obj = self._update_locked(ns, name, old, new, [], "scale", "Update")
        return self.scale_of(obj if obj.get("metadata", {}).get("resourceVersion") else old)

    # --- delete ---
    def delete(self, ns, name, opts):
        policy = opts.get("propagationPolicy") or self.params.get("propagationPolicy")
        if opts.get("orphanDependents") is True:
            policy = policy or "Orphan"
        if policy not in (None, "Foreground", "Background", "Orphan"):
            raise invalid(None, "", [("propagationPolicy", "FieldValueNotSupported",
                                      'Unsupported value: "%s": supported values: "Foreground", "Background", "Orphan"' % policy)],
                          kind="DeleteOptions.meta.k8s.io")
        dry = self.dry_run or "All" in (opts.get("dryRun") or [])
        pre = opts.get("preconditions") or {}
        with self.st.lock:
            obj = self.st.objects.get(self.key(ns, name))
            if obj is None:
                raise not_found(self.res, name)
            if pre.get("uid") and pre["uid"] != obj["metadata"]["uid"]:
                raise conflict(self.res, name, "Precondition failed: UID in precondition: %s, UID in object meta: %s" % (
                    pre["uid"], obj["metadata"]["uid"]))
            if pre.get("resourceVersion") and pre["resourceVersion"] != obj["metadata"]["resourceVersion"]:
                raise conflict(self.res, name, "Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in object meta: %s" % (
                    pre["resourceVersion"], obj["metadata"]["resourceVersion"]))
            return self._delete_locked(ns, name, obj, policy, dry)

    def _delete_locked(self, ns, name, obj, policy, dry=False):
        st, res = self.st, self.res
        obj = copy.deepcopy(obj)
        md = obj["metadata"]
        fins = list(md.get("finalizers") or [])
        if policy == "Foreground" and "foregroundDeletion" not in fins:
            fins.append("foregroundDeletion")
        if policy == "Orphan" and "orphan" not in fins:
            fins.append("orphan")
        if res.plural == "namespaces":
            graceful = True
        else:
            graceful = bool(fins)
        if not graceful:
            if dry:
                return 200, obj
            st.objects.pop(self.key(ns, name), None)
            md["resourceVersion"] = str(st.next_rv())
            st.record("DELETED", res, obj)
            self.after_delete(obj)
            if res.plural == "pods":
                return 200, obj
            return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                         "details": dict({"name": name, "kind": res.plural, "uid": md["uid"]},
                                         **({"group": res.group} if res.group else {}))}
        changed = False
        if md.get("finalizers") != fins:
            md["finalizers"] = fins
            changed = True
        if not md.get("deletionTimestamp"):
            md["deletionTimestamp"] = now_rfc3339()
            md["deletionGracePeriodSeconds"] = 0
            if res.generation:
                md["generation"] = int(md.get("generation") or 1) + 1
            if res.plural == "namespaces":
                obj.setdefault("status", {})["phase"] = "Terminating"
            changed = True
        if dry:
            return 200, obj
        if changed:
            md["resourceVersion"] = str(st.next_rv())
            st.objects[self.key(ns, name)] = obj
            st.record("MODIFIED", res, obj)
        code = 202 if policy == "Foreground" and self.params.get("orphanDependents") == "false" else 200
        return code, copy.deepcopy(obj)

    def after_delete(self, obj):
        if self.res.group == "apiextensions.k8s.io" and self.res.plural == "customresourcedefinitions":
            self.st.refresh_crds()

    def delete_collection(self, ns, opts):
        items, _ = self.list(ns)
        out = []
        policy = opts.get("propagationPolicy") or self.params.get("propagationPolicy")
        with self.st.lock:
            for o in items:
                md = o["metadata"]
                cur = self.st.objects.get(self.key(md.get("namespace", ""), md["name"]))
                if cur is None:
                    continue
                _, r = self._delete_locked(md.get("namespace", ""), md["name"], cur, policy, self.dry_run)
                out.append(cur)
        return out


def kube_fields_changed(old, new):
    a = copy.deepcopy(old)
    b = copy.deepcopy(new)
    for o in (a, b):
        o["metadata"].pop("resourceVersion", None)
        for e in o["metadata"].get("managedFields") or []:
            e.pop("time", None)
    return a != b


def go_map(d):
    return "map[string]string{" + ", ".join('"%s":"%s"' % (k, v) for k, v in sorted(d.items())) + "}"


def go_list(items):
    return "[]string{" + ", ".join('"%s"' % x for x in items) + "}"


# ---------------------------------------------------------------------------------------------------
# the controllers the API machinery itself needs (no workload controllers)

class Controllers(threading.Thread):
    def __init__(self, state, crd_delay, gc_delay):
        super().__init__(daemon=True)
        self.st, self.crd_delay, self.gc_delay = state, crd_delay, gc_delay

    def run(self):
        while not self.st.stopping:
            time.sleep(min(self.gc_delay, 0.1) if self.gc_delay > 0 else 0.05)
            try:
                with self.st.lock:
                    self.crds()
                    self.gc()
            except Exception:
                log("controller error:\n" + traceback.format_exc())

    def res(self, group, plural):
        for r in self.st.resources():
            if r.group == group and r.plural == plural:
                return r
        return None

    def write(self, key, new, etype="MODIFIED"):
        st = self.st
        res = self.res(key[0], key[1])
        new["metadata"]["resourceVersion"] = str(st.next_rv())
        md = new["metadata"]
        ns_fins = (new.get("spec") or {}).get("finalizers") if key[1] == "namespaces" else None
        if md.get("deletionTimestamp") and not md.get("finalizers") and not ns_fins:
            st.objects.pop(key, None)
            st.record("DELETED", res, new)
            if key[1] == "customresourcedefinitions":
                st.refresh_crds()
            return
        st.objects[key] = new
        st.record(etype, res, new)

    def crds(self):
        st = self.st
        now = time.time()
        for key, crd in list(st.objects.items()):
            if key[1] != "customresourcedefinitions" or key[0] != "apiextensions.k8s.io":
                continue
            status = crd.get("status") or {}
            conds = {c.get("type"): c for c in status.get("conditions") or []}
            created = crd["metadata"].get("_created") or parse_time(crd["metadata"]["creationTimestamp"])
            if crd["metadata"].get("deletionTimestamp"):
                self.crd_cleanup(key, crd)
                continue
            names = crd["spec"].get("names") or {}
            accepted = dict(names)
            want_versions = [v["name"] for v in crd["spec"].get("versions") or [] if v.get("storage")]
            if "Established" in conds and conds["Established"].get("status") == "True" and status.get("acceptedNames") == accepted \
                    and set(want_versions) <= set(status.get("storedVersions") or []):
                continue
            if "Established" not in conds and now - self.first_seen(crd) < self.crd_delay:
                continue
            new = copy.deepcopy(crd)
            t = now_rfc3339()
            cl = []
            for typ, reason, msg in (("NamesAccepted", "NoConflicts", "no conflicts found"),
                                     ("Established", "InitialNamesAccepted", "the initial names have been accepted")):
                old = conds.get(typ)
                cl.append({"type": typ, "status": "True", "reason": reason, "message": msg,
                           "lastTransitionTime": old.get("lastTransitionTime") if old and old.get("status") == "True" else t})
            new["status"] = {"conditions": cl, "acceptedNames": accepted,
                             "storedVersions": sorted(set((status.get("storedVersions") or []) + want_versions))}
            managers = kube_fields.load_managers(crd)
            managers = kube_fields.update_managers(st.types, st.types.of_kind("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
                                                   crd, new, managers,
                                                   {"manager": "kube-apiserver", "operation": "Update",
                                                    "apiVersion": "apiextensions.k8s.io/v1", "subresource": "status"},
                                                   t, True, "status")
            new["metadata"]["managedFields"] = kube_fields.store_managers(managers)
            self.write(key, new)
            st.refresh_crds()

    def first_seen(self, crd):
        uid = crd["metadata"]["uid"]
        seen = getattr(self, "_seen", None)
        if seen is None:
            seen = self._seen = {}
        if uid not in seen:
            seen[uid] = time.time()
        return seen[uid]

    def crd_cleanup(self, key, crd):
        st = self.st
        spec = crd["spec"]
        fin = "customresourcecleanup.apiextensions.k8s.io"
        plural, group = spec["names"]["plural"], spec["group"]
        remaining = [k for k in st.objects if k[0] == group and k[1] == plural]
        conds = (crd.get("status") or {}).get("conditions") or []
        if not any(c.get("type") == "Terminating" for c in conds):
            new = copy.deepcopy(crd)
            new.setdefault("status", {}).setdefault("conditions", []).append(
                {"type": "Terminating", "status": "True", "reason": "InstanceDeletionInProgress",
                 "message": "CustomResource deletion is in progress", "lastTransitionTime": now_rfc3339()})
            self.write(key, new)
            crd = new
        for k in remaining:
            self.gc_delete(k, "Background")
        remaining = [k for k in st.objects if k[0] == group and k[1] == plural]
        if not remaining and fin in (crd["metadata"].get("finalizers") or []):
            new = copy.deepcopy(crd)
            new["metadata"]["finalizers"] = [f for f in new["metadata"]["finalizers"] if f != fin]
            self.write(key, new)

    def gc_delete(self, key, policy):
        """Deletes as a DELETE with that propagation policy would."""
        st = self.st
        obj = st.objects.get(key)
        if obj is None:
            return
        md = obj["metadata"]
        fins = list(md.get("finalizers") or [])
        if policy == "Foreground" and "foregroundDeletion" not in fins and not md.get("deletionTimestamp"):
            fins.append("foregroundDeletion")
        if not fins and key[1] != "namespaces":
            st.objects.pop(key, None)
            md["resourceVersion"] = str(st.next_rv())
            st.record("DELETED", self.res(key[0], key[1]), obj)
            return
        if md.get("deletionTimestamp"):
            return
        new = copy.deepcopy(obj)
        new["metadata"]["finalizers"] = fins
        new["metadata"]["deletionTimestamp"] = now_rfc3339()
        new["metadata"]["deletionGracePeriodSeconds"] = 0
        if key[1] == "namespaces":
            new.setdefault("status", {})["phase"] = "Terminating"
        self.write(key, new)

    def gc(self):
        st = self.st
        uids = {o["metadata"]["uid"]: k for k, o in st.objects.items()}
        for key, obj in list(st.objects.items()):
            if key not in st.objects:
                continue
            md = obj["metadata"]
            if md.get("deletionTimestamp"):
                if time.time() - parse_time(md["deletionTimestamp"]) < self.gc_delay:
                    continue
                uid = md["uid"]
                dependents = [k for k, o in st.objects.items()
                              if any(r.get("uid") == uid for r in (o["metadata"].get("ownerReferences") or []))]
                fins = md.get("finalizers") or []
                if "foregroundDeletion" in fins:
                    for d in dependents:
                        self.gc_delete(d, "Foreground")
                    still = [k for k, o in st.objects.items()
                             if any(r.get("uid") == uid for r in (o["metadata"].get("ownerReferences") or []))]
                    if not still:
                        new = copy.deepcopy(st.objects[key])
                        new["metadata"]["finalizers"] = [f for f in fins if f != "foregroundDeletion"]
                        self.write(key, new)
                    continue
                if "orphan" in fins:
                    for d in dependents:
                        dep = copy.deepcopy(st.objects[d])
                        dep["metadata"]["ownerReferences"] = [r for r in dep["metadata"]["ownerReferences"] if r.get("uid") != uid]
                        if not dep["metadata"]["ownerReferences"]:
                            dep["metadata"].pop("ownerReferences")
                        self.write(d, dep)
                    new = copy.deepcopy(st.objects[key])
                    new["metadata"]["finalizers"] = [f for f in fins if f != "orphan"]
                    self.write(key, new)
                    continue
                if key[1] == "namespaces" and key[0] == "":
                    ns = md["name"]
                    inside = [k for k in st.objects if k[2] == ns and k[1] != "namespaces"]
                    for k in inside:
                        self.gc_delete(k, "Background")
                    inside = [k for k in st.objects if k[2] == ns and k[1] != "namespaces"]
                    if not inside and (obj.get("spec") or {}).get("finalizers"):
                        new = copy.deepcopy(obj)
                        new["spec"]["finalizers"] = []
                        self.write(key, new)
                continue
            refs = md.get("ownerReferences") or []
            if refs and all(r.get("uid") not in uids for r in refs):
                if time.time() - parse_time(md.get("creationTimestamp")) < self.gc_delay:
                    continue
                self.gc_delete(key, "Background")


def parse_time(ts):
    try:
        return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
    except (TypeError, ValueError):
        return 0.0


# ---------------------------------------------------------------------------------------------------
# setup: certificates, tokens, policy, kubeconfig

def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_pki(d):
    ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.crt")
    if os.path.exists(ca) and os.path.exists(os.path.join(d, "server.crt")) and os.path.exists(os.path.join(d, "admin.crt")):
        return
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *key, "-keyout", ca_key, "-out", ca, "-days", "7", "-subj", "/CN=maifctl-standin-ca",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    for name, subj, ext in (
            ("server", "/CN=kube-apiserver-standin",
             "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n"),
            ("admin", "/O=system:masters/CN=admin",
             "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n")):
        k, csr, crt, extf = (os.path.join(d, name + s) for s in (".key", ".csr", ".crt", ".ext"))
        openssl("req", *key, "-keyout", k, "-out", csr, "-subj", subj)
        with open(extf, "w") as f:
            f.write(ext)
        openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "7",
                "-extfile", extf, "-out", crt)
        os.remove(csr)
        os.remove(extf)
    for f in os.listdir(d):
        if f.endswith(".key"):
            os.chmod(os.path.join(d, f), 0o600)


def make_tokens(d):
    path = os.path.join(d, "tokens.csv")
    if not os.path.exists(path):
        rows = [(secrets.token_hex(24), "token-admin", "uid-token-admin", "system:masters"),
                (secrets.token_hex(24), "viewer", "uid-viewer", "maifctl:viewers"),
                (secrets.token_hex(24), "bob", "uid-bob", "")]
        with open(path, "w") as f:
            for t, u, uid, g in rows:
                f.write('%s,%s,%s,"%s"\n' % (t, u, uid, g))
        os.chmod(path, 0o600)
    return path


def make_policy(d):
    path = os.path.join(d, "authz.json")
    if not os.path.exists(path):
        policy = {"rules": [
            {"groups": ["maifctl:viewers"], "verbs": ["get", "list", "watch"], "apiGroups": ["*"], "resources": ["*"]},
        ]}
        with open(path, "w") as f:
            json.dump(policy, f, indent=2)
    with open(path) as f:
        return json.load(f).get("rules", [])


def write_kubeconfig(d, port, tokens):
    by_user = {u: t for t, (u, _) in tokens.items()}
    server = "https://127.0.0.1:%d" % port

    def b64(name):
        with open(os.path.join(d, name), "rb") as f:
            return base64.b64encode(f.read()).decode()

    for fname, inline in (("kubeconfig", False), ("kubeconfig-inline", True)):
        cluster = {"server": server}
        admin = {}
        if inline:
            cluster["certificate-authority-data"] = b64("ca.crt")
            admin = {"client-certificate-data": b64("admin.crt"), "client-key-data": b64("admin.key")}
        else:
            cluster["certificate-authority"] = os.path.join(d, "ca.crt")
            admin = {"client-certificate": os.path.join(d, "admin.crt"), "client-key": os.path.join(d, "admin.key")}
        cfg = {
            "apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": "standin", "cluster": cluster}],
            "users": [{"name": "admin", "user": admin},
                      {"name": "token-admin", "user": {"token": by_user.get("token-admin", "")}},
                      {"name": "viewer", "user": {"token": by_user.get("viewer", "")}},
                      {"name": "bob", "user": {"token": by_user.get("bob", "")}}],
            "contexts": [{"name": "admin", "context": {"cluster": "standin", "user": "admin", "namespace": "default"}},
                         {"name": "token", "context": {"cluster": "standin", "user": "token-admin", "namespace": "default"}},
                         {"name": "viewer", "context": {"cluster": "standin", "user": "viewer", "namespace": "default"}},
                         {"name": "nobody", "context": {"cluster": "standin", "user": "bob", "namespace": "default"}}],
            "current-context": "admin",
        }
        path = os.path.join(d, fname)
        with open(path + ".tmp", "w") as f:
            yaml.safe_dump(cfg, f, sort_keys=False)
        os.chmod(path + ".tmp", 0o600)
        os.replace(path + ".tmp", path)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, state, ctx):
        super().__init__(addr, Handler)
        self.state = state
        self.ctx = ctx

    def get_request(self):
        sock, addr = self.socket.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle/delayed-ACK stalls on keep-alive
        return self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def finish_request(self, request, client_address):
        try:
            request.settimeout(30)
            request.do_handshake()
            request.settimeout(None)
        except (ssl.SSLError, OSError) as e:
            log("TLS handshake from %s failed: %s" % (client_address[0], e))
            return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionResetError, BrokenPipeError, ssl.SSLError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description="A stand-in for kube-apiserver (not Kubernetes) for maifctl's tests.")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--crd-establish-delay", type=float, default=float(os.environ.get("STANDIN_CRD_DELAY", "0.5")))
    ap.add_argument("--gc-delay", type=float, default=float(os.environ.get("STANDIN_GC_DELAY", "0.2")))
    args = ap.parse_args()
    d = os.path.abspath(args.dir)
    os.makedirs(d, exist_ok=True)
    make_pki(d)
    state = State(args)
    state.tokens = load_tokens(make_tokens(d))
    state.policy = make_policy(d)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, "server.crt"), os.path.join(d, "server.key"))
    ctx.load_verify_locations(os.path.join(d, "ca.crt"))
    ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.set_alpn_protocols(["http/1.1"])
    srv = Server((args.host, args.port), state, ctx)
    port = srv.server_address[1]
    write_kubeconfig(d, port, state.tokens)
    Controllers(state, args.crd_establish_delay, args.gc_delay).start()
    with open(os.path.join(d, "port.tmp"), "w") as f:
        f.write("%d\n" % port)
    os.replace(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
    log("kube-apiserver STAND-IN (not Kubernetes; models the 1.30 API machinery, see README.md) "
        "serving https://%s:%d, kubeconfig %s" % (args.host, port, os.path.join(d, "kubeconfig")))
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        state.stopping = True
        with state.lock:
            state.cond.notify_all()


if __name__ == "__main__":
    main()
