"""STAND-IN: a test-side server for the Google Cloud methods that the real local servers (gcplocal,
gcp-storage-emulator) do not implement, or implement too loosely for the maifctl GCP provider's tests.
It is not Google's code: it follows Google's published API reference (Compute Engine v1, Cloud DNS v1,
Cloud Monitoring v3) as far as README.md says, and says so in every answer (header X-Stand-In).

Compute Engine v1 — networks, subnetworks, disks, instances (setLabels, setMetadata, setTags, stop, start,
setMachineType, setDeletionProtection), instanceTemplates, regionInstanceGroupManagers (+ regionInstanceGroups),
regionAutoscalers, healthChecks/regionHealthChecks, backendServices/regionBackendServices, forwardingRules,
zones/regions/machineTypes/diskTypes (read only) and zonal/regional/global operations (get, wait, list, delete)
that go PENDING → RUNNING → DONE after a configurable delay. Inserts honour requestId (a repeated one answers
the first operation and creates nothing); a duplicate name is 409 alreadyExists; references are checked.
Cloud DNS v1 — managedZones, resourceRecordSets (routingPolicy.geo / wrr), changes.
Cloud Monitoring v3 — projects.alertPolicies, projects.notificationChannels.
Control API under /_standin/ (see README.md)."""

import argparse
import base64
import copy
import hashlib
import ipaddress
import json
import random
import re
import threading
import time
import urllib.request
import uuid
from urllib.parse import unquote

from gcpcommon import APIError, Response, now_rfc3339, serve, serve_forever

COMPUTE = "https://www.googleapis.com/compute/v1/"
NAME_RE = r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?"
EMPTY_FINGERPRINT = "42WmSpB8rSM="  # what Compute Engine answers for an empty label set

REGIONS = {
    "us-central1": "abcf", "us-east1": "bcd", "us-east4": "abc", "us-west1": "abc", "us-west2": "abc",
    "northamerica-northeast1": "abc", "southamerica-east1": "abc", "europe-west1": "bcd", "europe-west2": "abc",
    "europe-west3": "abc", "europe-west4": "abc", "europe-north1": "abc", "asia-southeast1": "abc",
    "asia-east1": "abc", "asia-northeast1": "abc", "asia-south1": "abc", "australia-southeast1": "abc",
    "me-west1": "abc", "africa-south1": "abc",
}
MACHINE_FAMILIES = {  # vCPUs → memory MB, per family
    "e2-standard": {2: 8192, 4: 16384, 8: 32768, 16: 65536, 32: 131072},
    "e2-highmem": {2: 16384, 4: 32768, 8: 65536, 16: 131072},
    "e2-highcpu": {2: 2048, 4: 4096, 8: 8192, 16: 16384, 32: 32768},
    "n1-standard": {1: 3840, 2: 7680, 4: 15360, 8: 30720, 16: 61440, 32: 122880, 64: 245760, 96: 368640},
    "n2-standard": {2: 8192, 4: 16384, 8: 32768, 16: 65536, 32: 131072, 48: 196608, 64: 262144, 80: 327680},
    "n2-highmem": {2: 16384, 4: 32768, 8: 65536, 16: 131072, 32: 262144},
    "n2d-standard": {2: 8192, 4: 16384, 8: 32768, 16: 65536, 32: 131072},
    "c2-standard": {4: 16384, 8: 32768, 16: 65536, 30: 122880, 60: 245760},
    "c3-standard": {4: 16384, 8: 32768, 22: 90112, 44: 180224},
}
MACHINE_TYPES = {"e2-micro": (2, 1024), "e2-small": (2, 2048), "e2-medium": (2, 4096), "f1-micro": (1, 614),
                 "g1-small": (1, 1740)}
for _fam, _sizes in MACHINE_FAMILIES.items():
    for _cpu, _mem in _sizes.items():
        MACHINE_TYPES[f"{_fam}-{_cpu}"] = (_cpu, _mem)
DISK_TYPES = ("pd-standard", "pd-balanced", "pd-ssd", "pd-extreme", "hyperdisk-balanced", "hyperdisk-throughput")
HEALTH_CHECK_TYPES = {"TCP": "tcpHealthCheck", "SSL": "sslHealthCheck", "HTTP": "httpHealthCheck",
                      "HTTPS": "httpsHealthCheck", "HTTP2": "http2HealthCheck", "GRPC": "grpcHealthCheck",
                      "GRPC_WITH_TLS": "grpcTlsHealthCheck"}


def gid():
    return str(random.randint(10**18, 2**63 - 1))


def ts():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03d+00:00" % int((t % 1) * 1000)


def fingerprint(value):
    if value in ({}, [], None):
        return EMPTY_FINGERPRINT
    return base64.b64encode(hashlib.sha256(json.dumps(value, sort_keys=True).encode()).digest()[:8]).decode()


def bad(field, value, why):
    return APIError(400, "invalid", f"Invalid value for field '{field}': '{value}'. {why}")


def not_found(path):
    return APIError(404, "notFound", f"The resource '{path}' was not found")


def in_use(kind, path, by):
    return APIError(400, "resourceInUseByAnotherResource",
                    f"The {kind} resource '{path}' is already being used by '{by}'")


