#!/usr/bin/env python3
"""ARM stand-in: an Azure Resource Manager server for tests. It is NOT Azure and says so.

Every ARM request is looked up in Microsoft's published Swagger files (specs/, see armspec.py) by
method, path template and api-version, and its body is checked against the operation's schema; what
the spec rejects is rejected. Answers follow ARM's semantics (idempotent create-or-update PUT,
long-running operations with Azure-AsyncOperation / Location polling, provisioningState, 404 after
delete, 409 for conflicting operations, the reference checks ARM's resource providers make). A token
endpoint (Microsoft identity platform v2, client secret or certificate assertion) and the managed
identity endpoint (IMDS) issue the opaque tokens the ARM side accepts. /_standin/... is a control API
for tests (faults, request log, reset, settings) and is not part of ARM.

See README.md beside this file for what is modelled and what is not.
"""
import argparse
import base64
import copy
import hashlib
import hmac
import http.server
import json
import os
import re
import secrets
import socketserver
import ssl
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import armspec  # noqa: E402

STANDIN = "arm-standin (a test stand-in, not Azure)"
ARM_AUDIENCES = ["https://management.azure.com", "https://management.core.windows.net"]
REGIONS = """eastus eastus2 westus westus2 westus3 centralus northcentralus southcentralus westcentralus
canadacentral canadaeast brazilsouth mexicocentral northeurope westeurope uksouth ukwest francecentral
germanywestcentral norwayeast switzerlandnorth swedencentral polandcentral italynorth spaincentral
eastasia southeastasia japaneast japanwest koreacentral australiaeast australiasoutheast centralindia
southindia westindia uaenorth southafricanorth qatarcentral israelcentral""".split()
GLOBAL_TYPES = {"microsoft.network/trafficmanagerprofiles", "microsoft.insights/metricalerts"}
# Types as ARM spells them in responses where the spec's path template spells them in lower case.
CANONICAL_TYPES = {
    "microsoft.resources/resourcegroups": "Microsoft.Resources/resourceGroups",
    "microsoft.insights/autoscalesettings": "Microsoft.Insights/autoscaleSettings",
    "microsoft.network/trafficmanagerprofiles": "Microsoft.Network/trafficManagerProfiles",
}
# Resource providers that answer a long-running DELETE or POST with Azure-AsyncOperation as well as
# Location (Microsoft.Resources and Microsoft.Storage send Location only).
ASYNC_HEADER_NAMESPACES = {"microsoft.network", "microsoft.compute"}
# Singletons that exist as soon as their parent does (ARM creates them with the storage account).
IMPLICIT_CHILDREN = {"microsoft.storage/storageaccounts": ["blobServices/default"]}

# References a resource provider checks when a resource is written (the target must exist) and
# that block deleting their target. `path` walks the stored body ([*] = every array item).
REFS = [
    {"src": "microsoft.network/virtualnetworks",
     "path": "properties.subnets[*].properties.networkSecurityGroup.id",
     "target": "microsoft.network/networksecuritygroups", "backref": "properties.subnets",
     "in_use": "InUseNetworkSecurityGroupCannotBeDeleted"},
    {"src": "microsoft.network/virtualnetworks",
     "path": "properties.subnets[*].properties.routeTable.id",
     "target": "microsoft.network/routetables", "backref": "properties.subnets",
     "in_use": "InUseRouteTableCannotBeDeleted"},
    {"src": "microsoft.network/networkinterfaces",
     "path": "properties.ipConfigurations[*].properties.subnet.id",
     "target": "microsoft.network/virtualnetworks/subnets", "backref": "properties.ipConfigurations",
     "in_use": "InUseSubnetCannotBeDeleted"},
    {"src": "microsoft.network/networkinterfaces",
     "path": "properties.ipConfigurations[*].properties.publicIPAddress.id",
     "target": "microsoft.network/publicipaddresses", "backref": "properties.ipConfiguration", "single": True,
     "in_use": "PublicIPAddressCannotBeDeleted"},
    {"src": "microsoft.network/networkinterfaces",
     "path": "properties.ipConfigurations[*].properties.loadBalancerBackendAddressPools[*].id",
     "target": "microsoft.network/loadbalancers/backendaddresspools",
     "backref": "properties.backendIPConfigurations", "in_use": "InUseLoadBalancerBackendAddressPoolCannotBeDeleted"},
    {"src": "microsoft.network/networkinterfaces", "path": "properties.networkSecurityGroup.id",
     "target": "microsoft.network/networksecuritygroups", "backref": "properties.networkInterfaces",
     "in_use": "InUseNetworkSecurityGroupCannotBeDeleted"},
    {"src": "microsoft.network/loadbalancers",
     "path": "properties.frontendIPConfigurations[*].properties.publicIPAddress.id",
     "target": "microsoft.network/publicipaddresses", "backref": "properties.ipConfiguration", "single": True,
     "in_use": "PublicIPAddressCannotBeDeleted"},
    {"src": "microsoft.network/loadbalancers",
     "path": "properties.frontendIPConfigurations[*].properties.subnet.id",
     "target": "microsoft.network/virtualnetworks/subnets", "backref": "properties.ipConfigurations",
     "in_use": "InUseSubnetCannotBeDeleted"},
    {"src": "microsoft.network/loadbalancers",
     "path": "properties.loadBalancingRules[*].properties.probe.id",
     "target": "microsoft.network/loadbalancers/probes", "backref": "properties.loadBalancingRules",
     "in_use": "InUseProbeCannotBeDeleted"},
    {"src": "microsoft.network/loadbalancers",
     "path": "properties.loadBalancingRules[*].properties.frontendIPConfiguration.id",
     "target": "microsoft.network/loadbalancers/frontendipconfigurations",
     "backref": "properties.loadBalancingRules", "in_use": "InUseFrontendIPConfigurationCannotBeDeleted"},
    {"src": "microsoft.network/loadbalancers",
     "path": "properties.loadBalancingRules[*].properties.backendAddressPool.id",
     "target": "microsoft.network/loadbalancers/backendaddresspools",
     "backref": "properties.loadBalancingRules", "in_use": "InUseLoadBalancerBackendAddressPoolCannotBeDeleted"},
    {"src": "microsoft.compute/virtualmachines", "path": "properties.networkProfile.networkInterfaces[*].id",
     "target": "microsoft.network/networkinterfaces", "backref": "properties.virtualMachine", "single": True,
     "in_use": "NicInUse"},
    {"src": "microsoft.compute/virtualmachinescalesets",
     "path": "properties.virtualMachineProfile.networkProfile.networkInterfaceConfigurations[*].properties"
             ".ipConfigurations[*].properties.subnet.id",
     "target": "microsoft.network/virtualnetworks/subnets", "in_use": "InUseSubnetCannotBeDeleted"},
    {"src": "microsoft.compute/virtualmachinescalesets",
     "path": "properties.virtualMachineProfile.networkProfile.networkInterfaceConfigurations[*].properties"
             ".ipConfigurations[*].properties.loadBalancerBackendAddressPools[*].id",
     "target": "microsoft.network/loadbalancers/backendaddresspools",
     "in_use": "LoadBalancerInUseByVirtualMachineScaleSet"},
    {"src": "microsoft.insights/autoscalesettings", "path": "properties.targetResourceUri", "target": None},
    {"src": "microsoft.insights/metricalerts", "path": "properties.scopes[*]", "target": None},
    {"src": "microsoft.network/trafficmanagerprofiles", "path": "properties.endpoints[*].properties.targetResourceId",
     "target": None},
]

NSG_DEFAULT_RULES = [
    ("AllowVnetInBound", "Inbound", 65000, "Allow", "VirtualNetwork", "VirtualNetwork", "Allow inbound traffic from all VMs in VNET"),
    ("AllowAzureLoadBalancerInBound", "Inbound", 65001, "Allow", "AzureLoadBalancer", "*", "Allow inbound traffic from azure load balancer"),
    ("DenyAllInBound", "Inbound", 65500, "Deny", "*", "*", "Deny all inbound traffic"),
    ("AllowVnetOutBound", "Outbound", 65000, "Allow", "VirtualNetwork", "VirtualNetwork", "Allow outbound traffic from all VMs to all VMs in VNET"),
    ("AllowInternetOutBound", "Outbound", 65001, "Allow", "*", "Internet", "Allow outbound traffic from all VMs to Internet"),
    ("DenyAllOutBound", "Outbound", 65500, "Deny", "*", "*", "Deny all outbound traffic"),
]


def now():
    return time.time()


def iso(t=None):
    return datetime.fromtimestamp(now() if t is None else t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def weak_etag():
    return f'W/"{uuid.uuid4()}"'


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ArmError(Exception):
    def __init__(self, status, code, message, details=None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.details, self.headers = status, code, message, details, headers or {}

    def body(self):
        err = {"code": self.code, "message": self.message}
        if self.details:
            err["details"] = self.details
        return {"error": err}


class AadError(Exception):
    def __init__(self, status, error, aadsts, description):
        super().__init__(description)
        self.status, self.error, self.aadsts, self.description = status, error, aadsts, description

    def body(self):
        return {"error": self.error, "error_description": f"AADSTS{self.aadsts}: {self.description}",
                "error_codes": [self.aadsts], "timestamp": iso(), "trace_id": str(uuid.uuid4()),
                "correlation_id": str(uuid.uuid4()), "error_uri": "(stand-in: no error page)"}


# ------------------------------------------------------------------------------------------------
# ids


def split_id(rid):
    return [unquote(s) for s in rid.strip("/").split("/")]


def type_of_id(rid):
    """Lower-case resource type of an id: microsoft.network/virtualnetworks/subnets."""
    segs = split_id(rid)
    low = [s.lower() for s in segs]
    if "providers" in low:
        i = len(low) - 1 - low[::-1].index("providers")
        rest = low[i + 1:]
        return "/".join([rest[0]] + [t for j, t in enumerate(rest[1:]) if j % 2 == 0]) if rest else ""
    if len(low) == 4 and low[0] == "subscriptions" and low[2] == "resourcegroups":
        return "microsoft.resources/resourcegroups"
    if len(low) == 2 and low[0] == "subscriptions":
        return "microsoft.resources/subscriptions"
    return ""


def rg_of_id(rid):
    segs = split_id(rid)
    if len(segs) >= 4 and segs[0].lower() == "subscriptions" and segs[2].lower() == "resourcegroups":
        return segs[1].lower(), segs[3].lower()
    return None


def get_path(obj, dotted):
    for part in dotted.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def set_path(obj, dotted, value):
    parts = dotted.split(".")
    for part in parts[:-1]:
        obj = obj.setdefault(part, {})
    obj[parts[-1]] = value


def walk_refs(body, path, owner_id):
    """Yields (value, referrer id) for a REFS path; the referrer is the innermost [*] item with an id."""
    tokens = re.findall(r"[^.\[\]]+|\[\*\]", path)

    def rec(node, i, referrer):
        if i == len(tokens):
            if isinstance(node, str):
                yield node, referrer
            return
        tok = tokens[i]
        if tok == "[*]":
            if isinstance(node, list):
                for item in node:
                    # the referrer is an embedded child of the source (a NIC's ipConfiguration), not
                    # an item that is itself the reference (a VM's networkInterfaces[*].id)
                    iid = item.get("id") if isinstance(item, dict) else None
                    ref = iid if isinstance(iid, str) and iid.lower().startswith(owner_id.lower() + "/") else referrer
                    yield from rec(item, i + 1, ref)
        elif isinstance(node, dict) and tok in node:
            yield from rec(node[tok], i + 1, referrer)
    yield from rec(body, 0, owner_id)


def deep_merge(base, patch):
    out = copy.deepcopy(base)
    for k, v in patch.items():
        if k == "tags" or not isinstance(v, dict) or not isinstance(out.get(k), dict):
            out[k] = copy.deepcopy(v)
        else:
            out[k] = deep_merge(out[k], v)
    return out


# ------------------------------------------------------------------------------------------------
# records and operations


class Record:
    def __init__(self, rid, rtype, name, body):
        self.id, self.key, self.rtype, self.name, self.body = rid, rid.lower(), rtype, name, body
        self.create_only = {}
        self.op = None
        self.child_ops = {}       # (collection, lower name) -> AsyncOp
        self.state = "Succeeded"  # provisioningState of the record itself
        self.child_states = {}    # (collection, lower name) -> provisioningState
        self.extras = {}
        self.created = now()
        self.seq = 0


class AsyncOp:
    def __init__(self, kind, record_key, child, namespace, location, api_version, delay, fault, sub):
        self.id = str(uuid.uuid4())
        self.kind, self.record_key, self.child = kind, record_key, child
        self.namespace, self.location, self.api_version = namespace, location, api_version
        self.started, self.ends_at = now(), now() + delay
        self.status = "InProgress"
        self.error = None
        self.fail_status = 500
        self.fault = fault
        self.on_success = None
        self.on_failure = None
        self.result = None
        self.sub = sub
        self.name = ""


class Fault:
    def __init__(self, spec, fid):
        self.id = fid
        self.kind = spec.get("kind", "http")
        if self.kind not in ("http", "async"):
            raise ValueError("kind must be 'http' or 'async'")
        self.method = (spec.get("method") or "*").upper()
        self.path = re.compile(spec.get("path", ".*"), re.IGNORECASE)
        self.count = int(spec.get("count", 1))
        self.after = int(spec.get("after", 0))
        self.status = int(spec.get("status", 429 if self.kind == "http" else 0))
        self.retry_after = spec.get("retry_after", 1 if self.status == 429 else None)
        default_codes = {429: "TooManyRequests", 500: "InternalServerError", 502: "BadGateway",
                         503: "ServiceUnavailable", 504: "GatewayTimeout"}
        if self.kind == "async":
            self.async_status = spec.get("async_status", "Failed")
            if self.async_status not in ("Failed", "Canceled"):
                raise ValueError("async_status must be Failed or Canceled")
            self.code = spec.get("code", "InternalOperationError")
            self.message = spec.get("message", "The operation failed (injected by the stand-in's fault API).")
            self.status = int(spec.get("status", 500))
        else:
            self.code = spec.get("code", default_codes.get(self.status, "InjectedFault"))
            self.message = spec.get("message", f"Injected HTTP {self.status} (the stand-in's fault API).")
        self.spec = spec
        self.fired = 0
        self.seen = 0

    def matches(self, kind, method, path):
        if self.kind != kind or (self.count >= 0 and self.fired >= self.count):
            return False
        if self.method not in ("*", method.upper()) or not self.path.search(path):
            return False
        self.seen += 1
        if self.seen <= self.after:
            return False
        self.fired += 1
        return True

    def describe(self):
        return {"id": self.id, "spec": self.spec, "fired": self.fired, "matched": self.seen,
                "remaining": (self.count - self.fired) if self.count >= 0 else "unlimited"}


# ------------------------------------------------------------------------------------------------
# identity: token endpoint, IMDS, ARM token check


class Identity:
    def __init__(self, config):
        self.tenant = config["tenant"].lower()
        self.clients = {}
        for c in config.get("clients", []):
            entry = {"client_id": c["client_id"].lower(), "tenant": c.get("tenant", config["tenant"]).lower(),
                     "secret": c.get("secret"), "certs": []}
            if c.get("secret_file"):
                with open(c["secret_file"]) as f:
                    entry["secret"] = f.read().strip()
            for path in c.get("certificates", []):
                entry["certs"].append(load_certificate(path))
            self.clients[entry["client_id"]] = entry
        self.managed = config.get("managed_identity")
        self.lifetime = int(config.get("token_lifetime", 3599))
        self.tokens = {}
        self.lock = threading.Lock()

    def issue(self, audience, client_id, tenant, kind):
        token = secrets.token_urlsafe(48)
        exp = now() + self.lifetime
        with self.lock:
            self.tokens[token] = {"aud": audience, "client_id": client_id, "tenant": tenant, "exp": exp,
                                  "kind": kind}
        return token, exp

    def check_arm(self, headers, base):
        auth = headers.get("Authorization")
        challenge = lambda desc: {"WWW-Authenticate": f'Bearer authorization_uri="{base}/{self.tenant}", '
                                                      f'error="invalid_token", error_description="{desc}"'}
        if not auth:
            raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.",
                           headers=challenge("The authentication failed because of missing 'Authorization' header."))
        parts = auth.split(None, 1)
        if len(parts) != 2 or parts[0].lower() != "bearer":
            raise ArmError(401, "AuthenticationFailed",
                           "Authentication failed. The 'Authorization' header is provided in an invalid format.",
                           headers=challenge("The authentication failed because of an invalid 'Authorization' header."))
        with self.lock:
            info = self.tokens.get(parts[1].strip())
        if info is None:
            raise ArmError(401, "InvalidAuthenticationToken",
                           "The access token is invalid (this stand-in accepts only tokens it issued itself).",
                           headers=challenge("The access token is invalid."))
        if info["exp"] <= now():
            raise ArmError(401, "ExpiredAuthenticationToken",
                           f"The access token expiry UTC time '{iso(info['exp'])}' is earlier than current UTC time "
                           f"'{iso()}'.", headers=challenge("The access token has expired."))
        if info["aud"].rstrip("/") not in ARM_AUDIENCES:
            raise ArmError(401, "InvalidAuthenticationTokenAudience",
                           f"The access token has been obtained for wrong audience or resource '{info['aud']}'. It "
                           f"should exactly match with one of the allowed audiences "
                           f"'{', '.join(a + '/' for a in ARM_AUDIENCES)}'.", headers=challenge("Wrong audience."))
        if info["tenant"] != self.tenant:
            raise ArmError(401, "InvalidAuthenticationTokenTenant",
                           "The access token is from the wrong issuer. It must match the tenant associated with "
                           "this subscription.", headers=challenge("Wrong tenant."))
        return info

    # --- token endpoint -------------------------------------------------------------------------
    def token(self, tenant, form, content_type, endpoint_url):
        if not content_type.lower().startswith("application/x-www-form-urlencoded"):
            raise AadError(400, "invalid_request", 900144,
                           "The request body must contain the following parameter: 'grant_type'. "
                           "(The body must be application/x-www-form-urlencoded.)")
        get = lambda k: (form.get(k) or [None])[0]
        for required in ("grant_type", "client_id", "scope"):
            if not get(required):
                raise AadError(400, "invalid_request", 900144,
                               f"The request body must contain the following parameter: '{required}'.")
        if get("grant_type") != "client_credentials":
            raise AadError(400, "unsupported_grant_type", 70003,
                           f"The app requested an unsupported grant type '{get('grant_type')}'.")
        if tenant.lower() != self.tenant:
            raise AadError(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
        client = self.clients.get(get("client_id").lower())
        if client is None or client["tenant"] != self.tenant:
            raise AadError(400, "unauthorized_client", 700016,
                           f"Application with identifier '{get('client_id')}' was not found in the directory "
                           f"'{tenant}'.")
        scope = get("scope").split()
        if len(scope) != 1 or not scope[0].endswith("/.default"):
            raise AadError(400, "invalid_scope", 1002012,
                           f"The provided value for scope {get('scope')} is not valid. Client credential flows "
                           f"must have a scope value with /.default suffixed to the resource identifier.")
        resource = scope[0][: -len("/.default")]
        if resource.rstrip("/") not in ARM_AUDIENCES:
            raise AadError(400, "invalid_resource", 500011,
                           f"The resource principal named {resource} was not found in the tenant named {tenant} "
                           f"(the stand-in issues tokens for Azure Resource Manager only).")
        secret, assertion = get("client_secret"), get("client_assertion")
        if secret and assertion:
            raise AadError(400, "invalid_request", 90015,
                           "Requested query string is too long / both client_secret and client_assertion given.")
        if secret is not None:
            if not client["secret"] or not hmac.compare_digest(secret.encode(), client["secret"].encode()):
                raise AadError(401, "invalid_client", 7000215,
                               "Invalid client secret provided. Ensure the secret being sent in the request is the "
                               f"client secret value, not the client secret ID, for a secret added to app "
                               f"'{client['client_id']}'.")
        elif assertion is not None:
            if get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
                raise AadError(400, "invalid_request", 7000213,
                               "Invalid client_assertion_type: it must be "
                               "'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.")
            self.verify_assertion(client, assertion, endpoint_url)
        else:
            raise AadError(401, "invalid_client", 7000218,
                           "The request body must contain the following parameter: 'client_assertion' or "
                           "'client_secret'.")
        token, exp = self.issue(resource, client["client_id"], self.tenant, "client_credentials")
        return {"token_type": "Bearer", "expires_in": self.lifetime, "ext_expires_in": self.lifetime,
                "access_token": token}

    def verify_assertion(self, client, assertion, endpoint_urls):
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        parts = assertion.split(".")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
            assert len(parts) == 3 and isinstance(header, dict) and isinstance(claims, dict)
        except Exception:
            raise AadError(401, "invalid_client", 50027, "JWT token is invalid or malformed.")
        alg = header.get("alg")
        if alg not in ("RS256", "PS256"):
            raise AadError(401, "invalid_client", 5002738,
                           f"Invalid JWT token. '{alg}' is not a supported signature algorithm (RS256, PS256).")
        cert = None
        thumb = lambda k: str(header.get(k) or "").rstrip("=")   # MSAL pads; RFC 7515 does not
        for c in client["certs"]:
            if thumb("x5t#S256") == c["x5t#S256"] or thumb("x5t") == c["x5t"]:
                cert = c
        if cert is None:
            raise AadError(401, "invalid_client", 700027,
                           "Client assertion failed signature validation: the key was not found (no registered "
                           f"certificate has the thumbprint in the assertion's x5t / x5t#S256) for app "
                           f"'{client['client_id']}'.")
        signed = f"{parts[0]}.{parts[1]}".encode()
        pad = padding.PKCS1v15() if alg == "RS256" else padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                                  salt_length=padding.PSS.AUTO)
        try:
            cert["public_key"].verify(signature, signed, pad, hashes.SHA256())
        except InvalidSignature:
            raise AadError(401, "invalid_client", 700027, "Client assertion failed signature validation.")
        aud = claims.get("aud")
        if not isinstance(aud, str) or aud.rstrip("/") not in [u.rstrip("/") for u in endpoint_urls]:
            raise AadError(401, "invalid_client", 700212,
                           f"The client assertion's audience claim '{aud}' does not match the token endpoint "
                           f"'{endpoint_urls[0]}'.")
        if claims.get("iss") != claims.get("sub") or str(claims.get("iss", "")).lower() != client["client_id"]:
            raise AadError(401, "invalid_client", 700021,
                           "Client assertion application identifier doesn't match 'client_id' parameter "
                           "(iss and sub must both be the client id).")
        if not claims.get("jti"):
            raise AadError(401, "invalid_client", 50027, "JWT token is invalid or malformed: the 'jti' claim is missing.")
        skew = 300
        exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat"))
        if not isinstance(exp, (int, float)) or exp + skew < now():
            raise AadError(401, "invalid_client", 700024, "Client assertion is not within its valid time range "
                                                          "(expired or no 'exp' claim).")
        if nbf is not None and (not isinstance(nbf, (int, float)) or nbf - skew > now()):
            raise AadError(401, "invalid_client", 700024, "Client assertion is not within its valid time range "
                                                          "(not yet valid).")

    # --- IMDS ----------------------------------------------------------------------------------
    def imds(self, query, headers):
        if headers.get("Metadata", "").lower() != "true":
            return 400, {"error": "invalid_request", "error_description": "Required metadata header not specified"}
        if headers.get("X-Forwarded-For"):
            return 400, {"error": "invalid_request",
                         "error_description": "Request contains X-Forwarded-For header; IMDS does not serve proxied requests"}
        get = lambda k: (query.get(k) or [None])[0]
        if not get("api-version"):
            return 400, {"error": "invalid_request", "error_description": "Required query variable 'api-version' is missing"}
        if get("api-version") not in ("2018-02-01", "2019-08-01", "2019-11-01", "2020-06-01", "2021-02-01"):
            return 400, {"error": "invalid_request", "error_description": "Invalid API version"}
        resource = get("resource")
        if not resource:
            return 400, {"error": "invalid_request", "error_description": "Required audience parameter not specified"}
        mi = self.managed
        if not mi:
            return 400, {"error": "invalid_request", "error_description": "Identity not found"}
        for key in ("client_id", "object_id", "msi_res_id", "mi_res_id"):
            want = get(key)
            if want and want.lower() != str(mi.get(key if key != "mi_res_id" else "msi_res_id", "")).lower():
                return 400, {"error": "invalid_request", "error_description": "Identity not found"}
        if resource.rstrip("/") not in ARM_AUDIENCES:
            return 400, {"error": "invalid_resource",
                         "error_description": f"AADSTS500011: The resource principal named {resource} was not found "
                                              f"(the stand-in issues tokens for Azure Resource Manager only)."}
        token, exp = self.issue(resource, mi["client_id"].lower(), self.tenant, "managed_identity")
        return 200, {"access_token": token, "client_id": mi["client_id"], "expires_in": str(self.lifetime),
                     "expires_on": str(int(exp)), "ext_expires_in": str(self.lifetime),
                     "not_before": str(int(now())), "resource": resource, "token_type": "Bearer"}


def load_certificate(path):
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding
    with open(path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    der = cert.public_bytes(Encoding.DER)
    return {"public_key": cert.public_key(), "x5t": b64url(hashlib.sha1(der).digest()),
            "x5t#S256": b64url(hashlib.sha256(der).digest())}


# ------------------------------------------------------------------------------------------------
# the ARM model


class Arm:
    def __init__(self, specs, config):
        self.specs = specs
        self.subscriptions = {s.lower(): s for s in config["subscriptions"]}
        self.settings = {"lro_delay": float(config.get("lro_delay", 0.5)),
                         "retry_after": int(config.get("retry_after", 1)),
                         "page_size": int(config.get("page_size", 100))}
        self.lock = threading.RLock()
        self._embedded = {}
        self.reset()

    def reset(self):
        self.records = {}
        self.ops = {}
        self.faults = []
        self.fault_seq = 0
        self.log = []
        self.seq = 0
        self.ip_counter = 0

    # --- lookups ---------------------------------------------------------------------------------
    def canonical_type(self, rtype):
        low = rtype.lower()
        return CANONICAL_TYPES.get(low, self.specs.canonical_types.get(low, rtype))

    def embedded_collection(self, parent_rtype, child_seg):
        """The array under parent.properties that holds a child type (subnets in a virtual network)."""
        key = (parent_rtype.lower(), child_seg.lower())
        if key not in self._embedded:
            self._embedded[key] = self._embedded_collection(parent_rtype, child_seg)
        return self._embedded[key]

    def _embedded_collection(self, parent_rtype, child_seg):
        if parent_rtype.lower() == "microsoft.network/trafficmanagerprofiles":
            return "endpoints"
        ops = [op for op in self.specs.operations if op.resource_type.lower() == parent_rtype.lower()
               and op.method == "put" and op.param_names[-1]]
        for op in ops:
            schema = op.body_schema()
            if not schema:
                continue
            eff = self.specs.effective(*self.specs.resolve(*schema))
            props = eff["props"].get("properties")
            if not props:
                continue
            inner = self.specs.effective(*self.specs.resolve(*props))
            for name in inner["props"]:
                if name.lower() == child_seg.lower():
                    f, n = self.specs.resolve(*inner["props"][name])
                    if n.get("type") == "array":
                        return name
        return None

    def resolve_id(self, rid, pending=None):
        """(record, child dict or None) for an id, following embedded children; pending = a body
        about to be stored for its own id (for references inside the same request)."""
        key = rid.lower().rstrip("/")
        segs = split_id(key)
        for cut in range(len(segs), 3, -2):
            base = "/" + "/".join(segs[:cut])
            rec = self.records.get(base)
            body = rec.body if rec else None
            if pending and pending[0] == base:
                body = pending[1]
                rec = rec or Record(base, "", "", body)
            if rec is None:
                continue
            node, rest = body, segs[cut:]
            child = None
            while rest:
                coll, name = rest[0], rest[1] if len(rest) > 1 else None
                items = None
                for k, v in (node.get("properties") or {}).items():
                    if k.lower() == coll and isinstance(v, list):
                        items = v
                if rec.rtype.lower() == "microsoft.network/trafficmanagerprofiles":
                    items = [e for e in (node.get("properties") or {}).get("endpoints", [])
                             if str(e.get("type", "")).lower().endswith("/" + coll)]
                if items is None or name is None:
                    return None
                child = next((i for i in items if str(i.get("name", "")).lower() == name), None)
                if child is None:
                    return None
                node, rest = child, rest[2:]
            return rec, child
        return None

    def references_to(self, target_key, exclude_key=None):
        """[(referrer id, REFS entry, source record key)] of every stored reference to target_key or below it."""
        out = []
        for rec in self.records.values():
            if rec.key == exclude_key:
                continue
            for ref in REFS:
                if ref["src"] != rec.rtype.lower():
                    continue
                for value, referrer in walk_refs(rec.body, ref["path"], rec.id):
                    v = value.lower().rstrip("/")
                    if v == target_key or v.startswith(target_key + "/"):
                        out.append((referrer, ref, rec.key, v))
        return out

    def check_references(self, rtype, rid, body):
        for ref in REFS:
            if ref["src"] != rtype.lower():
                continue
            for value, referrer in walk_refs(body, ref["path"], rid):
                found = self.resolve_id(value, pending=(rid.lower(), body))
                if found is None:
                    raise ArmError(400, "InvalidResourceReference",
                                   f"Resource {value} referenced by resource {referrer} was not found. Please make "
                                   f"sure that the referenced resource exists, and that both resources are in the "
                                   f"same region.")
                if ref["target"] and type_of_id(value) != ref["target"]:
                    raise ArmError(400, "InvalidResourceReference",
                                   f"Resource {value} referenced by resource {referrer} is of type "
                                   f"'{type_of_id(value)}', expected '{ref['target']}'.")
                if ref.get("in_use") == "NicInUse":
                    for other, oref, okey, _ in self.references_to(value.lower(), exclude_key=rid.lower()):
                        if oref is ref:
                            raise ArmError(400, "NicInUse",
                                           f"Network Interface {value} is used by existing resource {other}. In "
                                           f"order to delete the network interface, it must be dissociated from "
                                           f"the resource.")

    def check_not_in_use(self, target_id, exclude_key=None, what=None):
        refs = self.references_to(target_id.lower(), exclude_key=exclude_key)
        if not refs:
            return
        refs = [r for r in refs if r[1].get("in_use")]
        if not refs:
            return
        referrer, ref, _, value = refs[0]
        name = split_id(target_id)[-1]
        code = ref["in_use"]
        if code == "InUseSubnetCannotBeDeleted":
            msg = (f"Subnet {split_id(value)[-1] if type_of_id(value).endswith('subnets') else name} is in use by "
                   f"{referrer} and cannot be deleted. In order to delete the subnet, delete all the resources "
                   f"within the subnet. See aka.ms/deletesubnet.")
        elif code == "NicInUse":
            msg = (f"Network Interface {target_id} is used by existing resource {referrer}. In order to delete the "
                   f"network interface, it must be dissociated from the resource.")
        elif code == "PublicIPAddressCannotBeDeleted":
            msg = f"Public IP address {target_id} can not be deleted since it is still allocated to resource {referrer}."
        else:
            msg = f"Resource {target_id} is in use by {referrer} and cannot be deleted."
        raise ArmError(400, code, msg)

    # --- rendering ------------------------------------------------------------------------------
    def render(self, rec, expand=None):
        body = copy.deepcopy(rec.body)
        props = body.get("properties")
        if isinstance(props, dict) and "provisioningState" in props:
            props["provisioningState"] = rec.state
        if rec.state in ("Creating", "Updating", "Deleting") and isinstance(props, dict):
            for v in props.values():
                for item in (v if isinstance(v, list) else []):
                    ip = item.get("properties") if isinstance(item, dict) else None
                    if isinstance(ip, dict) and "provisioningState" in ip:
                        ip["provisioningState"] = "Updating" if rec.state != "Deleting" else "Deleting"
        for (coll, lname), st in rec.child_states.items():
            for item in (props or {}).get(coll, []):
                if str(item.get("name", "")).lower() == lname and isinstance(item.get("properties"), dict):
                    item["properties"]["provisioningState"] = st
        # back-references (read-only properties the provider computes)
        for ref in REFS:
            if not ref.get("backref"):
                continue
            for src in self.records.values():
                if src.rtype.lower() != ref["src"]:
                    continue
                for value, referrer in walk_refs(src.body, ref["path"], src.id):
                    v = value.lower()
                    if v == rec.key:
                        target = body
                    elif v.startswith(rec.key + "/"):
                        found = self.resolve_id(value)
                        if not found or found[1] is None:
                            continue
                        target = self._find_child(body, found[1])
                        if target is None:
                            continue
                    else:
                        continue
                    if ref.get("single"):
                        set_path(target, ref["backref"], {"id": referrer})
                    else:
                        existing = get_path(target, ref["backref"]) or []
                        if {"id": referrer} not in existing:
                            existing.append({"id": referrer})
                        set_path(target, ref["backref"], existing)
        if rec.rtype.lower() == "microsoft.compute/virtualmachines" and expand and "instanceview" in expand.lower():
            body.setdefault("properties", {})["instanceView"] = self.instance_view(rec)
        return body

    @staticmethod
    def _find_child(body, child):
        for v in (body.get("properties") or {}).values():
            if isinstance(v, list):
                for item in v:
                    if isinstance(item, dict) and item.get("id") == child.get("id"):
                        return item
        return None

    def instance_view(self, rec):
        power = rec.extras.get("power", "running")
        return {"statuses": [
            {"code": f"ProvisioningState/{rec.state.lower()}", "level": "Info",
             "displayStatus": f"Provisioning {rec.state.lower()}", "time": iso(rec.created)},
            {"code": f"PowerState/{power}", "level": "Info",
             "displayStatus": {"running": "VM running", "deallocated": "VM deallocated", "stopped": "VM stopped",
                               "starting": "VM starting", "deallocating": "VM deallocating"}.get(power, power)}]}

    # --- operations ------------------------------------------------------------------------------
    def tick(self):
        t = now()
        for op in list(self.ops.values()):
            if op.status == "InProgress" and t >= op.ends_at:
                self.finish(op)

    def finish(self, op):
        fault = op.fault
        rec = self.records.get(op.record_key)
        if fault:
            op.status = fault.async_status
            op.error = {"code": fault.code, "message": fault.message}
            op.fail_status = fault.status
        else:
            op.status = "Succeeded"
        if rec is not None:
            if op.child:
                if rec.child_ops.get(op.child) is op:
                    del rec.child_ops[op.child]
            elif rec.op is op:
                rec.op = None
        if op.status != "Succeeded":
            if op.on_failure:
                op.on_failure()
            if rec is not None:
                if op.child:
                    rec.child_states[op.child] = op.status
                else:
                    rec.state = op.status
            return
        if op.on_success:
            op.on_success()

    def start_op(self, kind, rec, child, op_spec, location, path, method, sub):
        fault = None
        for f in self.faults:
            if f.matches("async", method, path):
                fault = f
                break
        ns = rec.rtype.split("/")[0] if rec.rtype else "Microsoft.Resources"
        aop = AsyncOp(kind, rec.key, child, ns, location or "eastus", op_spec.api_version,
                      self.settings["lro_delay"], fault, sub)
        aop.name = op_spec.operation_id
        self.ops[aop.id] = aop
        if child:
            rec.child_ops[child] = aop
        else:
            rec.op = aop
        return aop

    def busy(self, rec, child=None):
        if rec is None:
            return None
        if rec.op and rec.op.status == "InProgress":
            return rec.op
        if child and rec.child_ops.get(child) and rec.child_ops[child].status == "InProgress":
            return rec.child_ops[child]
        if child is None:
            for cop in rec.child_ops.values():
                if cop.status == "InProgress":
                    return cop
        return None

    def log_request(self, entry):
        self.seq += 1
        entry["seq"] = self.seq
        self.log.append(entry)
        if len(self.log) > 20000:
            del self.log[:5000]
        return entry

    def take_http_fault(self, method, path):
        for f in self.faults:
            if f.matches("http", method, path):
                return f
        return None

    def next_ip(self, prefix):
        self.ip_counter += 1
        if prefix:
            base = prefix.split("/")[0].split(".")
            n = 3 + self.ip_counter
            return ".".join(base[:2] + [str(int(base[2]) + n // 250), str(n % 250 + 1)])
        return f"20.{(self.ip_counter // 65536) % 256}.{(self.ip_counter // 256) % 256}.{self.ip_counter % 256 + 1}"


# ------------------------------------------------------------------------------------------------
# HTTP


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "arm-standin"
    sys_version = ""

    def version_string(self):
        return STANDIN

    def log_message(self, fmt, *args):
        if self.server.app.verbose:
            sys.stderr.write("%s %s\n" % (self.log_date_time_string(), fmt % args))

    def do_GET(self):
        self.dispatch("GET")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_HEAD(self):
        self.dispatch("HEAD")

    def read_chunked(self):
        parts = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass   # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    @property
    def base_url(self):
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
        return f"{self.server.scheme}://{host}"

    def send(self, status, body=None, headers=None, content_type="application/json; charset=utf-8"):
        data = b""
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        self.send_header("x-ms-correlation-request-id", str(uuid.uuid4()))
        self.send_header("X-Standin", STANDIN)
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        if getattr(self, "_unchecked", None):
            # $refs into spec files that are not vendored: accepted unchecked, and said so
            self.send_header("X-Standin-Unchecked", ", ".join(self._unchecked)[:2000] +
                             " (schema in a spec file that is not vendored; accepted without a check)")
        if body is not None:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)) if self.command != "HEAD" or body is None else "0")
        self.end_headers()
        if self.command != "HEAD" and data:
            self.wfile.write(data)
        self._status = status

    def dispatch(self, method):
        app = self.server.app
        self._status = 0
        self._create_only = {}
        self._unchecked = []
        url = urlsplit(self.path)
        path = url.path
        query = parse_qs(url.query, keep_blank_values=True)
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            raw = self.read_chunked()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
        entry = {"time": iso(), "method": method, "path": path, "api_version": (query.get("api-version") or [None])[0],
                 "operation": None, "status": None, "fault": None}
        try:
            if path.startswith("/_standin"):
                entry["operation"] = "standin-control"
                self.control(method, path, query, raw)
                return
            with app.arm.lock:
                fault = app.arm.take_http_fault(method, path)
            if fault and not path.startswith("/_standin"):
                entry["fault"] = fault.id
                err = ArmError(fault.status, fault.code, fault.message,
                               headers={"Retry-After": fault.retry_after} if fault.retry_after is not None else {})
                if re.match(r"^/[^/]+/oauth2/", path):
                    self.send(fault.status, {"error": "temporarily_unavailable",
                                             "error_description": f"AADSTS50196: {fault.message}"}, err.headers)
                else:
                    self.send(err.status, err.body(), err.headers)
                return
            m = re.match(r"^/([^/]+)/oauth2/v2\.0/token/?$", path)
            if m:
                entry["operation"] = "aad-token"
                self.aad_token(method, m.group(1), raw)
                return
            m = re.match(r"^/([^/]+)/v2\.0/\.well-known/openid-configuration/?$", path)
            if m and method == "GET":
                entry["operation"] = "aad-openid-configuration"
                self.send(200, self.openid_configuration(m.group(1)))
                return
            if path.rstrip("/") == "/common/discovery/instance" and method == "GET":
                entry["operation"] = "aad-instance-discovery"
                host = self.headers.get("Host", "")
                self.send(200, {"tenant_discovery_endpoint":
                                f"{self.base_url}/{app.identity.tenant}/v2.0/.well-known/openid-configuration",
                                "api-version": "1.1",
                                "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}]})
                return
            if path.rstrip("/") == "/metadata/identity/oauth2/token":
                entry["operation"] = "imds-token"
                if method != "GET":
                    self.send(405, {"error": "invalid_request", "error_description": "Only GET is supported"})
                    return
                status, body = app.identity.imds(query, self.headers)
                self.send(status, body)
                return
            entry["operation"] = "arm"
            self.arm(method, path, query, raw, entry)
        except ArmError as e:
            self.send(e.status, e.body(), e.headers)
        except AadError as e:
            self.send(e.status, e.body())
        except Exception as e:  # a bug in the stand-in: say so, do not pretend it is Azure's answer
            import traceback
            traceback.print_exc()
            self.send(500, {"error": {"code": "StandinInternalError",
                                      "message": f"The stand-in failed on this request (a bug in the stand-in, not "
                                                 f"an Azure answer): {type(e).__name__}: {e}"}})
        finally:
            entry["status"] = self._status
            with app.arm.lock:
                app.arm.log_request(entry)

    # --- identity endpoints -----------------------------------------------------------------------
    def openid_configuration(self, tenant):
        base = f"{self.base_url}/{tenant}"
        return {"token_endpoint": f"{base}/oauth2/v2.0/token", "token_endpoint_auth_methods_supported":
                ["client_secret_post", "private_key_jwt", "client_secret_basic"],
                "jwks_uri": f"{base}/discovery/v2.0/keys", "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"], "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": f"{base}/v2.0", "request_uri_parameter_supported": False,
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "end_session_endpoint": f"{base}/oauth2/v2.0/logout", "tenant_region_scope": None,
                "x-standin": STANDIN}

    def aad_token(self, method, tenant, raw):
        app = self.server.app
        if method != "POST":
            raise AadError(405, "invalid_request", 900561, "The endpoint only accepts POST requests.")
        form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        urls = [f"{self.base_url}/{tenant}/oauth2/v2.0/token"]
        body = app.identity.token(tenant, form, self.headers.get("Content-Type", ""), urls)
        self.send(200, body, {"Cache-Control": "no-store", "Pragma": "no-cache"})

    # --- control API -----------------------------------------------------------------------------
    def control(self, method, path, query, raw):
        app = self.server.app
        arm = app.arm
        note = "stand-in control API: not part of Azure Resource Manager"
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            self.send(400, {"error": {"code": "InvalidJson", "message": "body is not JSON"}, "note": note})
            return
        route = path[len("/_standin"):].rstrip("/") or "/"
        with arm.lock:
            if route == "/health":
                self.send(200, {"standin": STANDIN, "note": note, "specs": len(app.specs.docs),
                                "operations": len(app.specs.operations)})
            elif route == "/faults" and method == "POST":
                specs = body if isinstance(body, list) else [body]
                made = []
                try:
                    for spec in specs:
                        arm.fault_seq += 1
                        f = Fault(spec, f"fault-{arm.fault_seq}")
                        arm.faults.append(f)
                        made.append(f.describe())
                except (ValueError, re.error, TypeError) as e:
                    self.send(400, {"error": {"code": "InvalidFault", "message": str(e)}, "note": note})
                    return
                self.send(201, {"faults": made, "note": note})
            elif route == "/faults" and method == "GET":
                self.send(200, {"faults": [f.describe() for f in arm.faults], "note": note})
            elif route == "/faults" and method == "DELETE":
                arm.faults = []
                self.send(200, {"faults": [], "note": note})
            elif route == "/requests" and method == "GET":
                log = [e for e in arm.log if e.get("operation") != "standin-control"]
                counts = {"total": len(log), "by_method": {}, "by_status": {}, "by_operation": {}}
                for e in log:
                    counts["by_method"][e["method"]] = counts["by_method"].get(e["method"], 0) + 1
                    counts["by_status"][str(e["status"])] = counts["by_status"].get(str(e["status"]), 0) + 1
                    op = e.get("operation_id") or e.get("operation")
                    counts["by_operation"][op] = counts["by_operation"].get(op, 0) + 1
                self.send(200, {"counts": counts, "requests": log, "note": note})
            elif route == "/requests" and method == "DELETE":
                arm.log = []
                self.send(200, {"requests": [], "note": note})
            elif route == "/reset" and method == "POST":
                arm.reset()
                if body.get("tokens"):
                    with app.identity.lock:
                        app.identity.tokens.clear()
                self.send(200, {"reset": True, "note": note})
            elif route == "/config" and method in ("GET", "POST", "PATCH"):
                for k, v in body.items():
                    if k == "token_lifetime":
                        app.identity.lifetime = int(v)
                    elif k in arm.settings:
                        arm.settings[k] = type(arm.settings[k])(v)
                    else:
                        self.send(400, {"error": {"code": "UnknownSetting", "message": k}, "note": note})
                        return
                self.send(200, dict(arm.settings, token_lifetime=app.identity.lifetime, note=note))
            elif route == "/resources" and method == "GET":
                self.send(200, {"resources": [dict(arm.render(r), **{"x-standin-state": r.state})
                                              for r in arm.records.values()], "note": note})
            elif route == "/tokens/expire" and method == "POST":
                with app.identity.lock:
                    for t in app.identity.tokens.values():
                        t["exp"] = now() - 1
                self.send(200, {"expired": True, "note": note})
            else:
                self.send(404, {"error": {"code": "UnknownControlEndpoint", "message": f"{method} {path}"},
                                "note": note})

    # --- ARM ---------------------------------------------------------------------------------------
    def arm(self, method, path, query, raw, entry):
        app = self.server.app
        arm, specs = app.arm, app.specs
        app.identity.check_arm(self.headers, self.base_url)
        q1 = lambda k: (query.get(k) or [None])[0]
        segs = [unquote(s) for s in path.strip("/").split("/")]
        with arm.lock:
            arm.tick()
            m = re.match(r"^/subscriptions/([^/]+)/providers/([^/]+)/locations/([^/]+)/(operations|operationResults)/([^/]+)$",
                         path, re.IGNORECASE)
            if m and method == "GET":
                entry["operation_id"] = "standin-operation-status"
                self.poll(m.group(5), m.group(4).lower() == "operationresults")
                return
            routes = specs.route(segs)
            if not routes:
                raise self.unknown_path(segs, q1("api-version"))
            same_method = [(op, v) for op, v in routes if op.method == method.lower()]
            if not same_method:
                allowed = sorted({op.method.upper() for op, _ in routes})
                raise ArmError(405, "HttpMethodNotAllowed",
                               f"The requested resource does not support http method '{method}'. "
                               f"Supported: {', '.join(allowed)}.")
            api = q1("api-version")
            if not api:
                raise ArmError(400, "MissingApiVersionParameter",
                               "The api-version query parameter (?api-version=) is required for all requests.")
            chosen = [(op, v) for op, v in same_method if op.api_version == api]
            if not chosen:
                rtype = same_method[0][0].resource_type
                versions = specs.versions_for(rtype)
                raise ArmError(400, "InvalidApiVersionParameter",
                               f"The api-version '{api}' is invalid. The supported versions are "
                               f"'{','.join(versions)}' for resource type '{arm.canonical_type(rtype)}' "
                               f"(from the vendored specs).")
            op, values = chosen[0]
            entry["operation_id"] = op.operation_id
            self.check_parameters(op, values, query)
            body = None
            if op.body:
                body = self.read_body(op, raw)
            elif raw.strip() and method in ("PUT", "PATCH"):
                raise ArmError(400, "InvalidRequestContent", "This operation takes no request body.")
            sub = values.get("subscriptionId")
            if sub is not None and sub.lower() not in arm.subscriptions:
                raise ArmError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
            Resources(self, arm, op, values, query, body, path).run(method.lower())

    def unknown_path(self, segs, api):
        low = [s.lower() for s in segs]
        specs = self.server.app.specs
        if "providers" in low:
            i = len(low) - 1 - low[::-1].index("providers")
            if i + 1 < len(segs):
                ns = segs[i + 1]
                if ns.lower() not in specs.namespaces:
                    return ArmError(404, "NoRegisteredProviderFound",
                                    f"No registered resource provider found for namespace '{ns}' (the stand-in "
                                    f"knows {', '.join(sorted(specs.namespaces.values()))}).")
                rtype = "/".join(s for j, s in enumerate(segs[i + 2:]) if j % 2 == 0)
                return ArmError(404, "InvalidResourceType",
                                f"The resource type '{rtype}' could not be found in the namespace "
                                f"'{specs.namespaces[ns.lower()]}' for api version '{api}'.")
        return ArmError(404, "InvalidResourceType",
                        f"No operation in the vendored specs matches the path '/{'/'.join(segs)}'.")

    def check_parameters(self, op, values, query):
        specs = self.server.app.specs
        problems = []
        for pf, pn in op.parameters:
            where, name = pn.get("in"), pn.get("name")
            if where == "path":
                value = values.get(name)
            elif where == "query":
                value = (query.get(name) or [None])[0]
            elif where == "header":
                value = self.headers.get(name)
            else:
                continue
            if value is None:
                if pn.get("required"):
                    problems.append(f"The {where} parameter '{name}' is required.")
                continue
            if name == "api-version":
                continue
            schema = dict(pn)
            schema.pop("in", None)
            schema.pop("required", None)
            if schema.get("type") in ("integer", "number"):
                try:
                    value = int(value) if schema["type"] == "integer" else float(value)
                except ValueError:
                    problems.append(f"The {where} parameter '{name}' must be a {schema['type']}.")
                    continue
            elif schema.get("type") == "boolean":
                if value.lower() not in ("true", "false"):
                    problems.append(f"The {where} parameter '{name}' must be true or false.")
                    continue
                value = value.lower() == "true"
            elif schema.get("type") == "array":
                continue
            _, result = specs.check((pf, schema), value, path=name)
            problems += [p.message for p in result.problems]
        if problems:
            raise ArmError(400, "InvalidParameter", " ".join(problems),
                           details=[{"code": "InvalidParameter", "message": p} for p in problems])

    def read_body(self, op, raw):
        specs = self.server.app.specs
        ctype = self.headers.get("Content-Type", "")
        required = op.body[1].get("required")
        if not raw.strip():
            if required:
                raise ArmError(400, "InvalidRequestContent",
                               f"The request content was invalid and could not be deserialized: the operation "
                               f"{op.operation_id} requires a JSON body.")
            return None
        if ctype.split(";")[0].strip().lower() != "application/json":
            raise ArmError(415, "UnsupportedMediaType",
                           f"The content media type '{ctype or '(none)'}' is not supported. Only 'application/json' "
                           f"is supported.")
        try:
            body = json.loads(raw)
        except ValueError as e:
            raise ArmError(400, "InvalidRequestContent",
                           f"The request content was invalid and could not be deserialized: {e}.")
        cleaned, result = specs.check(op.body_schema(), body)
        if result.problems:
            first = result.problems[0]
            raise ArmError(400, "InvalidRequestContent",
                           f"The request content was invalid and could not be deserialized: {first.message} "
                           f"(checked against {op.operation_id}, api-version {op.api_version}).",
                           details=[p.as_detail() for p in result.problems])
        self._create_only = result.create_only
        self._unchecked = result.unchecked
        return cleaned

    def poll(self, op_id, location_style):
        arm = self.server.app.arm
        aop = arm.ops.get(op_id)
        if aop is None:
            raise ArmError(404, "OperationNotFound", f"The operation '{op_id}' could not be found.")
        retry = {"Retry-After": arm.settings["retry_after"]}
        if not location_style:
            doc = {"id": self.path.split("?")[0], "name": aop.id, "status": aop.status, "startTime": iso(aop.started)}
            if aop.status != "InProgress":
                doc["endTime"] = iso(aop.ends_at)
            if aop.error:
                doc["error"] = aop.error
            self.send(200, doc, retry if aop.status == "InProgress" else {})
            return
        if aop.status == "InProgress":
            self.send(202, None, dict(retry, Location=self.base_url + self.path))
            return
        if aop.status != "Succeeded":
            self.send(aop.fail_status, {"error": aop.error})
            return
        if aop.kind == "put":
            rec = arm.records.get(aop.record_key)
            if rec is None:
                self.send(204)
                return
            body = arm.render(rec)
            if aop.child:
                body = next((c for c in body.get("properties", {}).get(aop.child[0], [])
                             if c.get("name", "").lower() == aop.child[1]), body)
            self.send(200, body)
        elif aop.result is not None:
            self.send(200, aop.result)
        else:
            self.send(204)


class Resources:
    """Create-or-update, read, list, patch, delete and actions for one request, as ARM answers them."""

    def __init__(self, handler, arm, op, values, query, body, path):
        self.h, self.arm, self.op, self.values, self.query, self.body, self.path = handler, arm, op, values, query, body, path
        segs = []
        for lit, name in zip(op.segments, op.param_names):
            if name is None:
                segs.append("resourceGroups" if lit.lower() == "resourcegroups" else lit)
            else:
                segs.append(values[name])
        self.segs = segs
        self.rtype = arm.canonical_type(op.resource_type.replace("{endpointType}", values.get("endpointType", "")))
        if "{endpointType}" in op.resource_type:
            self.rtype = "Microsoft.Network/trafficManagerProfiles/" + values["endpointType"]
        self.rg = None
        low = [s.lower() for s in op.segments]
        if "resourcegroups" in low:
            i = low.index("resourcegroups")
            if i + 1 < len(segs):
                self.rg = segs[i + 1]
        self.sub = values.get("subscriptionId")

    # --- helpers ---------------------------------------------------------------------------------
    def url(self, rel):
        return self.h.base_url + rel

    def rid(self, segs=None):
        segs = segs or self.segs
        return "/" + "/".join(segs)

    def q(self, k):
        return (self.query.get(k) or [None])[0]

    def respond(self, status, body=None, headers=None):
        self.h.send(status, body, headers)

    def lro_headers(self, aop, want_async, want_location):
        base = f"/subscriptions/{aop.sub}/providers/{aop.namespace}/locations/{aop.location}"
        headers = {"Retry-After": self.arm.settings["retry_after"]}
        if want_async:
            headers["Azure-AsyncOperation"] = self.url(f"{base}/operations/{aop.id}?api-version={aop.api_version}")
        if want_location:
            headers["Location"] = self.url(f"{base}/operationResults/{aop.id}?api-version={aop.api_version}")
        return headers

    def rg_record(self):
        if not self.rg:
            return None
        return self.arm.records.get(f"/subscriptions/{self.sub}/resourcegroups/{self.rg}".lower())

    def require_rg(self, write):
        if not self.rg or self.rtype.lower() == "microsoft.resources/resourcegroups":
            return
        rg = self.rg_record()
        if rg is None:
            raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{self.rg}' could not be found.")
        if write and rg.op and rg.op.status == "InProgress" and rg.op.kind == "delete":
            raise ArmError(409, "ResourceGroupBeingDeleted",
                           f"The resource group '{self.rg}' is in deprovisioning state and cannot perform this "
                           f"operation.")

    def not_found(self, rid=None):
        rid = rid or self.rid()
        if self.rtype.lower() == "microsoft.resources/resourcegroups":
            return ArmError(404, "ResourceGroupNotFound", f"Resource group '{self.rg}' could not be found.")
        segs = split_id(rid)
        low = [s.lower() for s in segs]
        i = len(low) - 1 - low[::-1].index("providers") if "providers" in low else 0
        short = "/".join(segs[i + 1:])
        return ArmError(404, "ResourceNotFound",
                        f"The Resource '{short}' under resource group '{self.rg}' was not found. For more details "
                        f"please go to https://aka.ms/ARMResourceNotFoundFix")

    def structure(self):
        """(top-level record id, [(collection, name)] of embedded children) for this request's id, or
        (id, None) when the resource is its own record."""
        segs = self.segs
        low = [s.lower() for s in segs]
        if "providers" not in low:
            return self.rid(), []
        i = len(low) - 1 - low[::-1].index("providers")
        tail = segs[i + 2:]
        if len(tail) <= 2:
            return self.rid(), []
        parent_type = segs[i + 1] + "/" + tail[0]
        child_seg = tail[2]
        if len(tail) == 4:
            coll = self.arm.embedded_collection(parent_type, child_seg)
            if coll:
                return self.rid(segs[:i + 4]), [(coll, tail[3])]
        return self.rid(), []

    # --- entry -----------------------------------------------------------------------------------
    def run(self, method):
        op = self.op
        if op.param_names[-1] is not None:
            top, children = self.structure()
            if method == "head":
                return self.head()
            if children:
                return getattr(self, f"child_{method}")(top, children[0])
            return getattr(self, f"item_{method}")()
        if method == "get" and (op.pageable is not None or self.lists_values()):
            return self.list()
        if method == "post":
            return self.action(op.segments[-1].lower())
        if method == "get" and op.segments[-1].lower() == "instanceview":
            rec = self.arm.records.get(self.rid(self.segs[:-1]).lower())
            if rec is None:
                raise self.not_found(self.rid(self.segs[:-1]))
            return self.respond(200, self.arm.instance_view(rec))
        raise ArmError(501, "NotImplementedByStandIn",
                       f"{op.describe()} is in the specs, but the stand-in does not model it.")

    def lists_values(self):
        schema = self.op.response_schema("200")
        if not schema:
            return False
        eff = self.arm.specs.effective(*self.arm.specs.resolve(*schema))
        return "value" in eff["props"]

    # --- read ------------------------------------------------------------------------------------
    def head(self):
        rec = self.arm.records.get(self.rid().lower())
        self.respond(204 if rec else 404)

    def item_get(self):
        self.require_rg(False)
        rec = self.arm.records.get(self.rid().lower())
        if rec is None:
            implicit = self.implicit_child()
            if implicit is not None:
                return self.respond(200, implicit)
            raise self.not_found()
        self.respond(200, self.arm.render(rec, self.q("$expand")))

    def implicit_child(self):
        rid = self.rid()
        for ptype, names in IMPLICIT_CHILDREN.items():
            for n in names:
                segs = split_id(rid)
                tail = "/".join(segs[-2:]).lower()
                if tail == n.lower():
                    parent = self.arm.records.get("/" + "/".join(segs[:-2]).lower())
                    if parent and parent.rtype.lower() == ptype:
                        return {"id": rid, "name": segs[-1], "type": self.rtype,
                                "properties": {"cors": {"corsRules": []},
                                               "deleteRetentionPolicy": {"allowPermanentDelete": False,
                                                                         "enabled": False}}}
        return None

    def child_get(self, top, child):
        self.require_rg(False)
        rec = self.arm.records.get(top.lower())
        if rec is None:
            raise self.not_found(top)
        body = self.arm.render(rec, self.q("$expand"))
        item = self.find_child(body, child)
        if item is None:
            raise self.not_found()
        self.respond(200, item)

    def find_child(self, body, child):
        coll, name = child
        for item in (body.get("properties") or {}).get(coll, []) or []:
            if str(item.get("name", "")).lower() == name.lower():
                if coll == "endpoints" and not str(item.get("type", "")).lower().endswith("/" + self.values["endpointType"].lower()):
                    continue
                return item
        return None

    def list(self):
        arm = self.arm
        self.require_rg(False)
        item_type = self.rtype.lower()
        sub = (self.sub or "").lower()
        rg = (self.rg or "").lower()
        low = [s.lower() for s in self.op.segments]
        location = None
        if "locations" in low:
            location = self.segs[low.index("locations") + 1].lower().replace(" ", "")
            item_type = item_type.split("/")[0] + "/" + item_type.split("/")[-1]
        items = []
        # GET /subscriptions/{s}/resources and /subscriptions/{s}/resourceGroups/{rg}/resources (the group's own list)
        if item_type in ("microsoft.resources/resources", "microsoft.resources/resourcegroups/resources"):
            flt = self.q("$filter") or ""
            for rec in sorted(arm.records.values(), key=lambda r: r.seq):
                t = rec.rtype.lower()
                if t == "microsoft.resources/resourcegroups" or t.count("/") > 1:
                    continue
                r = rg_of_id(rec.id)
                if not r or r[0] != sub or (rg and r[1] != rg):
                    continue
                view = {k: v for k, v in arm.render(rec).items() if k in ("id", "name", "type", "location", "tags", "sku", "kind")}
                if self.matches_filter(flt, view):
                    items.append(view)
        else:
            parent_prefix = None
            if item_type.count("/") > 1:
                parent_prefix = self.rid(self.segs[:-1]).lower()
                parent = arm.records.get(parent_prefix)
                coll = None
                if parent is not None:
                    coll = arm.embedded_collection(parent.rtype, self.op.segments[-1])
                    if coll:
                        body = arm.render(parent)
                        items = list((body.get("properties") or {}).get(coll, []))
                elif not arm.implicit_parent_ok(parent_prefix):
                    raise self.not_found(parent_prefix)
            if not items:
                for rec in sorted(arm.records.values(), key=lambda r: r.seq):
                    if rec.rtype.lower() != item_type:
                        continue
                    if parent_prefix and not rec.key.startswith(parent_prefix + "/"):
                        continue
                    if item_type == "microsoft.resources/resourcegroups":
                        if not rec.key.startswith(f"/subscriptions/{sub}/"):
                            continue
                    else:
                        r = rg_of_id(rec.id)
                        if not r or r[0] != sub or (rg and r[1] != rg):
                            continue
                    if location and str(rec.body.get("location", "")).lower() != location:
                        continue
                    view = arm.render(rec)
                    if item_type == "microsoft.resources/resourcegroups" and not self.matches_filter(self.q("$filter") or "", view):
                        continue
                    items.append(view)
        size = arm.settings["page_size"]
        top = self.q("$top")
        if top and top.isdigit():
            size = min(size, int(top))
        start = int(self.q("$skiptoken") or 0)
        page = items[start:start + size]
        body = {"value": page}
        if start + size < len(items):
            qs = {k: v[0] for k, v in self.query.items() if k != "$skiptoken"}
            qs["$skiptoken"] = str(start + size)
            body["nextLink"] = self.url(self.path + "?" + urlencode(qs, quote_via=quote, safe="$"))
        self.respond(200, body)

    @staticmethod
    def matches_filter(flt, view):
        if not flt.strip():
            return True
        tag_name = re.search(r"tagName\s+eq\s+'([^']*)'", flt, re.IGNORECASE)
        tag_value = re.search(r"tagValue\s+eq\s+'([^']*)'", flt, re.IGNORECASE)
        rtype = re.search(r"resourceType\s+eq\s+'([^']*)'", flt, re.IGNORECASE)
        tags = view.get("tags") or {}
        if tag_name:
            match = {k.lower(): v for k, v in tags.items()}.get(tag_name.group(1).lower())
            if match is None or (tag_value and match != tag_value.group(1)):
                return False
        if rtype and str(view.get("type", "")).lower() != rtype.group(1).lower():
            return False
        if not (tag_name or rtype):
            raise ArmError(400, "InvalidFilterInQueryString",
                           f"The stand-in understands only tagName/tagValue and resourceType filters, not '{flt}'.")
        return True

    # --- write -----------------------------------------------------------------------------------
    @staticmethod
    def check_tags(body):
        """ARM's own rules for tags (applied before the resource provider sees the request)."""
        tags = body.get("tags")
        if not isinstance(tags, dict):
            return
        if len(tags) > 50:
            raise ArmError(400, "TooManyTags",
                           f"The resource has {len(tags)} tags; at most 50 are allowed.")
        for name, value in tags.items():
            if re.search(r"[<>%&\\?/]|[\x00-\x1f]", name):
                raise ArmError(400, "InvalidTagNameCharacters",
                               f"The tag names '{name}' have reserved characters '<,>,%,&,\\,?,/' or control characters.")
            if len(name) > 512:
                raise ArmError(400, "InvalidTagNameLength", f"The tag name '{name[:40]}...' exceeds 512 characters.")
            if isinstance(value, str) and len(value) > 256:
                raise ArmError(400, "InvalidTagValueLength", f"The value of tag '{name}' exceeds 256 characters.")

    def prepare_location(self, body, existing):
        rt = self.rtype.lower()
        tracked = rt.count("/") == 1 and "location" in self.body_props()
        if not tracked:
            return
        loc = body.get("location")
        if loc is None:
            if existing is not None and existing.body.get("location"):
                body["location"] = existing.body["location"]
                return
            raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
        norm = str(loc).lower().replace(" ", "")
        allowed = ["global"] if rt in GLOBAL_TYPES else REGIONS
        if rt == "microsoft.insights/metricalerts":
            allowed = ["global"] + REGIONS
        if norm not in allowed:
            raise ArmError(400, "LocationNotAvailableForResourceType",
                           f"The provided location '{loc}' is not available for resource type '{self.rtype}'. List "
                           f"of available regions for the resource type is '{','.join(allowed)}'.")
        if existing is not None and existing.body.get("location") and existing.body["location"] != norm:
            if rt == "microsoft.resources/resourcegroups":
                raise ArmError(409, "InvalidResourceGroupLocation",
                               f"Invalid resource group location '{norm}'. The Resource group already exists in "
                               f"location '{existing.body['location']}'.")
            raise ArmError(409, "InvalidResourceLocation",
                           f"The resource '{existing.name}' already exists in location '{existing.body['location']}' "
                           f"in resource group '{self.rg}'. A resource with the same name cannot be created in "
                           f"location '{norm}'. Please select a new resource name.")
        body["location"] = norm

    def body_props(self):
        schema = self.op.body_schema()
        if not schema:
            return {}
        return self.arm.specs.effective(*self.arm.specs.resolve(*schema))["props"]

    def response_props(self, schema=None):
        schema = schema or self.op.response_schema("200") or self.op.response_schema("201") or self.op.body_schema()
        if not schema:
            return {}
        f, n = self.arm.specs.resolve(*schema)
        if n is armspec.ANY:
            return {}
        return self.arm.specs.effective(f, n)["props"]

    def check_create_only(self, existing):
        if existing is None:
            return
        for path, value in getattr(self.h, "_create_only", {}).items():
            if path == "location":
                continue
            old = existing.create_only.get(path)
            if path in existing.create_only and old != value:
                raise ArmError(409, "PropertyChangeNotAllowed",
                               f"Changing property '{path}' is not allowed.")

    def check_if_match(self, existing):
        im = self.h.headers.get("If-Match")
        inm = self.h.headers.get("If-None-Match")
        current = existing.body.get("etag") if existing else None
        if im and im != "*" and im != current:
            raise ArmError(412, "PreconditionFailed", "The If-Match condition is not met (etag differs).")
        if im == "*" and existing is None:
            raise ArmError(412, "PreconditionFailed", "If-Match: * but the resource does not exist.")
        if inm == "*" and existing is not None:
            raise ArmError(412, "PreconditionFailed", "If-None-Match: * but the resource exists.")

    def conflict(self, rec, child=None):
        busy = self.arm.busy(rec, child)
        if busy:
            base = f"/subscriptions/{busy.sub}/providers/{busy.namespace}/locations/{busy.location}"
            raise ArmError(409, "AnotherOperationInProgress",
                           f"Another operation on this or dependent resource is in progress. To retrieve status of "
                           f"the operation use uri: {self.url(base + '/operations/' + busy.id)}"
                           f"?api-version={busy.api_version}.",
                           details=[{"code": "AnotherOperationInProgress", "message": f"operation {busy.id} ({busy.name})"}])
        rg = self.rg_record()
        if rg is not None and rg is not rec and rg.op and rg.op.status == "InProgress" and rg.op.kind == "delete":
            raise ArmError(409, "ResourceGroupBeingDeleted",
                           f"The resource group '{self.rg}' is in deprovisioning state and cannot perform this operation.")

    def compute(self, rid, body, existing, name):
        """Fills what the resource provider computes: id, name, type, etag, guids, child ids."""
        arm = self.arm
        rt = self.rtype.lower()
        out = {"id": rid, "name": name, "type": self.rtype}
        props_schema = self.response_props()
        for k in ("location", "tags", "sku", "kind", "identity", "plan", "zones", "extendedLocation"):
            if k in body:
                out[k] = body[k]
        if "etag" in props_schema:
            out["etag"] = weak_etag()
        for k, v in body.items():
            if k not in out and k not in ("id", "name", "type", "etag"):
                out[k] = v
        props = out.get("properties")
        inner = {}
        if "properties" in props_schema:
            inner = arm.specs.effective(*arm.specs.resolve(*props_schema["properties"]))["props"]
            if props is None:
                props = out["properties"] = {}
        if isinstance(props, dict):
            if "provisioningState" in inner:
                props["provisioningState"] = "Succeeded"
            if "resourceGuid" in inner:
                props["resourceGuid"] = (existing.body.get("properties", {}).get("resourceGuid") if existing else None) \
                    or str(uuid.uuid4())
            for coll, items in list(props.items()):
                if not isinstance(items, list) or coll not in inner:
                    continue
                item_props = self.item_props(inner[coll])
                if "id" not in item_props:
                    continue
                for item in items:
                    if isinstance(item, dict) and "name" in item and coll != "endpoints":
                        item["id"] = f"{rid}/{coll}/{item['name']}"
                        if "etag" in item_props:
                            item.setdefault("etag", weak_etag())
                        if "type" in item_props:
                            item.setdefault("type", f"{self.rtype}/{coll}")
                        if "properties" in item_props:
                            sub = self.arm.specs.effective(*self.arm.specs.resolve(*item_props["properties"]))["props"]
                            if "provisioningState" in sub:
                                item.setdefault("properties", {})["provisioningState"] = "Succeeded"
                    elif isinstance(item, dict) and coll == "endpoints" and "name" in item:
                        etype = str(item.get("type", "")).split("/")[-1]
                        item["id"] = f"{rid}/{etype}/{item['name']}"
        hook = getattr(self, "compute_" + rt.replace("microsoft.", "").replace("/", "_").replace(".", "_"), None)
        if hook:
            hook(rid, out, existing)
        return out

    def item_props(self, array_schema):
        f, n = self.arm.specs.resolve(*array_schema)
        if n is armspec.ANY or n.get("type") != "array":
            return {}
        f, n = self.arm.specs.resolve(f, n.get("items", armspec.ANY))
        if n is armspec.ANY:
            return {}
        return self.arm.specs.effective(f, n)["props"]

    # type-specific computed properties ---------------------------------------------------------
    def compute_resources_resourcegroups(self, rid, out, existing):
        out.setdefault("properties", {})["provisioningState"] = "Succeeded"
        out.pop("etag", None)

    def compute_network_networksecuritygroups(self, rid, out, existing):
        rules = []
        for name, direction, prio, access, src, dst, desc in NSG_DEFAULT_RULES:
            rules.append({"name": name, "id": f"{rid}/defaultSecurityRules/{name}", "etag": out.get("etag"),
                          "type": "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
                          "properties": {"provisioningState": "Succeeded", "description": desc, "protocol": "*",
                                         "sourcePortRange": "*", "destinationPortRange": "*",
                                         "sourceAddressPrefix": src, "destinationAddressPrefix": dst,
                                         "access": access, "priority": prio, "direction": direction,
                                         "sourcePortRanges": [], "destinationPortRanges": [],
                                         "sourceAddressPrefixes": [], "destinationAddressPrefixes": []}})
        out.setdefault("properties", {})["defaultSecurityRules"] = rules
        out["properties"].setdefault("securityRules", [])

    def compute_network_networkinterfaces(self, rid, out, existing):
        props = out.setdefault("properties", {})
        configs = props.get("ipConfigurations", [])
        old = {c.get("name"): c for c in (existing.body.get("properties", {}).get("ipConfigurations", [])
                                          if existing else [])}
        for i, cfg in enumerate(configs):
            p = cfg.setdefault("properties", {})
            p.setdefault("privateIPAllocationMethod", "Dynamic")
            p.setdefault("privateIPAddressVersion", "IPv4")
            p.setdefault("primary", i == 0)
            if not p.get("privateIPAddress"):
                prev = old.get(cfg.get("name"), {}).get("properties", {}).get("privateIPAddress")
                prefix = None
                sid = (p.get("subnet") or {}).get("id")
                found = self.arm.resolve_id(sid) if sid else None
                if found and found[1]:
                    prefix = (found[1].get("properties") or {}).get("addressPrefix")
                p["privateIPAddress"] = prev or self.arm.next_ip(prefix or "10.0.0.0/24")
        props.setdefault("enableAcceleratedNetworking", False)
        props.setdefault("enableIPForwarding", False)
        props.setdefault("nicType", "Standard")

    def compute_network_publicipaddresses(self, rid, out, existing):
        props = out.setdefault("properties", {})
        sku = (out.get("sku") or {}).get("name", "Basic")
        props.setdefault("publicIPAllocationMethod", "Static" if sku == "Standard" else "Dynamic")
        props.setdefault("publicIPAddressVersion", "IPv4")
        props.setdefault("idleTimeoutInMinutes", 4)
        old = existing.body.get("properties", {}).get("ipAddress") if existing else None
        if props["publicIPAllocationMethod"] == "Static":
            props["ipAddress"] = old or self.arm.next_ip(None)
        dns = props.get("dnsSettings")
        if isinstance(dns, dict) and dns.get("domainNameLabel"):
            dns["fqdn"] = f"{dns['domainNameLabel']}.{out.get('location', 'eastus')}.cloudapp.azure.com"

    def compute_compute_virtualmachines(self, rid, out, existing):
        props = out.setdefault("properties", {})
        old = existing.body.get("properties", {}) if existing else {}
        props["vmId"] = old.get("vmId") or str(uuid.uuid4())
        props["timeCreated"] = old.get("timeCreated") or iso()
        disk = props.get("storageProfile", {}).get("osDisk")
        if isinstance(disk, dict):
            old_disk = old.get("storageProfile", {}).get("osDisk", {})
            disk.setdefault("name", old_disk.get("name") or f"{out['name']}_OsDisk_1_{uuid.uuid4().hex}")
            md = disk.setdefault("managedDisk", {})
            md["id"] = f"/subscriptions/{self.sub}/resourceGroups/{self.rg}/providers/Microsoft.Compute/disks/{disk['name']}"
        for i, dd in enumerate(props.get("storageProfile", {}).get("dataDisks", []) or []):
            dd.setdefault("name", f"{out['name']}_DataDisk_{dd.get('lun', i)}")
            dd.setdefault("managedDisk", {})["id"] = (f"/subscriptions/{self.sub}/resourceGroups/{self.rg}/providers/"
                                                      f"Microsoft.Compute/disks/{dd['name']}")

    def compute_compute_virtualmachinescalesets(self, rid, out, existing):
        props = out.setdefault("properties", {})
        old = existing.body.get("properties", {}) if existing else {}
        props["uniqueId"] = old.get("uniqueId") or str(uuid.uuid4())
        props["timeCreated"] = old.get("timeCreated") or iso()

    def compute_storage_storageaccounts(self, rid, out, existing):
        props = out.setdefault("properties", {})
        old = existing.body.get("properties", {}) if existing else {}
        name = out["name"]
        props["creationTime"] = old.get("creationTime") or iso()
        props["primaryLocation"] = out.get("location")
        props["statusOfPrimary"] = "available"
        props["primaryEndpoints"] = {s: f"https://{name}.{s}.core.windows.net/" for s in ("blob", "queue", "table", "file", "dfs", "web")}
        props["primaryEndpoints"]["web"] = f"https://{name}.z13.web.core.windows.net/"

    def compute_storage_storageaccounts_blobservices_containers(self, rid, out, existing):
        out["etag"] = '"0x8D%X"' % int(now() * 1e7)
        props = out.setdefault("properties", {})
        props["lastModifiedTime"] = iso()
        props.setdefault("publicAccess", "None")
        props.update({"leaseStatus": "Unlocked", "leaseState": "Available", "hasImmutabilityPolicy": False,
                      "hasLegalHold": False, "deleted": False, "remainingRetentionDays": 0})
        props.setdefault("defaultEncryptionScope", "$account-encryption-key")
        props.setdefault("denyEncryptionScopeOverride", False)

    def compute_network_trafficmanagerprofiles(self, rid, out, existing):
        props = out.setdefault("properties", {})
        dns = props.get("dnsConfig")
        if isinstance(dns, dict) and dns.get("relativeName"):
            dns["fqdn"] = f"{dns['relativeName']}.trafficmanager.net"
        for e in props.get("endpoints", []) or []:
            ep = e.setdefault("properties", {})
            ep.setdefault("endpointStatus", "Enabled")
            ep["endpointMonitorStatus"] = "Online" if ep["endpointStatus"] == "Enabled" else "Disabled"
        mc = props.get("monitorConfig")
        if isinstance(mc, dict):
            mc["profileMonitorStatus"] = "Online" if props.get("endpoints") else "Inactive"

    def compute_insights_metricalerts(self, rid, out, existing):
        props = out.setdefault("properties", {})
        props["lastUpdatedTime"] = iso()
        props["isMigrated"] = False

    # semantic checks a resource provider makes ----------------------------------------------------
    def semantic_checks(self, rid, body, existing):
        rt = self.rtype.lower()
        arm = self.arm
        if rt == "microsoft.storage/storageaccounts":
            name = split_id(rid)[-1].lower()
            for rec in arm.records.values():
                if rec.rtype.lower() == rt and rec.name.lower() == name and rec.key != rid.lower():
                    raise ArmError(409, "StorageAccountAlreadyTaken",
                                   f"The storage account named {name} is already taken.")
        if rt == "microsoft.network/trafficmanagerprofiles":
            props = body.get("properties") or {}
            rel = str((props.get("dnsConfig") or {}).get("relativeName", "")).lower()
            for rec in arm.records.values():
                if rec.rtype.lower() == rt and rec.key != rid.lower() and \
                        str(rec.body.get("properties", {}).get("dnsConfig", {}).get("relativeName", "")).lower() == rel:
                    raise ArmError(409, "Conflict", f"The domain name '{rel}.trafficmanager.net' is already in use.")
            if props.get("trafficRoutingMethod") == "Geographic":
                seen = {}
                for e in props.get("endpoints", []) or []:
                    codes = (e.get("properties") or {}).get("geoMapping") or []
                    if not codes:
                        raise ArmError(400, "BadRequest",
                                       f"Endpoint '{e.get('name')}' has no geographic regions: a profile with the "
                                       f"Geographic traffic routing method needs geoMapping on every endpoint.")
                    for c in codes:
                        if c in seen:
                            raise ArmError(400, "BadRequest",
                                           f"The geographic region '{c}' is assigned to more than one endpoint "
                                           f"('{seen[c]}', '{e.get('name')}').")
                        seen[c] = e.get("name")
        if rt == "microsoft.compute/virtualmachines" and existing is not None:
            old = existing.body.get("properties", {}).get("hardwareProfile", {}).get("vmSize")
            new = (body.get("properties") or {}).get("hardwareProfile", {}).get("vmSize")
            power = existing.extras.get("power", "running")
            if old and new and old != new and power != "deallocated" and family(old) != family(new):
                raise ArmError(409, "OperationNotAllowed",
                               f"Unable to resize the VM '{existing.name}' because the requested size {new} is not "
                               f"available in the current hardware cluster. The available sizes in this cluster are: "
                               f"sizes of the {old} family. Deallocate the VM to resize it to {new}.")

    # PUT ------------------------------------------------------------------------------------------
    def item_put(self, patch=None):
        arm = self.arm
        rid = self.rid()
        rt = self.rtype.lower()
        self.require_rg(True)
        existing = arm.records.get(rid.lower())
        if rt.count("/") > 1 and existing is None:
            parent_id = self.rid(self.segs[:-2])
            if arm.records.get(parent_id.lower()) is None and not arm.implicit_parent_ok(parent_id.lower()):
                raise ArmError(404, "ParentResourceNotFound",
                               f"Failed to perform 'write' on resource(s) of type '{'/'.join(self.rtype.split('/')[1:])}', "
                               f"because the parent resource '{parent_id}' could not be found.")
        self.conflict(existing)
        if rt.count("/") > 1:
            # a child resource kept as its own record (a container, a VM extension): its parent's
            # running operation conflicts too
            parent = arm.records.get(self.rid(self.segs[:-2]).lower()) or \
                arm.records.get(self.rid(self.segs[:-4]).lower() if len(self.segs) > 4 else "")
            if parent is not None and parent.op and parent.op.status == "InProgress":
                self.conflict(parent)
        self.check_if_match(existing)
        body = patch if patch is not None else copy.deepcopy(self.body or {})
        self.check_tags(body)
        self.prepare_location(body, existing)
        self.check_create_only(existing)
        name = existing.name if existing else self.segs[-1]
        stored = self.compute(existing.id if existing else rid, body, existing, name)
        arm.check_references(self.rtype, stored["id"], stored)
        if existing is not None:
            self.check_removed_children(existing, stored)
        self.semantic_checks(rid, stored, existing)
        return self.store(existing, stored, patch is not None)

    def check_removed_children(self, existing, stored):
        for coll, items in (existing.body.get("properties") or {}).items():
            if not isinstance(items, list):
                continue
            new_ids = {str(i.get("id", "")).lower() for i in (stored.get("properties") or {}).get(coll, []) or []
                       if isinstance(i, dict)}
            for item in items:
                if isinstance(item, dict) and item.get("id") and item["id"].lower() not in new_ids \
                        and item["id"].lower().startswith(existing.key + "/"):
                    self.arm.check_not_in_use(item["id"], exclude_key=existing.key, what=coll)

    def store(self, existing, stored, is_patch):
        arm = self.arm
        op = self.op
        created = existing is None
        if created:
            rec = Record(stored["id"], self.rtype, stored["name"], stored)
            arm.seq += 1
            rec.seq = arm.seq
            arm.records[rec.key] = rec
            if self.rtype.lower() == "microsoft.compute/virtualmachines":
                rec.extras["power"] = "running"
            if self.rtype.lower() == "microsoft.storage/storageaccounts":
                rec.extras["keys"] = [base64.b64encode(secrets.token_bytes(64)).decode() for _ in range(2)]
        else:
            rec = existing
            rec.body = stored
        rec.create_only.update(getattr(self.h, "_create_only", {}))
        if not op.lro:
            rec.state = "Succeeded"
            return self.respond(201 if created and "201" in op.responses else 200, arm.render(rec))
        if self.rtype.lower() == "microsoft.storage/storageaccounts" and not created:
            rec.state = "Succeeded"
            return self.respond(200, arm.render(rec))
        rec.state = "Creating" if created else "Updating"
        aop = arm.start_op("put", rec, None, op, stored.get("location"), self.path, self.h.command, self.sub)

        def done():
            rec.state = "Succeeded"
        aop.on_success = done
        if "202" in op.responses and "201" not in op.responses and created:
            # Microsoft.Storage: 202 Accepted, no body, poll the Location header
            return self.respond(202, None, self.lro_headers(aop, False, True))
        final = (op.lro_options.get("final-state-via") or "").lower()
        headers = self.lro_headers(aop, True, final == "location")
        status = 201 if created and "201" in op.responses else 200
        return self.respond(status, arm.render(rec), headers)

    def item_patch(self):
        arm = self.arm
        self.require_rg(True)
        existing = arm.records.get(self.rid().lower())
        if existing is None:
            raise self.not_found()
        merged = deep_merge({k: v for k, v in existing.body.items()}, self.body or {})
        return self.item_put(patch=merged)

    def child_put(self, top, child, patch=None):
        arm = self.arm
        self.require_rg(True)
        parent = arm.records.get(top.lower())
        if parent is None:
            raise ArmError(404, "ParentResourceNotFound",
                           f"Failed to perform 'write' on resource(s) of type '{'/'.join(self.rtype.split('/')[1:])}', "
                           f"because the parent resource '{top}' could not be found.")
        coll, name = child
        key = (coll, name.lower())
        self.conflict(parent, key)
        if parent.op and parent.op.status == "InProgress":
            self.conflict(parent)
        body = copy.deepcopy(parent.body)
        items = body.setdefault("properties", {}).setdefault(coll, [])
        old = self.find_child(body, child)
        self.check_if_match_child(old)
        new = patch if patch is not None else copy.deepcopy(self.body or {})
        new.pop("id", None)
        new["name"] = old["name"] if old else name
        if coll == "endpoints":
            et = self.values["endpointType"]
            new["type"] = f"Microsoft.Network/trafficManagerProfiles/{et[:1].lower()}{et[1:]}"
        if old is not None:
            items[items.index(old)] = new
        else:
            items.append(new)
        # recompute the parent as its PUT would
        saved_rtype, saved_op = self.rtype, self.op
        parent_rtype = parent.rtype
        self.rtype = parent_rtype
        put_ops = [o for o in arm.specs.operations if o.resource_type.lower() == parent_rtype.lower()
                   and o.method == "put" and o.api_version == saved_op.api_version]
        if put_ops:
            self.op = put_ops[0]
        stored = self.compute(parent.id, body, parent, parent.name)
        for item in stored["properties"][coll]:
            if item is not None and str(item.get("name", "")).lower() == name.lower() and old is not None:
                item["etag"] = weak_etag()
        self.rtype, self.op = saved_rtype, saved_op
        arm.check_references(parent.rtype, parent.id, stored)
        self.semantic_checks_parent(parent, stored)
        parent.body = stored
        op = self.op
        created = old is None
        rendered = self.find_child(arm.render(parent), child)
        if not op.lro:
            return self.respond(201 if created and "201" in op.responses else 200, rendered)
        parent.child_states[key] = "Creating" if created else "Updating"
        aop = arm.start_op("put", parent, key, op, parent.body.get("location"), self.path, self.h.command, self.sub)

        def done():
            parent.child_states.pop(key, None)
        aop.on_success = done
        rendered = self.find_child(arm.render(parent), child)
        final = (op.lro_options.get("final-state-via") or "").lower()
        return self.respond(201 if created and "201" in op.responses else 200, rendered,
                            self.lro_headers(aop, True, final == "location"))

    def semantic_checks_parent(self, parent, stored):
        saved = self.rtype
        self.rtype = parent.rtype
        try:
            self.semantic_checks(parent.id, stored, parent)
        finally:
            self.rtype = saved

    def check_if_match_child(self, old):
        im = self.h.headers.get("If-Match")
        if im and im != "*" and (old is None or old.get("etag") != im):
            raise ArmError(412, "PreconditionFailed", "The If-Match condition is not met (etag differs).")

    def child_patch(self, top, child):
        parent = self.arm.records.get(top.lower())
        if parent is None:
            raise self.not_found(top)
        old = self.find_child(parent.body, child)
        if old is None:
            raise self.not_found()
        return self.child_put(top, child, patch=deep_merge(old, self.body or {}))

    # DELETE ---------------------------------------------------------------------------------------
    def item_delete(self):
        arm = self.arm
        op = self.op
        rid = self.rid()
        rt = self.rtype.lower()
        if rt != "microsoft.resources/resourcegroups":
            self.require_rg(False)
        rec = arm.records.get(rid.lower())
        if rec is None:
            if "204" in op.responses:
                return self.respond(204)
            raise self.not_found()
        if rec.op and rec.op.status == "InProgress" and rec.op.kind == "delete":
            # deleting what is already being deleted: ARM answers with the running operation
            return self.respond(202, None, self.lro_headers(rec.op, rec.op.namespace.lower() in ASYNC_HEADER_NAMESPACES, True))
        self.conflict(rec)
        if rt != "microsoft.resources/resourcegroups":
            arm.check_not_in_use(rec.id, exclude_key=rec.key, what=self.rtype.split("/")[-1])
        cascade = [k for k in arm.records if k.startswith(rec.key + "/")]
        if rt == "microsoft.resources/resourcegroups":
            cascade = [k for k, r in arm.records.items()
                       if k != rec.key and rg_of_id(r.id) == rg_of_id(rec.id)]

        def remove():
            for k in cascade + [rec.key]:
                arm.records.pop(k, None)
        if not op.lro:
            remove()
            return self.respond(200)
        rec.state = "Deleting"
        aop = arm.start_op("delete", rec, None, op, rec.body.get("location"), self.path, self.h.command, self.sub)
        aop.on_success = remove
        return self.respond(202, None, self.lro_headers(aop, aop.namespace.lower() in ASYNC_HEADER_NAMESPACES, True))

    def child_delete(self, top, child):
        arm = self.arm
        op = self.op
        self.require_rg(False)
        parent = arm.records.get(top.lower())
        if parent is None:
            if "204" in op.responses:
                return self.respond(204)
            raise self.not_found(top)
        item = self.find_child(parent.body, child)
        coll, name = child
        key = (coll, name.lower())
        if item is None:
            if "204" in op.responses:
                return self.respond(204)
            raise self.not_found()
        self.conflict(parent, key)
        if parent.op and parent.op.status == "InProgress":
            self.conflict(parent)
        if item.get("id"):
            arm.check_not_in_use(item["id"], exclude_key=parent.key, what=coll)

        def remove():
            items = parent.body.get("properties", {}).get(coll, [])
            if item in items:
                items.remove(item)
            parent.child_states.pop(key, None)
            parent.body["etag"] = weak_etag() if "etag" in parent.body else parent.body.get("etag")
            if "etag" not in parent.body or parent.body["etag"] is None:
                parent.body.pop("etag", None)
        if not op.lro:
            remove()
            return self.respond(200)
        parent.child_states[key] = "Deleting"
        aop = arm.start_op("delete", parent, key, op, parent.body.get("location"), self.path, self.h.command, self.sub)
        aop.on_success = remove
        return self.respond(202, None, self.lro_headers(aop, aop.namespace.lower() in ASYNC_HEADER_NAMESPACES, True))

    # POST actions -----------------------------------------------------------------------------------
    def action(self, name):
        arm = self.arm
        op = self.op
        self.require_rg(True)
        rid = self.rid(self.segs[:-1])
        rec = arm.records.get(rid.lower())
        rt = (rec.rtype.lower() if rec else "")
        if rec is None and op.resource_type.lower().count("/") >= 1 and self.rg:
            raise self.not_found(rid)
        if rt == "microsoft.storage/storageaccounts" and name == "listkeys":
            keys = rec.extras["keys"]
            return self.respond(200, {"keys": [{"keyName": f"key{i + 1}", "value": k, "permissions": "FULL",
                                                "creationTime": iso(rec.created)} for i, k in enumerate(keys)]})
        vm_actions = {"deallocate": ("deallocating", "deallocated"), "start": ("starting", "running"),
                      "poweroff": ("stopping", "stopped"), "restart": ("starting", "running")}
        if rt in ("microsoft.compute/virtualmachines", "microsoft.compute/virtualmachinescalesets") and name in vm_actions:
            self.conflict(rec)
            during, after = vm_actions[name]
            before = rec.extras.get("power", "running")
            rec.extras["power"] = during
            aop = arm.start_op("action", rec, None, op, rec.body.get("location"), self.path, self.h.command, self.sub)

            def done():
                rec.extras["power"] = after
            def failed():
                rec.extras["power"] = before
            aop.on_success = done
            aop.on_failure = failed
            return self.respond(202, None, self.lro_headers(aop, True, True))
        raise ArmError(501, "NotImplementedByStandIn",
                       f"{op.describe()} is in the specs, but the stand-in does not model this action.")


def family(size):
    return re.sub(r"\d+", "", size).lower()


def _implicit_parent_ok(self, parent_key):
    segs = split_id(parent_key)
    for ptype, names in IMPLICIT_CHILDREN.items():
        for n in names:
            if "/".join(segs[-2:]).lower() == n.lower():
                parent = self.records.get("/" + "/".join(segs[:-2]).lower())
                if parent and parent.rtype.lower() == ptype:
                    return True
    return False


Arm.implicit_parent_ok = _implicit_parent_ok


# ------------------------------------------------------------------------------------------------


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class App:
    def __init__(self, config, specs_dir, verbose=False):
        self.specs = armspec.Specs(specs_dir)
        self.arm = Arm(self.specs, config)
        self.identity = Identity(config)
        self.verbose = verbose


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True, help="JSON: tenant, subscriptions, clients, managed_identity, settings")
    ap.add_argument("--specs", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "specs"))
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--https-port", type=int, default=None, help="serve TLS here (needs --tls-cert/--tls-key); 0 = any")
    ap.add_argument("--http-port", type=int, default=None, help="serve plain HTTP here; 0 = any free port")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--ports-file", help="written once listening: {\"https\": PORT, \"http\": PORT}")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    with open(args.config) as f:
        config = json.load(f)
    app = App(config, args.specs, args.verbose)
    servers, ports = [], {}
    if args.https_port is not None:
        srv = Server((args.host, args.https_port), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        # the TLS handshake happens in the request's thread, not in the accepting one
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
        srv.scheme = "https"
        servers.append(srv)
        ports["https"] = srv.server_address[1]
    if args.http_port is not None:
        srv = Server((args.host, args.http_port), Handler)
        srv.scheme = "http"
        servers.append(srv)
        ports["http"] = srv.server_address[1]
    if not servers:
        raise SystemExit("give --https-port and/or --http-port")
    for srv in servers:
        srv.app = app
    for srv in servers[1:]:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    if args.ports_file:
        tmp = args.ports_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(ports, f)
        os.replace(tmp, args.ports_file)
    print(f"{STANDIN} listening: {ports}; specs: {len(app.specs.docs)} files, "
          f"{len(app.specs.operations)} operations", flush=True)
    for missing in app.specs.missing_files():
        print(f"not vendored: {missing}: a $ref into it accepts any value", flush=True)
    try:
        servers[0].serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