def merge_patch(target, patch):
    """JSON merge patch (RFC 7396): what Compute Engine's PATCH methods do with the body."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def check_labels(labels, field="resource.labels"):
    if labels is None:
        return
    if not isinstance(labels, dict) or len(labels) > 64:
        raise bad(field, labels, "At most 64 labels.")
    for k, v in labels.items():
        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,62}", k):
            raise bad(field, k, f"Label key '{k}' violates format constraints. The key must start with a lowercase "
                      "character, can only contain lowercase letters, numeric characters, underscores and dashes. "
                      "The key can be at most 63 characters long. International characters are allowed.")
        if not isinstance(v, str) or not re.fullmatch(r"[a-z0-9_-]{0,63}", v):
            raise bad(field, v, f"Label value '{v}' violates format constraints. The value can only contain "
                      "lowercase letters, numeric characters, underscores and dashes. The value can be at most "
                      "63 characters long. International characters are allowed.")


def scope_of(scope):
    """'global' | 'regions/r' | 'zones/z' → the scope's region (for zones: the zone's region)."""
    if scope.startswith("zones/"):
        return scope[6:].rsplit("-", 1)[0]
    if scope.startswith("regions/"):
        return scope[8:]
    return None


REF_RE = re.compile(r"^(?:https?://[^/]+/compute/(?:v1|beta|alpha)/)?(?:projects/(?P<project>[^/]+)/)?"
                    r"(?P<scope>global|regions/[^/]+|zones/[^/]+)/(?P<coll>[A-Za-z]+)/(?P<name>[^/]+)$")


class Ref:
    def __init__(self, project, scope, coll, name):
        self.project, self.scope, self.coll, self.name = project, scope, coll, name

    @property
    def path(self):
        return f"projects/{self.project}/{self.scope}/{self.coll}/{self.name}"

    @property
    def url(self):
        return COMPUTE + self.path

    def __eq__(self, o):
        return isinstance(o, Ref) and self.path == o.path

    def __hash__(self):
        return hash(self.path)


def parse_ref(value, project, field, colls=None):
    if not isinstance(value, str):
        raise bad(field, value, "The URL is malformed.")
    m = REF_RE.match(value)
    if not m or colls and m.group("coll") not in colls:
        raise bad(field, value, "The URL is malformed.")
    return Ref(m.group("project") or project, m.group("scope"), m.group("coll"), m.group("name"))


# ── operations ────────────────────────────────────────────────────────────────

class Op:
    def __init__(self, st, project, scope, op_type, target_url, target_id, pending, running):
        self.t0 = time.monotonic()
        self.pending, self.running = pending, running
        self.effects = {"RUNNING": [], "DONE": []}
        self.failure = None   # (http code, [ {code, message} ]) → the operation ends DONE with error
        self.hang = False     # stays RUNNING for ever (to test a client's timeout)
        self.project, self.scope = project, scope
        name = "operation-%d-%s-%s-%s" % (int(time.time() * 1000), uuid.uuid4().hex[:13],
                                          uuid.uuid4().hex[:8], uuid.uuid4().hex[:8])
        self.body = {
            "kind": "compute#operation", "id": gid(), "name": name, "operationType": op_type,
            "targetLink": target_url, "targetId": target_id, "status": "PENDING", "progress": 0,
            "insertTime": ts(), "selfLink": COMPUTE + f"projects/{project}/{scope}/operations/{name}",
            "user": st.user,
        }
        if scope.startswith("zones/"):
            self.body["zone"] = COMPUTE + f"projects/{project}/{scope}"
        elif scope.startswith("regions/"):
            self.body["region"] = COMPUTE + f"projects/{project}/{scope}"

    @property
    def name(self):
        return self.body["name"]

    def done_at(self):
        return None if self.hang else self.t0 + self.pending + self.running

    def advance(self, now):
        b = self.body
        if b["status"] == "DONE":
            return
        elapsed = now - self.t0
        if b["status"] == "PENDING" and elapsed >= self.pending:
            b["status"], b["progress"], b["startTime"] = "RUNNING", 50 if not self.hang else 10, ts()
            if not self.failure:
                for f in self.effects["RUNNING"]:
                    f()
        if b["status"] == "RUNNING" and not self.hang and elapsed >= self.pending + self.running:
            b["status"], b["progress"], b["endTime"] = "DONE", 100, ts()
            if self.failure:
                code, errors = self.failure
                b["error"] = {"errors": errors}
                b["httpErrorStatusCode"] = code
                b["httpErrorMessage"] = {400: "BAD REQUEST", 403: "FORBIDDEN", 409: "CONFLICT",
                                         429: "TOO MANY REQUESTS", 500: "INTERNAL SERVER ERROR",
                                         503: "SERVICE UNAVAILABLE"}.get(code, "ERROR")
            else:
                for f in self.effects["DONE"]:
                    f()


# ── the store ─────────────────────────────────────────────────────────────────

class State:
    def __init__(self, args):
        self.lock = threading.RLock()
        self.args = args
        self.user = args.user
        self.pending_s, self.running_s = args.op_pending, args.op_running
        self.wait_s = 120.0  # operations.wait answers when DONE or after about 2 minutes, as on GCP
        self.reset()

    def reset(self):
        self.res = {}          # (project, scope, coll) → {name: resource}
        self.ops = {}          # (project, scope) → {name: Op}
        self.live_ops = []     # not DONE yet
        self.request_ids = {}  # (project, requestId) → Op
        self.op_faults = []
        self.ip_next = {}
        self.zones = {}        # (project, zone name) → managed zone
        self.rrsets = {}       # (project, zone name) → {(name, type): rrset}
        self.changes = {}      # (project, zone name) → {id: [change, t0, applied]}
        self.policies = {}     # project → {id: policy}
        self.channels = {}     # project → {id: channel}
        self.ig_members = {}   # (project, zone, group name) → [instance self links] (unmanaged instance groups)
        self.calls = 0

    def coll(self, project, scope, coll):
        return self.res.setdefault((project, scope, coll), {})

    def get(self, ref):
        return self.res.get((ref.project, ref.scope, ref.coll), {}).get(ref.name)

    def advance(self):
        now = time.monotonic()
        still = []
        for op in self.live_ops:
            op.advance(now)
            if op.body["status"] != "DONE":
                still.append(op)
        self.live_ops = still

    def new_op(self, project, scope, op_type, target_url, target_id, method_id):
        op = Op(self, project, scope, op_type, target_url, target_id, self.pending_s, self.running_s)
        for f in self.op_faults:
            if f["remaining"] > 0 and (not f.get("methodId") or f["methodId"] == method_id) and (
                    not f.get("targetRegex") or re.search(f["targetRegex"], target_url or "")):
                f["remaining"] -= 1
                if f.get("hang"):
                    op.hang = True
                else:
                    op.failure = (f.get("httpErrorStatusCode", 400),
                                  f.get("errors") or [{"code": "RESOURCE_NOT_READY", "message": "injected failure"}])
        self.op_faults = [f for f in self.op_faults if f["remaining"] > 0]
        self.ops.setdefault((project, scope), {})[op.name] = op
        self.live_ops.append(op)
        return op


# ── helpers for resources ─────────────────────────────────────────────────────

def check_zone(zone):
    region, _, letter = zone.rpartition("-")
    if region not in REGIONS or len(letter) != 1 or letter not in REGIONS[region]:
        raise bad("zone", zone, "Unknown zone.")
    return region


def check_region(region):
    if region not in REGIONS:
        raise bad("region", region, "Unknown region.")


def machine_type(value, project, zone, field, bare=False):
    if bare:
        name = value if isinstance(value, str) and "/" not in value else None
        if name is None:
            # instance templates take the bare name (e2-medium); a URL is accepted too
            name = parse_ref(value, project, field, {"machineTypes"}).name
    else:
        if isinstance(value, str) and "/" not in value:
            raise bad(field, value, "The URL is malformed.")
        r = parse_ref(value, project, field, {"machineTypes"})
        if r.scope != f"zones/{zone}":
            raise bad(field, value, f"Machine type specified '{r.name}' is in a different scope than the instance.")
        name = r.name
    if name in MACHINE_TYPES or re.fullmatch(r"(?:(?:e2|n2|n2d|n1)-)?custom-\d+-\d+(?:-ext)?", name):
        return name
    raise not_found(f"projects/{project}/zones/{zone or 'ZONE'}/machineTypes/{name}")


def disk_type(value, project, zone, field, bare=False):
    if bare and "/" not in value:
        name = value
    else:
        if "/" not in value:
            raise bad(field, value, "The URL is malformed.")
        r = parse_ref(value, project, field, {"diskTypes"})
        name = r.name
    if name not in DISK_TYPES:
        raise not_found(f"projects/{project}/zones/{zone}/diskTypes/{name}")
    return name


IMAGE_RE = re.compile(r"^(?:https?://[^/]+/compute/v1/)?(?:projects/(?P<project>[^/]+)/)?global/images/"
                      r"(?:family/)?(?P<image>[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)$")


def check_image(value, field):
    if not isinstance(value, str) or not IMAGE_RE.match(value):
        raise bad(field, value, "The URL is malformed.")
    return value if value.startswith("http") else COMPUTE + value


class Ctx:
    """One compute request: project, scope ('global' | 'regions/r' | 'zones/z'), collection."""

    def __init__(self, st, req, project, scope, coll):
        self.st, self.req, self.project, self.scope, self.coll = st, req, project, scope, coll
        self.region = scope_of(scope)
        self.zone = scope[6:] if scope.startswith("zones/") else None

    def ref(self, name, coll=None, scope=None):
        return Ref(self.project, scope or self.scope, coll or self.coll, name)

    def url(self, name, coll=None, scope=None):
        return self.ref(name, coll, scope).url

    def scope_url(self):
        return COMPUTE + f"projects/{self.project}/{self.scope}"

    def existing(self, value, field, colls, same_region=False):
        r = parse_ref(value, self.project, field, colls)
        if same_region and scope_of(r.scope) not in (None, self.region):
            raise bad(field, value, f"The resource must be in region {self.region}.")
        res = self.st.get(r)
        if res is None:
            raise not_found(r.path)
        return r, res


def users_of(st, ref, fields):
    """Resources that refer to `ref` in any of `fields` (dotted paths, lists walked)."""
    out = []
    for (project, scope, coll), items in st.res.items():
        for name, res in items.items():
            for f in fields:
                for v in _values(res, f.split(".")):
                    if isinstance(v, str):
                        m = REF_RE.match(v)
                        if m and Ref(m.group("project") or project, m.group("scope"), m.group("coll"),
                                     m.group("name")) == ref:
                            out.append(res.get("selfLink", name))
    return out


def _values(obj, path):
    if not path:
        if isinstance(obj, list):
            yield from obj
        else:
            yield obj
        return
    if isinstance(obj, list):
        for x in obj:
            yield from _values(x, path)
    elif isinstance(obj, dict) and path[0] in obj:
        yield from _values(obj[path[0]], path[1:])


# ── compute collections ───────────────────────────────────────────────────────

class Collection:
    """A Compute Engine collection. Subclasses fill build() (validate + defaults of an insert) and may add
    custom verbs. Resources are visible as soon as they are inserted; their effects land when the operation
    is DONE, as on Compute Engine."""
    name = kind = scope_kind = None  # scope_kind: global | regions | zones
    patchable = True
    updatable = False
    labelled = False
    fingerprinted = False  # patch/update check `fingerprint` when the body carries one
    ref_fields = ()        # fields of other resources that refer to this one (for delete)

    def build(self, ctx, body):
        raise NotImplementedError

    def check_delete(self, ctx, res):
        ref = ctx.ref(res["name"])
        users = users_of(ctx.st, ref, self.ref_fields)
        if users:
            raise in_use(self.name.rstrip("s"), ref.path, users[0])

    def on_delete(self, ctx, res, op):
        pass

    def change(self, ctx, res, new):
        """Validate a patched/updated resource; return it."""
        return self.build(ctx, new)

    verbs = {}


def base_resource(coll, ctx, body):
    name = body.get("name")
    if not isinstance(name, str) or not re.fullmatch(NAME_RE, name):
        raise bad("resource.name", name, f"Must be a match of regex '(?:{NAME_RE})'")
    res = copy.deepcopy(body)
    res.update({"kind": coll.kind, "id": gid(), "creationTimestamp": ts(), "name": name,
                "selfLink": ctx.url(name)})
    if ctx.zone:
        res["zone"] = ctx.scope_url()
    elif ctx.region:
        res["region"] = ctx.scope_url()
    if coll.labelled:
        check_labels(res.get("labels"))
        res.setdefault("labels", {})
        res["labelFingerprint"] = fingerprint(res["labels"])
        if not res["labels"]:
            del res["labels"]
    return res


class Networks(Collection):
    name, kind, scope_kind = "networks", "compute#network", "global"
    ref_fields = ("network", "networkInterfaces.network", "properties.networkInterfaces.network")

    def build(self, ctx, body):
        res = base_resource(self, ctx, body)
        if "IPv4Range" in res:
            raise bad("resource.IPv4Range", res["IPv4Range"], "Legacy networks are not supported.")
        res.setdefault("autoCreateSubnetworks", True)
        res.setdefault("routingConfig", {"routingMode": "REGIONAL"})
        res["routingConfig"].setdefault("bgpBestPathSelectionMode", "LEGACY")
        mtu = res.setdefault("mtu", 1460)
        if not 1300 <= mtu <= 8896:
            raise bad("resource.mtu", mtu, "MTU must be between 1300 and 8896.")
        res.setdefault("networkFirewallPolicyEnforcementOrder", "AFTER_CLASSIC_FIREWALL")
        res.setdefault("subnetworks", [])
        return res

    def change(self, ctx, res, new):
        for k in ("name", "autoCreateSubnetworks", "description"):
            if new.get(k) != res.get(k):
                raise bad(f"resource.{k}", new.get(k), "This field cannot be changed.")
        return self.build(ctx, new) | {"id": res["id"], "creationTimestamp": res["creationTimestamp"],
                                        "subnetworks": res["subnetworks"]}

    def check_delete(self, ctx, res):
        super().check_delete(ctx, res)
        ref = ctx.ref(res["name"])
        # Firewalls live in gcplocal: ask it, so deleting a network that has rules fails as on GCP.
        if ctx.st.args.gcplocal:
            try:
                with urllib.request.urlopen(f"{ctx.st.args.gcplocal}/compute/v1/projects/{ctx.project}/global/firewalls",
                                            timeout=5) as r:
                    items = json.load(r).get("items", [])
            except OSError:
                items = []
            for fw in items:
                m = REF_RE.match(fw.get("network", ""))
                if m and Ref(m.group("project") or ctx.project, m.group("scope"), m.group("coll"), m.group("name")) == ref:
                    raise in_use("network", ref.path, COMPUTE + f"projects/{ctx.project}/global/firewalls/{fw['name']}")


class Subnetworks(Collection):
    name, kind, scope_kind = "subnetworks", "compute#subnetwork", "regions"
    ref_fields = ("networkInterfaces.subnetwork", "properties.networkInterfaces.subnetwork")
    fingerprinted = True

    def build(self, ctx, body):
        res = base_resource(self, ctx, body)
        if not res.get("network"):
            raise bad("resource.network", "", "The network field is required.")
        net_ref, net = ctx.existing(res["network"], "resource.network", {"networks"})
        res["network"] = net_ref.url
        cidr = res.get("ipCidrRange")
        try:
            rng = ipaddress.ip_network(cidr)
            assert rng.version == 4 and rng.prefixlen <= 29
        except (ValueError, TypeError, AssertionError):
            raise bad("resource.ipCidrRange", cidr, "Invalid IPCidrRange: must be an IPv4 range of /29 or larger.")
        for other in ctx.st.coll(ctx.project, ctx.scope, "subnetworks").values():
            if other["name"] != res["name"] and other["network"] == res["network"] and \
                    ipaddress.ip_network(other["ipCidrRange"]).overlaps(rng):
                raise bad("resource.ipCidrRange", cidr,
                          f"Invalid IPCidrRange: {cidr} conflicts with existing subnetwork '{other['name']}' in region '{ctx.region}'.")
        res["gatewayAddress"] = str(rng.network_address + 1)
        for k, v in (("privateIpGoogleAccess", False), ("purpose", "PRIVATE"), ("stackType", "IPV4_ONLY"),
                     ("privateIpv6GoogleAccess", "DISABLE_GOOGLE_ACCESS")):
            res.setdefault(k, v)
        res["fingerprint"] = fingerprint({k: v for k, v in res.items() if k not in ("fingerprint", "id")})
        return res

    def change(self, ctx, res, new):
        for k in ("name", "network", "description"):
            if new.get(k) != res.get(k):
                raise bad(f"resource.{k}", new.get(k), "This field cannot be changed.")
        try:
            grown = ipaddress.ip_network(res["ipCidrRange"]).subnet_of(ipaddress.ip_network(new.get("ipCidrRange")))
        except (ValueError, TypeError):
            grown = False
        if not grown:
            raise bad("resource.ipCidrRange", new.get("ipCidrRange"), "The range can only be expanded.")
        out = self.build(ctx, new)
        out["id"], out["creationTimestamp"] = res["id"], res["creationTimestamp"]
        return out

    def inserted(self, ctx, res):
        net = ctx.st.get(parse_ref(res["network"], ctx.project, "network"))
        if net is not None and res["selfLink"] not in net["subnetworks"]:
            net["subnetworks"].append(res["selfLink"])

    def on_delete(self, ctx, res, op):
        def gone():
            net = ctx.st.get(parse_ref(res["network"], ctx.project, "network"))
            if net is not None and res["selfLink"] in net["subnetworks"]:
                net["subnetworks"].remove(res["selfLink"])
        op.effects["DONE"].append(gone)

    def set_private_ip_google_access(self, ctx, res, body, req):
        value = body.get("privateIpGoogleAccess")
        if not isinstance(value, bool):
            raise bad("privateIpGoogleAccess", value, "Must be true or false.")

        def done():
            res["privateIpGoogleAccess"] = value
            res["fingerprint"] = fingerprint({k: v for k, v in res.items() if k not in ("fingerprint", "id")})
        return "setPrivateIpGoogleAccess", done

    verbs = {"setPrivateIpGoogleAccess": set_private_ip_google_access}


def set_labels(coll, ctx, res, body, req):
    fp = body.get("labelFingerprint")
    if fp != res.get("labelFingerprint"):
        raise APIError(412, "conditionNotMet", "Labels fingerprint either invalid or resource labels have changed")
    labels = body.get("labels") or {}
    check_labels(labels, "labels")

    def done():
        if labels:
            res["labels"] = dict(labels)
        else:
            res.pop("labels", None)
        res["labelFingerprint"] = fingerprint(labels)
    return "setLabels", done


class Disks(Collection):
    name, kind, scope_kind = "disks", "compute#disk", "zones"
    labelled = True
    patchable = False

    def build(self, ctx, body, image_size=10):
        res = base_resource(self, ctx, body)
        res["type"] = COMPUTE + f"projects/{ctx.project}/zones/{ctx.zone}/diskTypes/" + disk_type(
            res.get("type") or f"zones/{ctx.zone}/diskTypes/pd-standard", ctx.project, ctx.zone, "resource.type")
        if res.get("sourceImage"):
            res["sourceImage"] = check_image(res["sourceImage"], "resource.sourceImage")
        size = res.get("sizeGb", str(image_size) if res.get("sourceImage") else "500")
        if not re.fullmatch(r"\d+", str(size)) or res.get("sourceImage") and int(size) < image_size:
            raise bad("resource.sizeGb", size, f"Requested disk size cannot be smaller than the image size ({image_size} GB)")
        res["sizeGb"] = str(size)
        res.update({"status": "CREATING", "users": [], "physicalBlockSizeBytes": "4096"})
        return res

    def inserted(self, ctx, res, op):
        op.effects["DONE"].append(lambda: res.update(status="READY"))

    def check_delete(self, ctx, res):
        if res.get("users"):
            raise in_use("disk", ctx.ref(res["name"]).path, res["users"][0])

    def resize(self, ctx, res, body, req):
        size = body.get("sizeGb")
        if not re.fullmatch(r"\d+", str(size)) or int(size) <= int(res["sizeGb"]):
            raise bad("sizeGb", size, f"New disk size '{size}' GiB must be larger than existing size '{res['sizeGb']}' GiB.")
        return "resizeDisk", lambda: res.update(sizeGb=str(size))

    verbs = {"setLabels": lambda self, *a: set_labels(self, *a), "resize": resize}


class Instances(Collection):
    name, kind, scope_kind = "instances", "compute#instance", "zones"
    labelled = True
    patchable = False

    def build(self, ctx, body):
        st = ctx.st
        res = base_resource(self, ctx, body)
        if not res.get("machineType"):
            raise bad("resource.machineType", "", "The machine type must be specified.")
        mt = machine_type(res["machineType"], ctx.project, ctx.zone, "resource.machineType")
        res["machineType"] = COMPUTE + f"projects/{ctx.project}/zones/{ctx.zone}/machineTypes/{mt}"
        # network interfaces
        nics = res.get("networkInterfaces") or []
        if not nics:
            raise bad("resource.networkInterfaces", "", "At least one network interface is required.")
        for i, nic in enumerate(nics):
            f = f"resource.networkInterfaces[{i}]"
            sub = None
            if nic.get("subnetwork"):
                sub_ref, sub = ctx.existing(nic["subnetwork"], f + ".subnetwork", {"subnetworks"})
                if scope_of(sub_ref.scope) != ctx.region:
                    raise bad(f + ".subnetwork", nic["subnetwork"], f"The subnetwork must be in region {ctx.region}.")
                nic["subnetwork"] = sub_ref.url
            if nic.get("network"):
                net_ref, net = ctx.existing(nic["network"], f + ".network", {"networks"})
                nic["network"] = net_ref.url
                if sub and sub["network"] != net_ref.url:
                    raise bad(f + ".subnetwork", nic["subnetwork"], "Subnetwork does not belong to the network.")
                if not sub and not net.get("autoCreateSubnetworks"):
                    raise bad(f, "", "Subnetwork should be specified for custom subnetmode network")
            elif sub:
                nic["network"] = sub["network"]
            else:
                raise bad(f + ".network", "", "The network or subnetwork must be specified.")
            nic["name"] = f"nic{i}"
            nic["kind"] = "compute#networkInterface"
            nic["stackType"] = nic.get("stackType", "IPV4_ONLY")
            if sub:
                rng = ipaddress.ip_network(sub["ipCidrRange"])
                used = {n.get("networkIP") for inst in st.coll(ctx.project, ctx.scope, "instances").values()
                        for n in inst.get("networkInterfaces", [])}
                for z in REGIONS[ctx.region]:
                    used |= {n.get("networkIP") for inst in st.coll(ctx.project, f"zones/{ctx.region}-{z}", "instances").values()
                             for n in inst.get("networkInterfaces", [])}
                if nic.get("networkIP"):
                    try:
                        ok = ipaddress.ip_address(nic["networkIP"]) in rng
                    except ValueError:
                        ok = False
                    if not ok:
                        raise bad(f + ".networkIP", nic["networkIP"], f"Requested internal IP is outside the subnetwork CIDR range {rng}.")
                    if nic["networkIP"] in used:
                        raise bad(f + ".networkIP", nic["networkIP"], "IP address is already being used by another resource.")
                else:
                    hosts = rng.hosts()
                    next(hosts)  # the gateway
                    nic["networkIP"] = next(str(h) for h in hosts if str(h) not in used)
            else:
                nic.setdefault("networkIP", "10.128.0.%d" % random.randint(2, 250))
            for ac in nic.get("accessConfigs", []):
                ac.setdefault("type", "ONE_TO_ONE_NAT")
                ac.setdefault("name", "External NAT")
                ac.setdefault("networkTier", "PREMIUM")
                ac["kind"] = "compute#accessConfig"
                ac.setdefault("natIP", "203.0.113.%d" % random.randint(1, 254))
            nic["fingerprint"] = fingerprint(nic)
        # disks
        disks = res.get("disks") or []
        boots = [i for i, d in enumerate(disks) if d.get("boot")]
        if boots != [0]:
            raise bad("resource.disks", "", "Exactly one boot disk, the first one, is required.")
        self._new_disks = []
        for i, d in enumerate(disks):
            f = f"resource.disks[{i}]"
            d.setdefault("type", "PERSISTENT")
            d.setdefault("mode", "READ_WRITE")
            d.setdefault("interface", "SCSI")
            d.setdefault("autoDelete", False)
            d["index"], d["kind"] = i, "compute#attachedDisk"
            d.setdefault("boot", False)
            d.setdefault("deviceName", "persistent-disk-%d" % i)
            if d.get("source"):
                dref, disk = ctx.existing(d["source"], f + ".source", {"disks"})
                if dref.scope != ctx.scope:
                    raise bad(f + ".source", d["source"], "The disk must be in the instance's zone.")
                if disk.get("users") and d["mode"] == "READ_WRITE":
                    raise in_use("disk", dref.path, disk["users"][0])
                d["source"] = dref.url
                d["diskSizeGb"] = disk["sizeGb"]
            elif d.get("initializeParams") is not None:
                ip = d.pop("initializeParams")
                if d["boot"] and not ip.get("sourceImage"):
                    raise bad(f + ".initializeParams.sourceImage", "", "A boot disk needs a source image.")
                dname = ip.get("diskName") or (res["name"] if d["boot"] else f"{res['name']}-{i}")
                spec = {"name": dname, "labels": ip.get("labels") or {},
                        "type": ip.get("diskType") or f"zones/{ctx.zone}/diskTypes/pd-standard"}
                if ip.get("diskType"):
                    disk_type(ip["diskType"], ctx.project, ctx.zone, f + ".initializeParams.diskType")
                if ip.get("sourceImage"):
                    spec["sourceImage"] = ip["sourceImage"]
                if ip.get("diskSizeGb") is not None:
                    spec["sizeGb"] = ip["diskSizeGb"]
                if dname in st.coll(ctx.project, ctx.scope, "disks"):
                    raise APIError(409, "alreadyExists", f"The resource '{ctx.ref(dname, 'disks').path}' already exists")
                dctx = Ctx(st, ctx.req, ctx.project, ctx.scope, "disks")
                disk = COLLECTIONS["disks"].build(dctx, spec)
                self._new_disks.append(disk)
                d["source"] = disk["selfLink"]
                d["diskSizeGb"] = disk["sizeGb"]
            else:
                raise bad(f, "", "Either source or initializeParams must be given.")
        # metadata, tags, scheduling
        md = res.get("metadata") or {}
        items = md.get("items") or []
        check_metadata(items)
        res["metadata"] = {"kind": "compute#metadata", "fingerprint": fingerprint(items)}
        if items:
            res["metadata"]["items"] = items
        tags = (res.get("tags") or {}).get("items") or []
        check_tags(tags)
        res["tags"] = {"fingerprint": fingerprint(tags)} | ({"items": tags} if tags else {})
        sched = res.setdefault("scheduling", {})
        sched.setdefault("onHostMaintenance", "MIGRATE")
        sched.setdefault("automaticRestart", True)
        sched.setdefault("preemptible", False)
        sched.setdefault("provisioningModel", "STANDARD")
        res.setdefault("deletionProtection", False)
        res.setdefault("canIpForward", False)
        res["status"] = "PROVISIONING"
        res["cpuPlatform"] = "Unknown CPU Platform"
        res["fingerprint"] = fingerprint(res["name"] + res["creationTimestamp"])
        res.setdefault("startRestricted", False)
        return res

    def inserted(self, ctx, res, op):
        for disk in self._new_disks:
            disk["users"] = [res["selfLink"]]
            ctx.st.coll(ctx.project, ctx.scope, "disks")[disk["name"]] = disk
            op.effects["DONE"].append(lambda disk=disk: disk.update(status="READY"))
        for d in res["disks"]:
            existing = ctx.st.get(parse_ref(d["source"], ctx.project, "source"))
            if existing is not None and res["selfLink"] not in existing["users"]:
                existing["users"].append(res["selfLink"])
        op.effects["RUNNING"].append(lambda: res.update(status="STAGING"))
        op.effects["DONE"].append(lambda: res.update(status="RUNNING", lastStartTimestamp=ts()))

    def check_delete(self, ctx, res):
        if res.get("deletionProtection"):
            raise APIError(400, "resourceInUseByAnotherResource",
                           "Invalid resource usage: 'Resource cannot be deleted if it's protected against deletion.'")

    def on_delete(self, ctx, res, op):
        op.effects["RUNNING"].append(lambda: res.update(status="STOPPING"))

        def gone():
            for d in res["disks"]:
                r = parse_ref(d["source"], ctx.project, "source")
                disk = ctx.st.get(r)
                if disk is None:
                    continue
                if res["selfLink"] in disk["users"]:
                    disk["users"].remove(res["selfLink"])
                if d.get("autoDelete"):
                    ctx.st.coll(r.project, r.scope, "disks").pop(r.name, None)
            for (project, zone, group), members in ctx.st.ig_members.items():
                if res["selfLink"] in members:
                    members.remove(res["selfLink"])
                    g = ctx.st.get(Ref(project, f"zones/{zone}", "instanceGroups", group))
                    if g is not None:
                        g["size"] = len(members)
        op.effects["DONE"].append(gone)

    def set_metadata(self, ctx, res, body, req):
        if body.get("fingerprint") != res["metadata"]["fingerprint"]:
            raise APIError(412, "conditionNotMet", "Supplied fingerprint does not match current metadata fingerprint.")
        items = body.get("items") or []
        check_metadata(items)

        def done():
            res["metadata"] = {"kind": "compute#metadata", "fingerprint": fingerprint(items)} | ({"items": items} if items else {})
        return "setMetadata", done

    def set_tags(self, ctx, res, body, req):
        if body.get("fingerprint") != res["tags"]["fingerprint"]:
            raise APIError(412, "conditionNotMet", "Supplied fingerprint does not match current tags fingerprint.")
        items = body.get("items") or []
        check_tags(items)
        return "setTags", lambda: res.update(tags={"fingerprint": fingerprint(items)} | ({"items": items} if items else {}))

    def stop(self, ctx, res, body, req):
        if res["status"] in ("PROVISIONING", "STAGING"):
            raise APIError(400, "resourceNotReady", f"The resource '{ctx.ref(res['name']).path}' is not ready")

        def running():
            if res["status"] != "TERMINATED":
                res["status"] = "STOPPING"
        return "stop", done_and(running, lambda: res.update(status="TERMINATED", lastStopTimestamp=ts()))

    def start(self, ctx, res, body, req):
        if res["status"] in ("STOPPING", "PROVISIONING"):
            raise APIError(400, "resourceNotReady", f"The resource '{ctx.ref(res['name']).path}' is not ready")

        def running():
            if res["status"] != "RUNNING":
                res["status"] = "STAGING"
        return "start", done_and(running, lambda: res.update(status="RUNNING", lastStartTimestamp=ts()))

    def set_machine_type(self, ctx, res, body, req):
        mt = machine_type(body.get("machineType"), ctx.project, ctx.zone, "machineType")
        if res["status"] != "TERMINATED":
            raise APIError(400, "invalidResourceUsage", "Invalid resource usage: 'Instance should be in the STOPPED state.'")
        url = COMPUTE + f"projects/{ctx.project}/zones/{ctx.zone}/machineTypes/{mt}"
        return "setMachineType", lambda: res.update(machineType=url)

    def set_deletion_protection(self, ctx, res, body, req):
        value = req.query.get("deletionProtection", "true") == "true"
        return "setDeletionProtection", lambda: res.update(deletionProtection=value)

    verbs = {"setLabels": lambda self, *a: set_labels(self, *a), "setMetadata": set_metadata, "setTags": set_tags,
             "stop": stop, "start": start, "setMachineType": set_machine_type,
             "setDeletionProtection": set_deletion_protection}


def method_id(req, guess):
    """The discovery method id the front found for this request (X-Front-Method-Id), else a guess."""
    return req.headers.get("X-Front-Method-Id") or guess


def done_and(running, done):
    return running, done


def check_metadata(items):
    if not isinstance(items, list):
        raise bad("metadata.items", items, "Must be a list.")
    total, seen = 0, set()
    for it in items:
        k, v = it.get("key"), it.get("value", "")
        if not isinstance(k, str) or not re.fullmatch(r"[a-zA-Z0-9-_]{1,128}", k):
            raise bad("metadata.items.key", k, "Metadata keys are 1-128 letters, digits, '-' or '_'.")
        if k in seen:
            raise bad("metadata.items.key", k, "Duplicate metadata key.")
        seen.add(k)
        if len(v or "") > 256 * 1024:
            raise bad("metadata.items.value", k, "A metadata value may be at most 256 KB.")
        total += len(k) + len(v or "")
    if total > 512 * 1024:
        raise APIError(400, "invalid", "Metadata is limited to 512 KB in total.")


def check_tags(items):
    for t in items:
        if not isinstance(t, str) or not re.fullmatch(NAME_RE, t):
            raise bad("tags.items", t, f"Must be a match of regex '{NAME_RE}'")


def check_template_properties(ctx, props):
    f = "resource.properties"
    if not props.get("machineType"):
        raise bad(f + ".machineType", "", "The machine type must be specified.")
    machine_type(props["machineType"], ctx.project, None, f + ".machineType", bare=True)
    for i, nic in enumerate(props.get("networkInterfaces") or []):
        for k, colls in (("network", {"networks"}), ("subnetwork", {"subnetworks"})):
            if nic.get(k):
                r, _ = ctx.existing(nic[k], f"{f}.networkInterfaces[{i}].{k}", colls)
                nic[k] = r.url
    disks = props.get("disks") or []
    if [i for i, d in enumerate(disks) if d.get("boot")] != [0]:
        raise bad(f + ".disks", "", "Exactly one boot disk, the first one, is required.")
    for i, d in enumerate(disks):
        ip = d.get("initializeParams") or {}
        if ip.get("sourceImage"):
            check_image(ip["sourceImage"], f"{f}.disks[{i}].initializeParams.sourceImage")
        if ip.get("diskType"):
            disk_type(ip["diskType"], ctx.project, "ZONE", f"{f}.disks[{i}].initializeParams.diskType", bare=True)
    check_labels(props.get("labels"), f + ".labels")
    check_metadata((props.get("metadata") or {}).get("items") or [])


class InstanceTemplates(Collection):
    name, kind, scope_kind = "instanceTemplates", "compute#instanceTemplate", "global"
    patchable = False
    ref_fields = ("instanceTemplate", "versions.instanceTemplate")

    def build(self, ctx, body):
        res = base_resource(self, ctx, body)
        props = res.get("properties")
        if not isinstance(props, dict):
            raise bad("resource.properties", "", "The instance properties must be specified.")
        check_template_properties(ctx, props)
        md = props.get("metadata")
        if md is not None:
            md["kind"] = "compute#metadata"
            md["fingerprint"] = fingerprint(md.get("items") or [])
        return res


class RegionInstanceGroupManagers(Collection):
    name, kind, scope_kind = "instanceGroupManagers", "compute#instanceGroupManager", "regions"
    fingerprinted = True
    ref_fields = ("target",)  # autoscalers

    def build(self, ctx, body):
        res = base_resource(self, ctx, body)
        if not res.get("instanceTemplate") and not res.get("versions"):
            raise bad("resource.instanceTemplate", "", "Either instanceTemplate or versions must be set.")
        if res.get("instanceTemplate"):
            r, _ = ctx.existing(res["instanceTemplate"], "resource.instanceTemplate", {"instanceTemplates"})
            res["instanceTemplate"] = r.url
        versions = res.get("versions") or [{"instanceTemplate": res["instanceTemplate"]}]
        for i, v in enumerate(versions):
            r, _ = ctx.existing(v.get("instanceTemplate", ""), f"resource.versions[{i}].instanceTemplate", {"instanceTemplates"})
            v["instanceTemplate"] = r.url
        res["versions"] = versions
        res.setdefault("instanceTemplate", versions[0]["instanceTemplate"])
        size = res.get("targetSize")
        if not isinstance(size, int) or size < 0:
            raise bad("resource.targetSize", size, "Must be a non-negative integer.")
        res.setdefault("baseInstanceName", res["name"])
        if not re.fullmatch(r"[a-z](?:[-a-z0-9]{0,57})", res["baseInstanceName"]):
            raise bad("resource.baseInstanceName", res["baseInstanceName"], "Must be a match of regex '[a-z](?:[-a-z0-9]{0,57})'")
        dp = res.setdefault("distributionPolicy", {})
        zones = dp.get("zones") or [{"zone": f"zones/{ctx.region}-{z}"} for z in REGIONS[ctx.region][:3]]
        for i, z in enumerate(zones):
            zname = z["zone"].rstrip("/").rsplit("/", 1)[-1]
            if check_zone(zname) != ctx.region:
                raise bad(f"resource.distributionPolicy.zones[{i}].zone", z["zone"], f"The zone must be in region {ctx.region}.")
            z["zone"] = COMPUTE + f"projects/{ctx.project}/zones/{zname}"
        dp["zones"] = zones
        dp.setdefault("targetShape", "EVEN")
        for i, p in enumerate(res.get("autoHealingPolicies") or []):
            if p.get("healthCheck"):
                r, _ = ctx.existing(p["healthCheck"], f"resource.autoHealingPolicies[{i}].healthCheck", {"healthChecks"})
                p["healthCheck"] = r.url
        n = len(zones)
        res.setdefault("updatePolicy", {"type": "OPPORTUNISTIC", "instanceRedistributionType": "PROACTIVE",
                                        "minimalAction": "REPLACE", "replacementMethod": "SUBSTITUTE",
                                        "maxSurge": {"fixed": n, "calculated": n},
                                        "maxUnavailable": {"fixed": n, "calculated": n}})
        res["instanceGroup"] = COMPUTE + f"projects/{ctx.project}/regions/{ctx.region}/instanceGroups/{res['name']}"
        res["currentActions"] = {k: 0 for k in ("abandoning", "creating", "creatingWithoutRetries", "deleting",
                                                "recreating", "refreshing", "restarting", "resuming", "starting",
                                                "stopping", "suspending", "verifying")} | {"none": 0}
        res["status"] = {"isStable": False, "versionTarget": {"isReached": False}, "stateful": {
            "hasStatefulConfig": False, "perInstanceConfigs": {"allEffective": True}}, "allInstancesConfig": {"effective": True}}
        res.setdefault("listManagedInstancesResults", "PAGELESS")
        res["fingerprint"] = fingerprint({k: v for k, v in res.items() if k not in ("fingerprint", "status", "id")})
        return res

    def settle(self, res):
        res["status"]["isStable"] = True
        res["status"]["versionTarget"]["isReached"] = True
        res["currentActions"]["none"] = res["targetSize"]

    def inserted(self, ctx, res, op):
        op.effects["DONE"].append(lambda: self.settle(res))

    def change(self, ctx, res, new):
        for k in ("name", "baseInstanceName"):
            if new.get(k) != res.get(k):
                raise bad(f"resource.{k}", new.get(k), "This field cannot be changed.")
        out = self.build(ctx, new)
        out["id"], out["creationTimestamp"] = res["id"], res["creationTimestamp"]
        if res["status"].get("autoscaler"):
            out["status"]["autoscaler"] = res["status"]["autoscaler"]
        return out

    def check_delete(self, ctx, res):
        if res["status"].get("autoscaler"):
            raise in_use("instance_group_manager", ctx.ref(res["name"]).path, res["status"]["autoscaler"])
        users = users_of(ctx.st, Ref(ctx.project, ctx.scope, "instanceGroups", res["name"]), ("backends.group",))
        if users:
            raise in_use("instance_group", f"projects/{ctx.project}/{ctx.scope}/instanceGroups/{res['name']}", users[0])

    def resize(self, ctx, res, body, req):
        size = req.query.get("size")
        if size is None or not re.fullmatch(r"\d+", size):
            raise bad("size", size, "Must be a non-negative integer.")

        def done():
            res["targetSize"] = int(size)
            self.settle(res)
        return "compute.regionInstanceGroupManagers.resize", done

    def set_instance_template(self, ctx, res, body, req):
        r, _ = ctx.existing(body.get("instanceTemplate", ""), "instanceTemplate", {"instanceTemplates"})

        def done():
            res["instanceTemplate"] = r.url
            res["versions"] = [{"instanceTemplate": r.url, "name": ""}]
        return "compute.regionInstanceGroupManagers.setInstanceTemplate", done

    def list_managed_instances(self, ctx, res, body, req):
        zones = [z["zone"].rsplit("/", 1)[-1] for z in res["distributionPolicy"]["zones"]]
        out = []
        for i in range(res["targetSize"]):
            z = zones[i % len(zones)]
            name = "%s-%s" % (res["baseInstanceName"], hashlib.sha1(f"{res['id']}-{i}".encode()).hexdigest()[:4])
            out.append({"instance": COMPUTE + f"projects/{ctx.project}/zones/{z}/instances/{name}",
                        "instanceStatus": "RUNNING" if res["status"]["isStable"] else "PROVISIONING",
                        "currentAction": "NONE" if res["status"]["isStable"] else "CREATING",
                        "version": {"instanceTemplate": res["instanceTemplate"]}})
        return Response(200, {"managedInstances": out})

    verbs = {"resize": resize, "setInstanceTemplate": set_instance_template,
             "listManagedInstances": list_managed_instances}


class RegionAutoscalers(Collection):
    name, kind, scope_kind = "autoscalers", "compute#autoscaler", "regions"
    updatable = True

    def build(self, ctx, body):
        res = base_resource(self, ctx, body)
        if not res.get("target"):
            raise bad("resource.target", "", "The target must be specified.")
        r, mig = ctx.existing(res["target"], "resource.target", {"instanceGroupManagers"}, same_region=True)
        res["target"] = r.url
        p = res.setdefault("autoscalingPolicy", {})
        mx, mn = p.get("maxNumReplicas"), p.setdefault("minNumReplicas", 1)
        if not isinstance(mx, int) or mx < 1:
            raise bad("resource.autoscalingPolicy.maxNumReplicas", mx, "Must be greater than or equal to 1.")
        if not isinstance(mn, int) or mn < 0 or mn > mx:
            raise bad("resource.autoscalingPolicy.minNumReplicas", mn, "Must be less than or equal to maxNumReplicas.")
        p.setdefault("coolDownPeriodSec", 60)
        if p["coolDownPeriodSec"] < 0 or p["coolDownPeriodSec"] > 3600:
            raise bad("resource.autoscalingPolicy.coolDownPeriodSec", p["coolDownPeriodSec"], "Must be between 0 and 3600.")
        if not (p.get("loadBalancingUtilization") or p.get("customMetricUtilizations") or p.get("cpuUtilization")):
            p["cpuUtilization"] = {"utilizationTarget": 0.6}
        cpu = p.get("cpuUtilization")
        if cpu:
            t = cpu.get("utilizationTarget", 0.6)
            if not 0 < t <= 1:
                raise bad("resource.autoscalingPolicy.cpuUtilization.utilizationTarget", t, "Must be in (0, 1].")
            cpu.setdefault("utilizationTarget", t)
            cpu.setdefault("predictiveMethod", "NONE")
        p.setdefault("mode", "ON")
        sic = p.get("scaleInControl")
        if sic and not 60 <= sic.get("timeWindowSec", 60) <= 3600:
            raise bad("resource.autoscalingPolicy.scaleInControl.timeWindowSec", sic.get("timeWindowSec"), "Must be between 60 and 3600.")
        res["status"] = "ACTIVE"
        res["recommendedSize"] = max(mn, min(mx, mig["targetSize"]))
        return res

    def attach(self, ctx, res):
        mig = ctx.st.get(parse_ref(res["target"], ctx.project, "target"))
        if mig is not None:
            mig["status"]["autoscaler"] = res["selfLink"]
            p = res["autoscalingPolicy"]
            mig["targetSize"] = max(p["minNumReplicas"], min(p["maxNumReplicas"], mig["targetSize"]))
            mig["currentActions"]["none"] = mig["targetSize"]
            res["recommendedSize"] = mig["targetSize"]

    def inserted(self, ctx, res, op):
        op.effects["DONE"].append(lambda: self.attach(ctx, res))

    def change(self, ctx, res, new):
        if parse_ref(new.get("target", ""), ctx.project, "resource.target") != parse_ref(res["target"], ctx.project, "t"):
            raise bad("resource.target", new.get("target"), "This field cannot be changed.")
        out = self.build(ctx, new)
        out["id"], out["creationTimestamp"] = res["id"], res["creationTimestamp"]
        return out

    def changed(self, ctx, res, op):
        op.effects["DONE"].append(lambda: self.attach(ctx, res))

    def on_delete(self, ctx, res, op):
        def gone():
            mig = ctx.st.get(parse_ref(res["target"], ctx.project, "target"))
            if mig is not None and mig["status"].get("autoscaler") == res["selfLink"]:
                del mig["status"]["autoscaler"]
        op.effects["DONE"].append(gone)


class HealthChecks(Collection):
    kind = "compute#healthCheck"
    name = "healthChecks"
    updatable = True
    ref_fields = ("healthChecks", "autoHealingPolicies.healthCheck")

    def __init__(self, scope_kind):
        self.scope_kind = scope_kind

    def build(self, ctx, body):
        res = base_resource(self, ctx, body)
        t = res.get("type")
        if t not in HEALTH_CHECK_TYPES:
            raise bad("resource.type", t, f"Must be one of {sorted(HEALTH_CHECK_TYPES)}.")
        key = HEALTH_CHECK_TYPES[t]
        for other in HEALTH_CHECK_TYPES.values():
            if other != key and other in res:
                raise bad(f"resource.{other}", "", f"The health check of type {t} takes {key}, not {other}.")
        sub = res.setdefault(key, {})
        if t != "GRPC":
            sub.setdefault("port", 443 if t in ("HTTPS", "SSL", "HTTP2") else 80)
        sub.setdefault("portSpecification", "USE_FIXED_PORT")
        if t in ("HTTP", "HTTPS", "HTTP2"):
            sub.setdefault("requestPath", "/")
            sub.setdefault("proxyHeader", "NONE")
        elif t in ("TCP", "SSL"):
            sub.setdefault("proxyHeader", "NONE")
        for k in ("checkIntervalSec", "timeoutSec", "healthyThreshold", "unhealthyThreshold"):
            res.setdefault(k, 5 if k.endswith("Sec") else 2)
            if not isinstance(res[k], int) or res[k] < 1:
                raise bad(f"resource.{k}", res[k], "Must be a positive integer.")
        if res["checkIntervalSec"] > 300:
            raise bad("resource.checkIntervalSec", res["checkIntervalSec"], "Must be at most 300.")
        if res["timeoutSec"] > res["checkIntervalSec"]:
            raise bad("resource.timeoutSec", res["timeoutSec"], "TimeoutSec should be less than checkIntervalSec.")
        if res["healthyThreshold"] > 10 or res["unhealthyThreshold"] > 10:
            raise bad("resource.healthyThreshold", res["healthyThreshold"], "Thresholds must be between 1 and 10.")
        return res

    def change(self, ctx, res, new):
        if new.get("type") != res.get("type") and new.get("type") is not None:
            for k in HEALTH_CHECK_TYPES.values():
                if k != HEALTH_CHECK_TYPES.get(new["type"]):
                    new.pop(k, None)
        out = self.build(ctx, new)
        out["id"], out["creationTimestamp"] = res["id"], res["creationTimestamp"]
        return out


class BackendServices(Collection):
    kind = "compute#backendService"
    name = "backendServices"
    updatable = True
    fingerprinted = True
    ref_fields = ("backendService", "defaultService")

    def __init__(self, scope_kind):
        self.scope_kind = scope_kind

    def build(self, ctx, body):
        res = base_resource(self, ctx, body)
        res.setdefault("loadBalancingScheme", "EXTERNAL")
        res.setdefault("protocol", "HTTP" if ctx.scope == "global" else "TCP")
        res.setdefault("sessionAffinity", "NONE")
        res.setdefault("timeoutSec", 30)
        hcs = res.get("healthChecks") or []
        if len(hcs) > 1:
            raise bad("resource.healthChecks", hcs, "At most one health check.")
        for i, hc in enumerate(hcs):
            r, _ = ctx.existing(hc, f"resource.healthChecks[{i}]", {"healthChecks"})
            if ctx.region and res["loadBalancingScheme"] == "EXTERNAL" and r.scope == "global":
                raise bad(f"resource.healthChecks[{i}]", hc, "A regional external backend service (external passthrough "
                          "Network Load Balancer) supports regional health checks only.")
            hcs[i] = r.url
        for i, b in enumerate(res.get("backends") or []):
            f = f"resource.backends[{i}].group"
            r = parse_ref(b.get("group", ""), ctx.project, f, {"instanceGroups"})
            if r.scope.startswith("regions/"):
                if ctx.st.get(Ref(r.project, r.scope, "instanceGroupManagers", r.name)) is None:
                    raise not_found(r.path)
            elif ctx.st.get(r) is None:  # an unmanaged zonal group
                raise not_found(r.path)
            elif ctx.region and scope_of(r.scope) != ctx.region:
                raise bad(f, b.get("group"), f"The instance group must be in region {ctx.region}.")
            b["group"] = r.url
            b.setdefault("balancingMode", "CONNECTION" if ctx.region else "UTILIZATION")
            b.setdefault("capacityScaler", 1)
        res["fingerprint"] = fingerprint({k: v for k, v in res.items() if k not in ("fingerprint", "id")})
        return res

    def change(self, ctx, res, new):
        out = self.build(ctx, new)
        out["id"], out["creationTimestamp"] = res["id"], res["creationTimestamp"]
        return out


class ForwardingRules(Collection):
    name, kind, scope_kind = "forwardingRules", "compute#forwardingRule", "regions"
    labelled = True
    fingerprinted = True

    def build(self, ctx, body):
        res = base_resource(self, ctx, body)
        res.setdefault("IPProtocol", "TCP")
        res.setdefault("loadBalancingScheme", "EXTERNAL")
        res.setdefault("networkTier", "PREMIUM")
        if res.get("ports") and res.get("portRange"):
            raise bad("resource.portRange", res["portRange"], "Only one of ports and portRange may be set.")
        if res.get("portRange") and not re.fullmatch(r"\d{1,5}(-\d{1,5})?", res["portRange"]):
            raise bad("resource.portRange", res["portRange"], "Must be a port or a range PORT-PORT.")
        if res.get("target"):
            raise bad("resource.target", res["target"], "The stand-in models forwarding rules to a backendService only.")
        if not res.get("backendService"):
            raise bad("resource.backendService", "", "The backend service must be specified.")
        r, bs = ctx.existing(res["backendService"], "resource.backendService", {"backendServices"}, same_region=True)
        if r.scope != ctx.scope:
            raise bad("resource.backendService", res["backendService"], "A regional forwarding rule needs a backend service in its region.")
        if bs["loadBalancingScheme"] != res["loadBalancingScheme"]:
            raise bad("resource.loadBalancingScheme", res["loadBalancingScheme"],
                      f"The backend service's load balancing scheme is {bs['loadBalancingScheme']}.")
        res["backendService"] = r.url
        if res.get("IPAddress"):
            try:
                ipaddress.ip_address(res["IPAddress"])
            except ValueError:
                raise bad("resource.IPAddress", res["IPAddress"], "Must be an IP address.")
        else:
            n = ctx.st.ip_next[ctx.project] = ctx.st.ip_next.get(ctx.project, 0) + 1
            res["IPAddress"] = "198.51.100.%d" % (n % 254 + 1)
        res["fingerprint"] = fingerprint({k: v for k, v in res.items() if k not in ("fingerprint", "id")})
        return res

    def change(self, ctx, res, new):
        out = self.build(ctx, new)
        out["id"], out["creationTimestamp"], out["IPAddress"] = res["id"], res["creationTimestamp"], res["IPAddress"]
        return out

    verbs = {"setLabels": lambda self, *a: set_labels(self, *a)}


class ZonalInstanceGroups(Collection):
    """Unmanaged zonal instance groups (added with the gcp provider, which puts named instances behind a backend
    service with them): insert/get/list/delete, addInstances, removeInstances, listInstances, setNamedPorts, as the
    Compute Engine reference describes them. Members are instances of the group's zone (and network, when the group
    names one); a deleted instance leaves its groups; a group a backend service uses cannot be deleted."""
    name, kind, scope_kind = "instanceGroups", "compute#instanceGroup", "zones"
    patchable = False
    ref_fields = ("backends.group",)

    def build(self, ctx, body):
        res = base_resource(self, ctx, body)
        if res.get("network"):
            r, _ = ctx.existing(res["network"], "resource.network", {"networks"})
            res["network"] = r.url
        for i, p in enumerate(res.get("namedPorts") or []):
            if not isinstance(p.get("port"), int) or not 1 <= p["port"] <= 65535:
                raise bad(f"resource.namedPorts[{i}].port", p.get("port"), "Must be between 1 and 65535.")
        res["size"] = 0
        res["fingerprint"] = fingerprint(res.get("namedPorts") or [])
        return res

    def members(self, ctx, res):
        return ctx.st.ig_members.setdefault((ctx.project, ctx.zone, res["name"]), [])

    def inserted(self, ctx, res):
        ctx.st.ig_members[(ctx.project, ctx.zone, res["name"])] = []

    def on_delete(self, ctx, res, op):
        op.effects["DONE"].append(lambda: ctx.st.ig_members.pop((ctx.project, ctx.zone, res["name"]), None))

    def instances_of(self, ctx, res, body, field="instances"):
        refs = []
        for i, item in enumerate(body.get(field) or []):
            f = f"{field}[{i}].instance"
            r, inst = ctx.existing((item or {}).get("instance", ""), f, {"instances"})
            if r.scope != ctx.scope:
                raise bad(f, item.get("instance"), f"The instance must be in the group's zone {ctx.zone}.")
            nets = [n.get("network") for n in inst.get("networkInterfaces", [])]
            if res.get("network") and res["network"] not in nets:
                raise bad(f, item.get("instance"), "The instance is not in the instance group's network.")
            refs.append(r.url)
        if not refs:
            raise bad(field, "", "At least one instance must be given.")
        return refs

    def add_instances(self, ctx, res, body, req):
        refs = self.instances_of(ctx, res, body)
        members = self.members(ctx, res)
        for url in refs:
            if url in members:
                raise APIError(400, "memberAlreadyExists", f"The resource '{url}' is already a member of "
                               f"'{ctx.ref(res['name']).path}'")

        def done():
            members.extend(u for u in refs if u not in members)
            res["size"] = len(members)
        return "compute.instanceGroups.addInstances", done

    def remove_instances(self, ctx, res, body, req):
        refs = self.instances_of(ctx, res, body)
        members = self.members(ctx, res)
        for url in refs:
            if url not in members:
                raise APIError(400, "memberNotFound", f"The resource '{url}' is not a member of '{ctx.ref(res['name']).path}'")

        def done():
            for u in refs:
                if u in members:
                    members.remove(u)
            res["size"] = len(members)
        return "compute.instanceGroups.removeInstances", done

    def list_instances(self, ctx, res, body, req):
        state = (body or {}).get("instanceState", "ALL")
        if state not in ("ALL", "RUNNING"):
            raise bad("instanceState", state, "Must be ALL or RUNNING.")
        out = []
        for url in self.members(ctx, res):
            inst = ctx.st.get(parse_ref(url, ctx.project, "instance")) or {}
            if state == "ALL" or inst.get("status") == "RUNNING":
                out.append({"instance": url, "status": inst.get("status", "RUNNING")})
        return Response(200, {"kind": "compute#instanceGroupsListInstances", **({"items": out} if out else {})})

    def set_named_ports(self, ctx, res, body, req):
        if body.get("fingerprint") is not None and body["fingerprint"] != res["fingerprint"]:
            raise APIError(412, "conditionNotMet", "Supplied fingerprint does not match current instance group fingerprint.")
        ports = body.get("namedPorts") or []

        def done():
            res["namedPorts"] = ports
            res["fingerprint"] = fingerprint(ports)
        return "compute.instanceGroups.setNamedPorts", done

    verbs = {"addInstances": add_instances, "removeInstances": remove_instances, "listInstances": list_instances,
             "setNamedPorts": set_named_ports}


COLLECTIONS = {"networks": Networks(), "subnetworks": Subnetworks(), "disks": Disks(), "instances": Instances(),
               "instanceTemplates": InstanceTemplates()}
REGIONAL = {"instanceGroupManagers": RegionInstanceGroupManagers(), "autoscalers": RegionAutoscalers(),
            "healthChecks": HealthChecks("regions"), "backendServices": BackendServices("regions"),
            "forwardingRules": ForwardingRules(), "subnetworks": COLLECTIONS["subnetworks"]}
GLOBAL = {"networks": COLLECTIONS["networks"], "instanceTemplates": COLLECTIONS["instanceTemplates"],
          "healthChecks": HealthChecks("global"), "backendServices": BackendServices("global")}
ZONAL = {"instances": COLLECTIONS["instances"], "disks": COLLECTIONS["disks"], "instanceGroups": ZonalInstanceGroups()}


def collection_for(scope, coll):
    table = GLOBAL if scope == "global" else REGIONAL if scope.startswith("regions/") else ZONAL
    return table.get(coll)


# ── list filters (Compute's `filter`: `labels.k = "v"`, `name != x`, `name eq 're'`, AND/OR, parentheses) ──

FILTER_TOKEN = re.compile(r'\s*(\(|\)|AND\b|OR\b|!=|=|:|>=|<=|>|<|\beq\b|\bne\b|"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|[^\s()=!:<>"\']+)')


def compile_filter(text):
    if not text or not text.strip():
        return lambda r: True
    toks, pos = [], 0
    while pos < len(text):
        m = FILTER_TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise APIError(400, "invalid", f"Invalid list filter expression '{text}'.")
        toks.append(m.group(1))
        pos = m.end()

    def value_of(res, path):
        cur = res
        for p in path.split("."):
            if isinstance(cur, dict) and p in cur:
                cur = cur[p]
            else:
                return None
        return cur

    def unquote(v):
        return v[1:-1] if len(v) >= 2 and v[0] in "\"'" else v

    def parse_or(i):
        left, i = parse_and(i)
        while i < len(toks) and toks[i] == "OR":
            right, i = parse_and(i + 1)
            left = (lambda a, b: lambda r: a(r) or b(r))(left, right)
        return left, i

    def parse_and(i):
        left, i = parse_atom(i)
        while i < len(toks) and toks[i] not in ("OR", ")"):
            if toks[i] == "AND":
                i += 1
            right, i = parse_atom(i)
            left = (lambda a, b: lambda r: a(r) and b(r))(left, right)
        return left, i

    def parse_atom(i):
        if i < len(toks) and toks[i] == "(":
            f, i = parse_or(i + 1)
            if i >= len(toks) or toks[i] != ")":
                raise APIError(400, "invalid", f"Invalid list filter expression '{text}'.")
            return f, i + 1
        if i + 2 >= len(toks):
            raise APIError(400, "invalid", f"Invalid list filter expression '{text}'.")
        field, op, val = toks[i], toks[i + 1], unquote(toks[i + 2])

        def f(r):
            v = value_of(r, field)
            s = "" if v is None else (json.dumps(v) if isinstance(v, bool) else str(v))
            if isinstance(v, bool):
                s = "true" if v else "false"
            if op == "=":
                return v is not None and s == val
            if op == "!=":
                return s != val
            if op == ":":
                return v is not None and (val == "*" or val in s)
            if op == "eq":
                return v is not None and re.fullmatch(val, s) is not None
            if op == "ne":
                return v is None or re.fullmatch(val, s) is None
            try:
                a, b = float(s), float(val)
            except ValueError:
                a, b = s, val
            return {">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b}[op]
        return f, i + 3

    fn, i = parse_or(0)
    if i != len(toks):
        raise APIError(400, "invalid", f"Invalid list filter expression '{text}'.")
    return fn


def page(items, req, kind, self_link, key="items"):
    flt = compile_filter(req.query.get("filter"))
    items = [x for x in items if flt(x)]
    if req.query.get("orderBy") == "creationTimestamp desc":
        items.sort(key=lambda x: x.get("creationTimestamp", ""), reverse=True)
    else:
        items.sort(key=lambda x: x.get("name", ""))
    size = int(req.query.get("maxResults") or req.query.get("pageSize") or 500)
    if not 0 < size <= 500:
        raise bad("maxResults", size, "Must be between 1 and 500.")
    start = int(req.query.get("pageToken") or 0) if (req.query.get("pageToken") or "0").isdigit() else 0
    out = {"kind": kind, "id": self_link, "selfLink": self_link}
    chunk = items[start:start + size]
    if chunk:
        out[key] = chunk
    if start + size < len(items):
        out["nextPageToken"] = str(start + size)
    return out


# ── the application ───────────────────────────────────────────────────────────

class StandIn:
    def __init__(self, args):
        self.st = State(args)
        self.args = args

    def handle(self, req):
        resp = self._handle(req)
        resp.headers["X-Stand-In"] = "maifctl test stand-in (not Google): see Tests/Servers/gcp/README.md"
        return resp

    def _handle(self, req):
        p = req.path
        if p.startswith("/_standin/"):
            return self.control(req)
        with self.st.lock:
            self.st.advance()
            self.st.calls += 1
        if p.startswith("/compute/v1/projects/"):
            return self.compute(req)
        if p.startswith("/dns/v1/projects/"):
            return DNS(self.st).handle(req)
        if p.startswith("/v3/projects/"):
            return Monitoring(self.st).handle(req)
        raise APIError(501, "notImplemented", f"stand-in: no handler for {req.method} {p}")

    # ── control API ──
    def control(self, req):
        st = self.st
        what = req.path[len("/_standin/"):]
        with st.lock:
            if what == "health":
                return Response(200, {"ok": True, "stand_in": True})
            if what == "reset" and req.method == "POST":
                st.reset()
                return Response(200, {"reset": True})
            if what == "config":
                if req.method == "POST":
                    body = req.json()
                    st.pending_s = float(body.get("opPendingSeconds", st.pending_s))
                    st.running_s = float(body.get("opRunningSeconds", st.running_s))
                    st.wait_s = float(body.get("waitSeconds", st.wait_s))
                return Response(200, {"opPendingSeconds": st.pending_s, "opRunningSeconds": st.running_s,
                                      "waitSeconds": st.wait_s})
            if what == "op-faults":
                if req.method == "POST":
                    body = req.json()
                    body["remaining"] = int(body.get("count", 1))
                    st.op_faults.append(body)
                elif req.method == "DELETE":
                    st.op_faults = []
                return Response(200, {"opFaults": st.op_faults})
            if what == "state":
                st.advance()
                return Response(200, {"compute": {"/".join(k): v for k, v in st.res.items() if v},
                                      "dns": {"/".join(k): {"zone": z, "rrsets": list(st.rrsets.get(k, {}).values())}
                                              for k, z in st.zones.items()},
                                      "monitoring": {"alertPolicies": st.policies, "notificationChannels": st.channels},
                                      "operationsPending": [op.body for op in st.live_ops], "calls": st.calls})
        raise APIError(404, "notFound", f"stand-in control: no {req.method} /_standin/{what}")

    # ── compute ──
    def compute(self, req):
        parts = req.path[len("/compute/v1/projects/"):].strip("/").split("/")
        project, rest = parts[0], parts[1:]
        st = self.st
        if not rest:
            return Response(200, {"kind": "compute#project", "name": project, "id": str(abs(hash(project)) % 10**12),
                                  "selfLink": COMPUTE + f"projects/{project}",
                                  "commonInstanceMetadata": {"kind": "compute#metadata", "fingerprint": EMPTY_FINGERPRINT},
                                  "defaultServiceAccount": "123456789012-compute@developer.gserviceaccount.com",
                                  "xpnProjectStatus": "UNSPECIFIED_XPN_PROJECT_STATUS", "defaultNetworkTier": "PREMIUM"})
        if rest[0] == "aggregated" and len(rest) == 2:
            return self.aggregated(req, project, rest[1])
        if rest[0] in ("zones", "regions") and len(rest) <= 2:
            return self.locations(req, project, rest)
        if rest[0] == "global":
            scope, rest = "global", rest[1:]
        elif rest[0] in ("regions", "zones") and len(rest) >= 3:
            scope, rest = f"{rest[0]}/{rest[1]}", rest[2:]
            if scope.startswith("zones/"):
                check_zone(scope[6:])
            else:
                check_region(scope[8:])
        else:
            raise APIError(501, "notImplemented", f"stand-in: no handler for {req.method} {req.path}")
        if rest[0] == "operations":
            return self.operations(req, project, scope, rest[1:])
        if scope.startswith("zones/") and rest[0] in ("machineTypes", "diskTypes"):
            return self.types(req, project, scope, rest)
        if scope.startswith("regions/") and rest[0] == "instanceGroups":
            return self.instance_groups(req, project, scope, rest[1:])
        coll = collection_for(scope, rest[0])
        if coll is None:
            raise APIError(501, "notImplemented", f"stand-in: Compute collection {scope}/{rest[0]} is not modelled")
        ctx = Ctx(st, req, project, scope, rest[0])
        method_base = {"global": "", "regions": "region"}.get(scope.split("/")[0], "")
        mid = f"compute.{method_base + rest[0][0].upper() + rest[0][1:] if method_base else rest[0]}"
        with st.lock:
            items = st.coll(project, scope, rest[0])
            if len(rest) == 1:
                if req.method == "GET":
                    return Response(200, page(list(items.values()), req, coll.kind + "List", ctx.scope_url() + "/" + rest[0]))
                if req.method == "POST":
                    return self.insert(ctx, coll, items, req, mid + ".insert")
                if req.method in ("PATCH", "PUT") and "autoscaler" in req.query:  # regionAutoscalers.patch/update
                    return self.modify(ctx, coll, items, req.query["autoscaler"], req, mid)
            elif len(rest) == 2:
                name = rest[1]
                if req.method == "GET":
                    if name not in items:
                        raise not_found(ctx.ref(name).path)
                    return Response(200, items[name])
                if req.method == "DELETE":
                    return self.delete(ctx, coll, items, name, req, mid + ".delete")
                if req.method in ("PATCH", "PUT"):
                    return self.modify(ctx, coll, items, name, req, mid)
            elif len(rest) == 3 and req.method == "POST":
                name, verb = rest[1], rest[2]
                fn = coll.verbs.get(verb)
                if fn is None:
                    raise APIError(501, "notImplemented", f"stand-in: {mid}.{verb} is not modelled")
                return self.action(ctx, coll, items, name, verb, fn, req, mid + "." + verb)
        raise APIError(501, "notImplemented", f"stand-in: no handler for {req.method} {req.path}")

    def remembered(self, ctx, req):
        """requestId: a repeated one answers the operation of the first call, whatever the body."""
        rid = req.query.get("requestId")
        if rid is None:
            return None, None
        try:
            u = uuid.UUID(rid)
            assert u.int != 0
        except (ValueError, AssertionError):
            raise bad("requestId", rid, "The request ID must be a valid UUID with the exception that zero UUID is not supported.")
        op = self.st.request_ids.get((ctx.project, rid))
        return rid, op

    def answer(self, op):
        return Response(200, op.body)

    def insert(self, ctx, coll, items, req, mid):
        rid, op = self.remembered(ctx, req)
        if op is not None:
            return self.answer(op)
        body = req.json()
        name = body.get("name")
        if isinstance(name, str) and name in items:
            raise APIError(409, "alreadyExists", f"The resource '{ctx.ref(name).path}' already exists")
        res = coll.build(ctx, copy.deepcopy(body))
        op = self.st.new_op(ctx.project, ctx.scope, "insert", res["selfLink"], res["id"], method_id(req, mid))
        if not op.failure:  # an operation that will fail creates nothing
            items[res["name"]] = res
            if hasattr(coll, "inserted"):
                if coll.inserted.__code__.co_argcount == 3:
                    coll.inserted(ctx, res)
                else:
                    coll.inserted(ctx, res, op)
        if rid:
            self.st.request_ids[(ctx.project, rid)] = op
        return self.answer(op)

    def delete(self, ctx, coll, items, name, req, mid):
        rid, op = self.remembered(ctx, req)
        if op is not None:
            return self.answer(op)
        res = items.get(name)
        if res is None:
            raise not_found(ctx.ref(name).path)
        coll.check_delete(ctx, res)
        op = self.st.new_op(ctx.project, ctx.scope, "delete", res["selfLink"], res["id"], method_id(req, mid))
        if not op.failure:
            coll.on_delete(ctx, res, op)
            op.effects["DONE"].append(lambda: items.get(name) is res and items.pop(name))
        if rid:
            self.st.request_ids[(ctx.project, rid)] = op
        return self.answer(op)

    def modify(self, ctx, coll, items, name, req, mid):
        rid, op = self.remembered(ctx, req)
        if op is not None:
            return self.answer(op)
        res = items.get(name)
        if res is None:
            raise not_found(ctx.ref(name).path)
        if req.method == "PATCH" and not coll.patchable or req.method == "PUT" and not coll.updatable:
            raise APIError(501, "notImplemented", f"stand-in: {mid}.{'patch' if req.method == 'PATCH' else 'update'} is not modelled")
        body = req.json()
        if coll.fingerprinted and body.get("fingerprint") is not None and body["fingerprint"] != res.get("fingerprint"):
            raise APIError(412, "conditionNotMet", "Invalid fingerprint.")
        if coll.name == "subnetworks" and req.method == "PATCH" and body.get("fingerprint") is None:
            raise bad("resource.fingerprint", "", "Fingerprint is required when patching a subnetwork.")
        if body.get("name") not in (None, name):
            raise bad("resource.name", body.get("name"), "The name cannot be changed.")
        if req.method == "PATCH":
            new = merge_patch(res, body)
        else:
            new = copy.deepcopy(body)
            new["name"] = name
        for k in ("kind", "id", "creationTimestamp", "selfLink", "fingerprint", "status", "region", "zone",
                  "labelFingerprint", "recommendedSize", "instanceGroup", "currentActions", "gatewayAddress"):
            new.pop(k, None)
        if coll.labelled:
            new["labels"] = res.get("labels", {})  # labels change by setLabels only
        updated = coll.change(ctx, res, new)
        op_type = "patch" if req.method == "PATCH" else "update"
        op = self.st.new_op(ctx.project, ctx.scope, op_type, res["selfLink"], res["id"], method_id(req, f"{mid}.{op_type}"))
        if not op.failure:
            def done():
                keep = res.get("status") if isinstance(res.get("status"), dict) else None
                res.clear()
                res.update(updated)
                if keep is not None:
                    res["status"] = keep
            op.effects["DONE"].append(done)
            if hasattr(coll, "changed"):
                coll.changed(ctx, res, op)
        if rid:
            self.st.request_ids[(ctx.project, rid)] = op
        return self.answer(op)

    def action(self, ctx, coll, items, name, verb, fn, req, mid):
        rid, op = self.remembered(ctx, req)
        if op is not None:
            return self.answer(op)
        res = items.get(name)
        if res is None:
            raise not_found(ctx.ref(name).path)
        out = fn(coll, ctx, res, req.json(), req)
        if isinstance(out, Response):
            return out
        op_type, effect = out
        op = self.st.new_op(ctx.project, ctx.scope, op_type, res["selfLink"], res["id"], method_id(req, mid))
        if not op.failure:
            if isinstance(effect, tuple):
                op.effects["RUNNING"].append(effect[0])
                op.effects["DONE"].append(effect[1])
            else:
                op.effects["DONE"].append(effect)
        if rid:
            self.st.request_ids[(ctx.project, rid)] = op
        return self.answer(op)

    def operations(self, req, project, scope, rest):
        st = self.st
        with st.lock:
            ops = st.ops.get((project, scope), {})
            if not rest and req.method == "GET":
                return Response(200, page([o.body for o in ops.values()], req, "compute#operationList",
                                          COMPUTE + f"projects/{project}/{scope}/operations"))
            name = rest[0]
            op = ops.get(name)
            if op is None:
                raise not_found(f"projects/{project}/{scope}/operations/{name}")
            if len(rest) == 1 and req.method == "GET":
                return self.answer(op)
            if len(rest) == 1 and req.method == "DELETE":
                del ops[name]
                return Response(204)
            if not (len(rest) == 2 and rest[1] == "wait" and req.method == "POST"):
                raise APIError(501, "notImplemented", f"stand-in: no handler for {req.method} {req.path}")
        deadline = time.monotonic() + st.wait_s
        while True:
            with st.lock:
                st.advance()
                if op.body["status"] == "DONE" or time.monotonic() >= deadline:
                    return self.answer(op)
                at = op.done_at()
            time.sleep(min(0.5, max(0.01, (at - time.monotonic()) if at else 0.5)))

    def aggregated(self, req, project, coll):
        st = self.st
        with st.lock:
            out = {}
            for (p, scope, c), items in st.res.items():
                if p == project and c == coll and items:
                    out[scope] = {coll: list(items.values())}
            flt = compile_filter(req.query.get("filter"))
            out = {k: {coll: [x for x in v[coll] if flt(x)]} for k, v in out.items()}
            out = {k: v for k, v in out.items() if v[coll]}
            return Response(200, {"kind": f"compute#{coll[:-1]}AggregatedList", "items": out,
                                  "selfLink": COMPUTE + f"projects/{project}/aggregated/{coll}"})

    def locations(self, req, project, rest):
        def zone(z):
            region = z.rsplit("-", 1)[0]
            return {"kind": "compute#zone", "name": z, "status": "UP", "id": str(abs(hash(z)) % 10**4),
                    "region": COMPUTE + f"projects/{project}/regions/{region}",
                    "selfLink": COMPUTE + f"projects/{project}/zones/{z}", "description": z}

        def region(r):
            return {"kind": "compute#region", "name": r, "status": "UP", "id": str(abs(hash(r)) % 10**4),
                    "zones": [COMPUTE + f"projects/{project}/zones/{r}-{z}" for z in REGIONS[r]],
                    "selfLink": COMPUTE + f"projects/{project}/regions/{r}", "description": r}
        if rest[0] == "zones":
            if len(rest) == 2:
                check_zone(rest[1])
                return Response(200, zone(rest[1]))
            return Response(200, page([zone(f"{r}-{z}") for r, zs in REGIONS.items() for z in zs], req,
                                      "compute#zoneList", COMPUTE + f"projects/{project}/zones"))
        if len(rest) == 2:
            check_region(rest[1])
            return Response(200, region(rest[1]))
        return Response(200, page([region(r) for r in REGIONS], req, "compute#regionList", COMPUTE + f"projects/{project}/regions"))

    def types(self, req, project, scope, rest):
        zone = scope[6:]
        if rest[0] == "machineTypes":
            def mt(name):
                cpu, mem = MACHINE_TYPES[name]
                return {"kind": "compute#machineType", "name": name, "guestCpus": cpu, "memoryMb": mem,
                        "zone": zone, "isSharedCpu": name in ("e2-micro", "e2-small", "e2-medium", "f1-micro", "g1-small"),
                        "maximumPersistentDisks": 128, "maximumPersistentDisksSizeGb": "263168",
                        "selfLink": COMPUTE + f"projects/{project}/zones/{zone}/machineTypes/{name}",
                        "description": f"{cpu} vCPUs, {mem / 1024:g} GB RAM"}
            if len(rest) == 2:
                if rest[1] not in MACHINE_TYPES:
                    raise not_found(f"projects/{project}/zones/{zone}/machineTypes/{rest[1]}")
                return Response(200, mt(rest[1]))
            return Response(200, page([mt(n) for n in MACHINE_TYPES], req, "compute#machineTypeList",
                                      COMPUTE + f"projects/{project}/zones/{zone}/machineTypes"))

        def dt(name):
            return {"kind": "compute#diskType", "name": name, "zone": COMPUTE + f"projects/{project}/zones/{zone}",
                    "selfLink": COMPUTE + f"projects/{project}/zones/{zone}/diskTypes/{name}",
                    "defaultDiskSizeGb": "500" if name == "pd-standard" else "100", "validDiskSize": "10GB-65536GB"}
        if len(rest) == 2:
            if rest[1] not in DISK_TYPES:
                raise not_found(f"projects/{project}/zones/{zone}/diskTypes/{rest[1]}")
            return Response(200, dt(rest[1]))
        return Response(200, page([dt(n) for n in DISK_TYPES], req, "compute#diskTypeList",
                                  COMPUTE + f"projects/{project}/zones/{zone}/diskTypes"))

    def instance_groups(self, req, project, scope, rest):
        with self.st.lock:
            migs = self.st.coll(project, scope, "instanceGroupManagers")

            def ig(m):
                t = self.st.get(parse_ref(m["instanceTemplate"], project, "t")) or {}
                nets = [n.get("network") for n in t.get("properties", {}).get("networkInterfaces", [])]
                return {"kind": "compute#instanceGroup", "name": m["name"], "id": m["id"],
                        "selfLink": m["instanceGroup"], "region": m["region"], "size": m["targetSize"],
                        "namedPorts": m.get("namedPorts", []), "creationTimestamp": m["creationTimestamp"],
                        "fingerprint": EMPTY_FINGERPRINT, **({"network": nets[0]} if nets else {})}
            if not rest and req.method == "GET":
                return Response(200, page([ig(m) for m in migs.values()], req, "compute#regionInstanceGroupList",
                                          COMPUTE + f"projects/{project}/{scope}/instanceGroups"))
            if len(rest) == 1 and req.method == "GET":
                if rest[0] not in migs:
                    raise not_found(f"projects/{project}/{scope}/instanceGroups/{rest[0]}")
                return Response(200, ig(migs[rest[0]]))
        raise APIError(501, "notImplemented", f"stand-in: no handler for {req.method} {req.path}")


# ── Cloud DNS v1 ──────────────────────────────────────────────────────────────

DNS_TYPES = ("A", "AAAA", "CAA", "CNAME", "DNSKEY", "DS", "HTTPS", "IPSECKEY", "MX", "NAPTR", "NS", "PTR", "SOA",
             "SPF", "SRV", "SSHFP", "SVCB", "TLSA", "TXT")


class DNS:
    def __init__(self, st):
        self.st = st

    def handle(self, req):
        parts = [unquote(x) for x in req.path[len("/dns/v1/projects/"):].strip("/").split("/")]
        project, rest = parts[0], parts[1:]
        with self.st.lock:
            if rest and rest[0] == "managedZones":
                if len(rest) == 1:
                    return self.zones_list(req, project) if req.method == "GET" else self.zone_create(req, project)
                zone = rest[1]
                if len(rest) == 2:
                    fn = {"GET": self.zone_get, "DELETE": self.zone_delete, "PATCH": self.zone_patch,
                          "PUT": self.zone_patch}.get(req.method)
                    if fn:
                        return fn(req, project, zone)
                z = self.zone(project, zone)
                if rest[2] == "rrsets":
                    if len(rest) == 3:
                        return self.rr_list(req, project, z) if req.method == "GET" else self.rr_create(req, project, z)
                    if len(rest) == 5:
                        key = (rest[3], rest[4])
                        fn = {"GET": self.rr_get, "DELETE": self.rr_delete, "PATCH": self.rr_patch}.get(req.method)
                        if fn:
                            return fn(req, project, z, key)
                if rest[2] == "changes":
                    if len(rest) == 3:
                        return self.changes_list(req, project, z) if req.method == "GET" else self.change_create(req, project, z)
                    if len(rest) == 4 and req.method == "GET":
                        return self.change_get(req, project, z, rest[3])
        raise APIError(501, "notImplemented", f"stand-in: Cloud DNS {req.method} {req.path} is not modelled")

    def zone(self, project, name):
        z = self.st.zones.get((project, name))
        if z is None:
            raise APIError(404, "notFound", f"The 'parameters.managedZone' resource named '{name}' does not exist.")
        return z

    def zone_create(self, req, project):
        body = req.json()
        name = body.get("name")
        if not isinstance(name, str) or not re.fullmatch(NAME_RE, name):
            raise APIError(400, "invalid", f"Invalid value for 'entity.managedZone.name': '{name}'")
        dns_name = body.get("dnsName")
        if not isinstance(dns_name, str) or not dns_name.endswith(".") or not re.fullmatch(r"(?:[a-z0-9-]+\.)+", dns_name.lower()):
            raise APIError(400, "invalid", f"Invalid value for 'entity.managedZone.dnsName': '{dns_name}'")
        if body.get("description") is None:
            raise APIError(400, "required", "Required value 'entity.managedZone.description' is missing.")
        if (project, name) in self.st.zones:
            raise APIError(409, "alreadyExists", f"The resource 'entity.managedZone' named '{name}' already exists")
        check_labels(body.get("labels"), "entity.managedZone.labels")
        vis = body.get("visibility", "public")
        if vis == "private" and not (body.get("privateVisibilityConfig") or {}).get("networks"):
            raise APIError(400, "invalid", "A private zone needs privateVisibilityConfig.networks.")
        z = copy.deepcopy(body)
        shard = random.randint(1, 9)
        z.update({"kind": "dns#managedZone", "id": gid(), "creationTime": now_rfc3339(), "visibility": vis,
                  "nameServers": [f"ns-cloud-{c}{shard}.googledomains.com." for c in "abcd"]})
        if vis == "public":
            z.setdefault("dnssecConfig", {"kind": "dns#managedZoneDnsSecConfig", "state": "off", "nonExistence": "nsec3"})
        z.setdefault("cloudLoggingConfig", {"kind": "dns#managedZoneCloudLoggingConfig", "enableLogging": False})
        self.st.zones[(project, name)] = z
        self.st.rrsets[(project, name)] = {
            (dns_name, "NS"): {"kind": "dns#resourceRecordSet", "name": dns_name, "type": "NS", "ttl": 21600,
                               "rrdatas": z["nameServers"]},
            (dns_name, "SOA"): {"kind": "dns#resourceRecordSet", "name": dns_name, "type": "SOA", "ttl": 21600,
                                "rrdatas": [f"{z['nameServers'][0]} cloud-dns-hostmaster.google.com. 1 21600 3600 259200 300"]},
        }
        return Response(200, z)

    def zones_list(self, req, project):
        zs = [z for (p, _), z in self.st.zones.items() if p == project]
        if req.query.get("dnsName"):
            zs = [z for z in zs if z["dnsName"] == req.query["dnsName"]]
        return Response(200, self._page(req, zs, "managedZones", "dns#managedZonesListResponse"))

    def zone_get(self, req, project, name):
        return Response(200, self.zone(project, name))

    def zone_delete(self, req, project, name):
        z = self.zone(project, name)
        extra = [k for k in self.st.rrsets[(project, name)] if not (k[0] == z["dnsName"] and k[1] in ("NS", "SOA"))]
        if extra:
            raise APIError(400, "containerNotEmpty", f"The resource named '{name}' cannot be deleted because it is not empty")
        del self.st.zones[(project, name)]
        del self.st.rrsets[(project, name)]
        return Response(204)

    def zone_patch(self, req, project, name):
        z = self.zone(project, name)
        body = req.json()
        for k in ("name", "dnsName"):
            if body.get(k) not in (None, z[k]):
                raise APIError(400, "invalid", f"Invalid value for 'entity.managedZone.{k}': it cannot be changed")
        check_labels(body.get("labels"), "entity.managedZone.labels")
        old = copy.deepcopy(z)
        if req.method == "PATCH":
            z.update({k: v for k, v in body.items() if k not in ("id", "kind", "creationTime", "nameServers")})
        else:
            keep = {k: z[k] for k in ("id", "kind", "creationTime", "nameServers", "name", "dnsName")}
            z.clear()
            z.update(body)
            z.update(keep)
        return Response(200, {"kind": "dns#operation", "id": str(random.randint(1, 10**6)), "status": "done",
                              "type": "UPDATE", "startTime": now_rfc3339(), "user": self.st.user,
                              "zoneContext": {"oldValue": old, "newValue": copy.deepcopy(z)}})

    def _page(self, req, items, key, kind):
        size = int(req.query.get("maxResults") or 1000)
        start = int(req.query.get("pageToken") or 0)
        out = {"kind": kind, key: items[start:start + size]}
        if start + size < len(items):
            out["nextPageToken"] = str(start + size)
        return out

    def check_rrset(self, z, rr, where="entity.rrset"):
        name, typ = rr.get("name"), rr.get("type")
        if not isinstance(name, str) or not name.endswith("."):
            raise APIError(400, "invalid", f"Invalid value for '{where}.name': '{name}'")
        if not (name == z["dnsName"] or name.endswith("." + z["dnsName"])):
            raise APIError(400, "invalid", f"The resource record set name '{name}' is not within the zone '{z['dnsName']}'.")
        if typ not in DNS_TYPES:
            raise APIError(400, "invalid", f"Invalid value for '{where}.type': '{typ}'")
        if typ == "CNAME" and name == z["dnsName"]:
            raise APIError(400, "invalid", "A CNAME record cannot be at the zone apex.")
        ttl = rr.get("ttl", 300)
        if not isinstance(ttl, int) or ttl < 0:
            raise APIError(400, "invalid", f"Invalid value for '{where}.ttl': '{ttl}'")
        has_data, policy = bool(rr.get("rrdatas")), rr.get("routingPolicy")
        if has_data == bool(policy):
            raise APIError(400, "invalid", f"Exactly one of '{where}.rrdatas' and '{where}.routingPolicy' must be set.")

        def check_data(datas, w):
            for d in datas:
                if typ == "A":
                    try:
                        assert ipaddress.ip_address(d).version == 4
                    except (ValueError, AssertionError):
                        raise APIError(400, "invalid", f"Invalid value for '{w}': '{d}'")
                elif typ == "AAAA":
                    try:
                        assert ipaddress.ip_address(d).version == 6
                    except (ValueError, AssertionError):
                        raise APIError(400, "invalid", f"Invalid value for '{w}': '{d}'")
                elif typ in ("CNAME", "NS", "PTR") and not d.endswith("."):
                    raise APIError(400, "invalid", f"Invalid value for '{w}': '{d}' (a name must end with '.')")
        if has_data:
            check_data(rr["rrdatas"], f"{where}.rrdatas")
        if policy:
            kinds = [k for k in ("geo", "wrr", "primaryBackup") if policy.get(k)]
            if len(kinds) != 1:
                raise APIError(400, "invalid", f"'{where}.routingPolicy' must set exactly one of geo, wrr, primaryBackup.")
            if "geo" in kinds:
                items, seen = policy["geo"].get("items") or [], set()
                if not items:
                    raise APIError(400, "invalid", f"'{where}.routingPolicy.geo.items' must not be empty.")
                for i, it in enumerate(items):
                    loc = it.get("location")
                    if loc not in REGIONS:
                        raise APIError(400, "invalid", f"Invalid value for '{where}.routingPolicy.geo.items[{i}].location': '{loc}'")
                    if loc in seen:
                        raise APIError(400, "invalid", f"Duplicate location '{loc}' in '{where}.routingPolicy.geo.items'.")
                    seen.add(loc)
                    if bool(it.get("rrdatas")) == bool(it.get("healthCheckedTargets")):
                        raise APIError(400, "invalid", f"'{where}.routingPolicy.geo.items[{i}]' needs rrdatas or healthCheckedTargets.")
                    check_data(it.get("rrdatas") or [], f"{where}.routingPolicy.geo.items[{i}].rrdatas")
            if "wrr" in kinds:
                for i, it in enumerate(policy["wrr"].get("items") or []):
                    if not isinstance(it.get("weight"), (int, float)) or it["weight"] < 0:
                        raise APIError(400, "invalid", f"Invalid value for '{where}.routingPolicy.wrr.items[{i}].weight'")
                    check_data(it.get("rrdatas") or [], f"{where}.routingPolicy.wrr.items[{i}].rrdatas")
        out = copy.deepcopy(rr)
        out["kind"], out["ttl"] = "dns#resourceRecordSet", ttl
        if policy:
            out["routingPolicy"].setdefault("kind", "dns#rRSetRoutingPolicy")
            for k in ("geo", "wrr"):
                if k in out["routingPolicy"]:
                    pol = out["routingPolicy"][k]
                    pol.setdefault("kind", "dns#rRSetRoutingPolicyGeoPolicy" if k == "geo" else "dns#rRSetRoutingPolicyWrrPolicy")
                    for it in pol.get("items", []):
                        it.setdefault("kind", "dns#rRSetRoutingPolicyGeoPolicyGeoPolicyItem" if k == "geo"
                                      else "dns#rRSetRoutingPolicyWrrPolicyWrrPolicyItem")
        return out

    def rr_create(self, req, project, z):
        rr = self.check_rrset(z, req.json())
        sets = self.st.rrsets[(project, z["name"])]
        key = (rr["name"], rr["type"])
        if key in sets:
            raise APIError(409, "alreadyExists", f"The resource 'entity.rrset' named '{rr['name']} ({rr['type']})' already exists")
        if rr["type"] == "CNAME" and any(k[0] == rr["name"] for k in sets) or \
                any(k == (rr["name"], "CNAME") for k in sets):
            raise APIError(400, "cnameResourceRecordSetConflict",
                           f"The resource record set 'entity.rrset' named '{rr['name']}' conflicts with a CNAME at the same name.")
        sets[key] = rr
        return Response(200, rr)

    def rr_get(self, req, project, z, key):
        rr = self.st.rrsets[(project, z["name"])].get(key)
        if rr is None:
            raise APIError(404, "notFound", f"The 'parameters.name' resource named '{key[0]} ({key[1]})' does not exist.")
        return Response(200, rr)

    def rr_delete(self, req, project, z, key):
        sets = self.st.rrsets[(project, z["name"])]
        if key not in sets:
            raise APIError(404, "notFound", f"The 'parameters.name' resource named '{key[0]} ({key[1]})' does not exist.")
        if key[0] == z["dnsName"] and key[1] in ("SOA", "NS"):
            raise APIError(400, "invalid", f"The zone apex {key[1]} record set cannot be deleted.")
        del sets[key]
        return Response(200, {})

    def rr_patch(self, req, project, z, key):
        sets = self.st.rrsets[(project, z["name"])]
        if key not in sets:
            raise APIError(404, "notFound", f"The 'parameters.name' resource named '{key[0]} ({key[1]})' does not exist.")
        body = req.json()
        new = dict(body)
        new.setdefault("name", key[0])
        new.setdefault("type", key[1])
        if (new["name"], new["type"]) != key:
            raise APIError(400, "invalid", "The name and type of a record set cannot be changed.")
        if "routingPolicy" in body:
            new.pop("rrdatas", None)
        elif "rrdatas" in body:
            new.pop("routingPolicy", None)
        else:
            for k in ("rrdatas", "routingPolicy"):
                if k in sets[key]:
                    new[k] = sets[key][k]
        new.setdefault("ttl", sets[key]["ttl"])
        sets[key] = self.check_rrset(z, new)
        return Response(200, sets[key])

    def rr_list(self, req, project, z):
        items = list(self.st.rrsets[(project, z["name"])].values())
        if req.query.get("name"):
            items = [r for r in items if r["name"] == req.query["name"]]
        if req.query.get("type"):
            if not req.query.get("name"):
                raise APIError(400, "invalid", "The 'type' parameter needs the 'name' parameter.")
            items = [r for r in items if r["type"] == req.query["type"]]
        items.sort(key=lambda r: (r["name"], r["type"]))
        return Response(200, self._page(req, items, "rrsets", "dns#resourceRecordSetsListResponse"))

    def change_create(self, req, project, z):
        body = req.json()
        sets = self.st.rrsets[(project, z["name"])]
        dels = [self.check_rrset(z, d, f"entity.change.deletions[{i}]") for i, d in enumerate(body.get("deletions") or [])]
        adds = [self.check_rrset(z, a, f"entity.change.additions[{i}]") for i, a in enumerate(body.get("additions") or [])]
        if not adds and not dels:
            raise APIError(400, "required", "The 'entity.change' resource must have additions or deletions.")
        after = dict(sets)
        for i, d in enumerate(dels):
            key = (d["name"], d["type"])
            if key not in after:
                raise APIError(404, "notFound", f"The 'entity.change.deletions[{i}]' resource named '{key[0]} ({key[1]})' does not exist.")
            cur = {k: v for k, v in after[key].items() if k != "kind"}
            if {k: v for k, v in d.items() if k != "kind"} != cur:
                raise APIError(412, "conditionNotMet",
                               f"Precondition not met for 'entity.change.deletions[{i}]'")
            del after[key]
        for i, a in enumerate(adds):
            key = (a["name"], a["type"])
            if key in after:
                raise APIError(409, "alreadyExists", f"The resource 'entity.change.additions[{i}]' named '{key[0]} ({key[1]})' already exists")
            after[key] = a
        cid = str(len(self.st.changes.setdefault((project, z["name"]), {})) + 1)
        change = {"kind": "dns#change", "id": cid, "startTime": now_rfc3339(), "status": "pending"}
        if adds:
            change["additions"] = adds
        if dels:
            change["deletions"] = dels
        sets.clear()
        sets.update(after)  # applied now; reported pending until the delay has passed
        self.st.changes[(project, z["name"])][cid] = [change, time.monotonic()]
        return Response(200, copy.deepcopy(change))

    def _change(self, entry):
        change, t0 = entry
        if change["status"] == "pending" and time.monotonic() - t0 >= self.st.pending_s + self.st.running_s:
            change["status"] = "done"
        return change

    def change_get(self, req, project, z, cid):
        entry = self.st.changes.get((project, z["name"]), {}).get(cid)
        if entry is None:
            raise APIError(404, "notFound", f"The 'parameters.changeId' resource named '{cid}' does not exist.")
        return Response(200, self._change(entry))

    def changes_list(self, req, project, z):
        items = [self._change(e) for e in self.st.changes.get((project, z["name"]), {}).values()]
        return Response(200, self._page(req, items, "changes", "dns#changesListResponse"))


# ── Cloud Monitoring v3 ───────────────────────────────────────────────────────

CONDITION_KINDS = ("conditionThreshold", "conditionAbsent", "conditionMatchedLog", "conditionMonitoringQueryLanguage",
                   "conditionPrometheusQueryLanguage", "conditionSql")


def mon_error(code, message):
    return APIError(code, {400: "badRequest", 404: "notFound", 409: "alreadyExists"}.get(code, "backendError"), message)


def duration_ok(v):
    return isinstance(v, str) and re.fullmatch(r"\d+(\.\d{1,9})?s", v) is not None


class Monitoring:
    def __init__(self, st):
        self.st = st

    def handle(self, req):
        parts = req.path[len("/v3/projects/"):].strip("/").split("/")
        project, rest = parts[0], parts[1:]
        with self.st.lock:
            if rest and rest[0] in ("alertPolicies", "notificationChannels"):
                store = (self.st.policies if rest[0] == "alertPolicies" else self.st.channels).setdefault(project, {})
                kind = rest[0]
                if len(rest) == 1:
                    return self.list(req, project, kind, store) if req.method == "GET" else self.create(req, project, kind, store)
                if len(rest) == 2:
                    obj = store.get(rest[1])
                    if obj is None:
                        raise mon_error(404, "Requested entity was not found.")
                    if req.method == "GET":
                        return Response(200, obj)
                    if req.method == "DELETE":
                        if kind == "notificationChannels" and req.query.get("force") != "true":
                            users = [p["name"] for p in self.st.policies.get(project, {}).values()
                                     if obj["name"] in p.get("notificationChannels", [])]
                            if users:
                                raise APIError(400, "failedPrecondition", f"Notification channel '{obj['name']}' is "
                                               f"referenced by alerting policies: {users[0]}", status="FAILED_PRECONDITION")
                        del store[rest[1]]
                        return Response(200, {})
                    if req.method == "PATCH":
                        return self.patch(req, project, kind, store, obj)
        raise APIError(501, "notImplemented", f"stand-in: Cloud Monitoring {req.method} {req.path} is not modelled")

    def check_policy(self, project, p):
        if not p.get("displayName"):
            raise mon_error(400, "Field alert_policy.display_name had an invalid value: a display name is required.")
        conds = p.get("conditions") or []
        if not 1 <= len(conds) <= 6:
            raise mon_error(400, "Field alert_policy.conditions had an invalid value: an alert policy has 1 to 6 conditions.")
        if len(conds) > 1 and p.get("combiner") in (None, "COMBINE_UNSPECIFIED"):
            raise mon_error(400, "Field alert_policy.combiner had an invalid value: a policy with several conditions needs a combiner.")
        for i, c in enumerate(conds):
            kinds = [k for k in CONDITION_KINDS if c.get(k) is not None]
            if len(kinds) != 1:
                raise mon_error(400, f"Field alert_policy.conditions[{i}] had an invalid value: exactly one condition type is required.")
            if not c.get("displayName"):
                raise mon_error(400, f"Field alert_policy.conditions[{i}].display_name had an invalid value: required.")
            body = c[kinds[0]]
            if kinds[0] in ("conditionThreshold", "conditionAbsent"):
                if not body.get("filter") or "metric.type" not in body["filter"] and "resource.type" not in body["filter"]:
                    raise mon_error(400, f"Field alert_policy.conditions[{i}].{kinds[0]}.filter had an invalid value: "
                                    "a filter such as metric.type=\"compute.googleapis.com/instance/cpu/utilization\" is required.")
                if not duration_ok(body.get("duration")):
                    raise mon_error(400, f"Field alert_policy.conditions[{i}].{kinds[0]}.duration had an invalid value: "
                                    f"{body.get('duration')!r} (a duration such as \"300s\").")
                if kinds[0] == "conditionThreshold" and body.get("comparison") in (None, "COMPARISON_UNSPECIFIED") and \
                        not body.get("forecastOptions"):
                    raise mon_error(400, f"Field alert_policy.conditions[{i}].conditionThreshold.comparison had an invalid value: required.")
                for j, a in enumerate(body.get("aggregations") or []):
                    if a.get("alignmentPeriod") is not None and not duration_ok(a["alignmentPeriod"]):
                        raise mon_error(400, f"Field alert_policy.conditions[{i}].{kinds[0]}.aggregations[{j}].alignment_period had an invalid value.")
            if kinds[0] == "conditionPrometheusQueryLanguage":
                if not body.get("query"):
                    raise mon_error(400, f"Field alert_policy.conditions[{i}].conditionPrometheusQueryLanguage.query had an invalid value: required.")
        for ch in p.get("notificationChannels") or []:
            m = re.fullmatch(r"projects/([^/]+)/notificationChannels/([^/]+)", ch)
            if not m or m.group(2) not in self.st.channels.get(m.group(1), {}):
                raise mon_error(404, f"Notification channel '{ch}' was not found.")
        for k, v in (p.get("userLabels") or {}).items():
            if not re.fullmatch(r"[a-z][a-z0-9_-]{0,62}", k) or not isinstance(v, str) or not re.fullmatch(r"[a-z0-9_-]{0,63}", v):
                raise mon_error(400, f"Field alert_policy.user_labels had an invalid value: '{k}': '{v}'.")

    def check_channel(self, c):
        if not c.get("type"):
            raise mon_error(400, "Field notification_channel.type had an invalid value: required.")
        if c["type"] == "email" and not (c.get("labels") or {}).get("email_address"):
            raise mon_error(400, "Field notification_channel.labels had an invalid value: an email channel needs labels.email_address.")

    def stamp(self, project, kind, obj, new_id=None):
        rec = {"mutateTime": now_rfc3339(), "mutatedBy": self.st.user}
        if new_id:
            obj["name"] = f"projects/{project}/{kind}/{new_id}"
            if kind == "alertPolicies":
                obj["creationRecord"] = rec
        if kind == "alertPolicies":
            obj["mutationRecord"] = rec
            obj.setdefault("enabled", True)
            for c in obj.get("conditions", []):
                if not c.get("name", "").startswith(obj["name"] + "/conditions/"):
                    c["name"] = f"{obj['name']}/conditions/{random.randint(10**18, 2**63 - 1)}"
            if obj.get("combiner") is None:
                obj["combiner"] = "OR" if len(obj.get("conditions", [])) == 1 else obj.get("combiner")
        else:
            obj.setdefault("enabled", True)
            obj.setdefault("verificationStatus", "VERIFICATION_STATUS_UNSPECIFIED")
            obj["mutationRecords"] = obj.get("mutationRecords", []) + [rec]
            if new_id:
                obj["creationRecord"] = rec

    def create(self, req, project, kind, store):
        body = copy.deepcopy(req.json())
        for k in ("name", "creationRecord", "mutationRecord"):
            body.pop(k, None)
        (self.check_policy(project, body) if kind == "alertPolicies" else self.check_channel(body))
        new_id = str(random.randint(10**18, 2**63 - 1))
        self.stamp(project, kind, body, new_id)
        store[new_id] = body
        return Response(200, body)

    def patch(self, req, project, kind, store, obj):
        body = req.json()
        mask = [m.strip() for m in (req.query.get("updateMask") or "").split(",") if m.strip()]
        new = copy.deepcopy(obj)
        if mask:
            for path in mask:
                camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), path)
                keys = camel.split(".")
                src, dst = body, new
                for k in keys[:-1]:
                    src = (src or {}).get(k) or {}
                    dst = dst.setdefault(k, {})
                if isinstance(src, dict) and keys[-1] in src:
                    dst[keys[-1]] = copy.deepcopy(src[keys[-1]])
                else:
                    dst.pop(keys[-1], None)
        else:
            keep = {k: obj[k] for k in ("name", "creationRecord") if k in obj}
            new = copy.deepcopy(body)
            new.update(keep)
        (self.check_policy(project, new) if kind == "alertPolicies" else self.check_channel(new))
        self.stamp(project, kind, new)
        obj.clear()
        obj.update(new)
        return Response(200, obj)

    def list(self, req, project, kind, store):
        items = sorted(store.values(), key=lambda x: x["name"])
        flt = req.query.get("filter")
        if flt:
            items = [x for x in items if self.matches(x, flt)]
        size = int(req.query.get("pageSize") or 1000)
        start = int(req.query.get("pageToken") or 0)
        out = {kind: items[start:start + size]} if items[start:start + size] else {}
        out["totalSize"] = len(items)
        if start + size < len(items):
            out["nextPageToken"] = str(start + size)
        return Response(200, out)

    @staticmethod
    def matches(obj, flt):
        """Monitoring's list filter, the forms a client needs to find its own: display_name = "x",
        user_labels.k = "v" / user_labels."k" = "v", type = "email"; clauses joined with AND."""
        for clause in re.split(r"\s+AND\s+", flt.strip()):
            m = re.fullmatch(r'\s*([a-z_]+)(?:\.("?)([A-Za-z0-9_-]+)\2)?\s*(=|!=)\s*"([^"]*)"\s*', clause)
            if not m:
                raise mon_error(400, f"Invalid filter: {flt}")
            field = re.sub(r"_([a-z])", lambda x: x.group(1).upper(), m.group(1))
            v = obj.get(field)
            if m.group(3):
                v = (v or {}).get(m.group(3))
            if (v == m.group(5)) != (m.group(4) == "="):
                return False
        return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--gcplocal", default="", help="gcplocal's base URL (firewalls live there)")
    ap.add_argument("--op-pending", type=float, default=0.1, help="seconds an operation stays PENDING")
    ap.add_argument("--op-running", type=float, default=0.2, help="seconds an operation then stays RUNNING")
    ap.add_argument("--user", default="maifctl-test@maif-test.iam.gserviceaccount.com")
    args = ap.parse_args()
    serve_forever(serve(StandIn(args), args.host, args.port, "gcpstandin"))


if __name__ == "__main__":
    main()
