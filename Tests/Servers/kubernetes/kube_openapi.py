"""/openapi/v2 and /openapi/v3 documents built from the pinned published definitions (schemas) and the
served resources (paths, with the query parameters the real server documents: dryRun, fieldManager,
fieldValidation, force). kubectl reads `fieldValidation` on PATCH operations to decide whether the
server validates fields itself, and `kubectl explain` reads the schemas."""
import copy

NUMERIC_REF_V2 = "#/definitions/"
REF_V3 = "#/components/schemas/"


def _first_type(t):
    if isinstance(t, list):
        return next((x for x in t if x != "null"), None)
    return t


def convert(s, v3, prop_name=None):
    if isinstance(s, list):
        return [convert(x, v3) for x in s]
    if not isinstance(s, dict):
        return s
    if "oneOf" in s and not s.get("properties"):
        types = {_first_type(o.get("type")) for o in s["oneOf"]}
        out = {k: v for k, v in s.items() if k != "oneOf"}
        if types == {"string", "integer"}:
            out.update({"type": "string", "format": "int-or-string"})
            if v3:
                out["x-kubernetes-int-or-string"] = True
                out.pop("type")
                out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
            return out
        if types == {"string", "number"}:
            out["type"] = "string"
            return out
    out = {}
    for k, v in s.items():
        if k == "$ref":
            name = v.rsplit("/", 1)[1]
            out[k] = (REF_V3 if v3 else NUMERIC_REF_V2) + name
        elif k == "type":
            t = _first_type(v)
            if t:
                out[k] = t
        elif k == "properties":
            out[k] = {pk: convert(pv, v3, pk) for pk, pv in v.items()}
        elif k in ("items", "additionalProperties", "not"):
            out[k] = convert(v, v3) if isinstance(v, (dict, list)) else v
        elif k in ("allOf", "anyOf", "oneOf"):
            out[k] = convert(v, v3)
        elif k == "enum" and prop_name in ("apiVersion", "kind"):
            continue
        elif k == "nullable" and not v3:
            continue
        else:
            out[k] = copy.deepcopy(v)
    if v3 and "$ref" in out and len(out) > 1:
        ref = out.pop("$ref")
        out["allOf"] = [{"$ref": ref}]
        out.setdefault("default", {})
    return out


def _closure(types, roots):
    seen = set()
    stack = list(roots)
    while stack:
        n = stack.pop()
        if n in seen or n not in types.defs:
            continue
        seen.add(n)
        _refs(types.defs[n], stack)
    return seen


def _refs(s, out):
    if isinstance(s, dict):
        for k, v in s.items():
            if k == "$ref" and isinstance(v, str):
                out.append(v.rsplit("/", 1)[1])
            else:
                _refs(v, out)
    elif isinstance(s, list):
        for x in s:
            _refs(x, out)


COMMON = ["io.k8s.apimachinery.pkg.apis.meta.v1.Status", "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
          "io.k8s.apimachinery.pkg.apis.meta.v1.Patch", "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
          "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList", "io.k8s.api.autoscaling.v1.Scale"]


def crd_def_name(res):
    rev = ".".join(reversed(res.group.split(".")))
    return "%s.%s.%s" % (rev, res.version, res.kind)


def def_name(types, res):
    if res.crd is not None:
        return crd_def_name(res)
    return types.gvk_to_def.get((res.group, res.version, res.kind))


def _crd_schema(res, schema_of, v3):
    s = copy.deepcopy(schema_of(res))
    s["properties"]["metadata"] = {"$ref": "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                                   "description": "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"}
    s["x-kubernetes-group-version-kind"] = [{"group": res.group, "version": res.version, "kind": res.kind}]
    return convert(s, v3)


def _list_schema(name, res, v3):
    ref = (REF_V3 if v3 else NUMERIC_REF_V2)
    return {"description": "%s is a list of %s" % (res.kind + "List", res.kind), "type": "object",
            "required": ["items"],
            "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                           "items": {"type": "array", "items": {"$ref": ref + name}},
                           "metadata": {"$ref": ref + "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"}},
            "x-kubernetes-group-version-kind": [{"group": res.group, "version": res.version, "kind": res.kind + "List"}]}


def _op_id(verb, res, namespaced_path):
    gv = (res.group.split(".")[0].title() if res.group else "Core") + res.version.title()
    scope = "Namespaced" if namespaced_path else ""
    return "%s%s%s%s" % (verb, gv, scope, res.kind)


def _paths(types, res, v3):
    """Paths of one resource with the operations and query parameters the real server documents."""
    name = def_name(types, res)
    if not name:
        return {}
    ref = (REF_V3 if v3 else NUMERIC_REF_V2)
    gvk = {"group": res.group, "version": res.version, "kind": res.kind}
    prefix = "/api/v1" if not res.group else "/apis/%s/%s" % (res.group, res.version)

    def qp(n, desc=""):
        if v3:
            return {"name": n, "in": "query", "description": desc, "schema": {"type": "string", "uniqueItems": True}}
        return {"name": n, "in": "query", "description": desc, "type": "string", "uniqueItems": True}

    def pp(n):
        if v3:
            return {"name": n, "in": "path", "required": True, "schema": {"type": "string", "uniqueItems": True}}
        return {"name": n, "in": "path", "required": True, "type": "string", "uniqueItems": True}

    def bp(v3ref):
        return {"name": "body", "in": "body", "required": True, "schema": {"$ref": ref + v3ref}}

    def resp(target):
        if v3:
            return {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": ref + target}},
                                                             "application/yaml": {"schema": {"$ref": ref + target}}}},
                    "401": {"description": "Unauthorized"}}
        return {"200": {"description": "OK", "schema": {"$ref": ref + target}}, "401": {"description": "Unauthorized"}}

    def op(verb, action, target, params=(), body=None, consumes=None, kind_gvk=None):
        o = {"tags": [(res.group.replace(".", "_") + "_" if res.group else "core_") + res.version],
             "operationId": verb, "responses": resp(target), "x-kubernetes-action": action,
             "x-kubernetes-group-version-kind": kind_gvk or gvk}
        params = list(params)
        if body:
            if v3:
                o["requestBody"] = {"content": {c: {"schema": {"$ref": ref + body}} for c in (consumes or ["*/*"])},
                                    "required": True}
            else:
                params.insert(0, bp(body))
                o["consumes"] = consumes or ["*/*"]
        if not v3:
            o["produces"] = ["application/json", "application/yaml"]
            o["schemes"] = ["https"]
        if params:
            o["parameters"] = params
        return o

    write = [qp("dryRun", "When present, indicates that modifications should not be persisted."),
             qp("fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes."),
             qp("fieldValidation", "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: Ignore, Warn (default), Strict.")]
    patch_types = ["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json"]
    if res.crd is None:
        patch_types.append("application/strategic-merge-patch+json")
    listq = [qp(n) for n in ("labelSelector", "fieldSelector", "limit", "continue", "resourceVersion",
                             "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds", "watch", "allowWatchBookmarks")]
    out = {}
    for namespaced_path in ([True, False] if res.namespaced else [False]):
        base = prefix + ("/namespaces/{namespace}" if namespaced_path else "") + "/" + res.plural
        common = [pp("namespace")] if namespaced_path else []
        common.append(qp("pretty"))
        coll = {"parameters": common,
                "get": op(_op_id("list", res, namespaced_path), "list", name + "List", listq)}
        if namespaced_path or not res.namespaced:
            coll["post"] = op(_op_id("create", res, namespaced_path), "post", name, write, body=name)
            if "deletecollection" in res.verbs:
                coll["delete"] = op(_op_id("deletecollection", res, namespaced_path), "deletecollection",
                                    "io.k8s.apimachinery.pkg.apis.meta.v1.Status", [qp("labelSelector"), qp("dryRun")],
                                    body="io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions")
        out[base] = coll
        if namespaced_path or not res.namespaced:
            item = {"parameters": [pp("name")] + common,
                    "get": op(_op_id("read", res, namespaced_path), "get", name),
                    "put": op(_op_id("replace", res, namespaced_path), "put", name, write, body=name),
                    "patch": op(_op_id("patch", res, namespaced_path), "patch", name, write + [qp("force")],
                                body="io.k8s.apimachinery.pkg.apis.meta.v1.Patch", consumes=patch_types),
                    "delete": op(_op_id("delete", res, namespaced_path), "delete", "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
                                 [qp("dryRun"), qp("gracePeriodSeconds"), qp("propagationPolicy")],
                                 body="io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions")}
            out[base + "/{name}"] = item
            for sub in res.subresources:
                if sub not in ("status", "scale"):
                    continue
                target = name if sub == "status" else "io.k8s.api.autoscaling.v1.Scale"
                kg = gvk if sub == "status" else {"group": "autoscaling", "version": "v1", "kind": "Scale"}
                out[base + "/{name}/" + sub] = {
                    "parameters": [pp("name")] + common,
                    "get": op(_op_id("read", res, namespaced_path) + sub.title(), "get", target, kind_gvk=kg),
                    "put": op(_op_id("replace", res, namespaced_path) + sub.title(), "put", target, write, body=target, kind_gvk=kg),
                    "patch": op(_op_id("patch", res, namespaced_path) + sub.title(), "patch", target, write + [qp("force")],
                                body="io.k8s.apimachinery.pkg.apis.meta.v1.Patch", consumes=patch_types, kind_gvk=kg)}
    return out


def v3_group_versions(resources):
    out = []
    for r in resources:
        p = "api/v1" if not r.group else "apis/%s/%s" % (r.group, r.version)
        if p not in out:
            out.append(p)
    return out


def _schemas(types, resources, schema_of, v3):
    roots = list(COMMON)
    custom = {}
    for r in resources:
        n = def_name(types, r)
        if not n:
            continue
        if r.crd is not None:
            custom[n] = _crd_schema(r, schema_of, v3)
            custom[n + "List"] = _list_schema(n, r, v3)
        else:
            roots.extend([n, n + "List"])
    roots.append("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
    roots.append("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")
    out = {n: convert(types.defs[n], v3) for n in sorted(_closure(types, roots))}
    out.update(custom)
    return out


def v3_document(types, resources, schema_of, gvp):
    rs = [r for r in resources if ("api/v1" if not r.group else "apis/%s/%s" % (r.group, r.version)) == gvp]
    paths = {}
    for r in rs:
        paths.update(_paths(types, r, True))
    return {"openapi": "3.0.0",
            "info": {"title": "Kubernetes (maifctl stand-in)", "version": "v1.30.0"},
            "paths": paths,
            "components": {"schemas": _schemas(types, rs, schema_of, True),
                           "securitySchemes": {"BearerToken": {"type": "apiKey", "description": "Bearer Token authentication",
                                                               "name": "authorization", "in": "header"}}}}


def v2_document(types, resources, schema_of):
    paths = {}
    for r in resources:
        paths.update(_paths(types, r, False))
    return {"swagger": "2.0",
            "info": {"title": "Kubernetes (maifctl stand-in)", "version": "v1.30.0"},
            "paths": paths,
            "definitions": _schemas(types, resources, schema_of, False),
            "securityDefinitions": {"BearerToken": {"type": "apiKey", "name": "authorization", "in": "header",
                                                    "description": "Bearer Token authentication"}},
            "security": [{"BearerToken": []}]}


# --- /openapi/v2 as protobuf (gnostic openapi_v2.Document), which kubectl's client-side validation asks for ---

import json as _json  # noqa: E402
import struct as _struct  # noqa: E402

PB_V2 = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"          # what clients ask for
PB_V2_RESPONSE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"  # what the server answers with


def _uv(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _k(num, wt):
    return _uv((num << 3) | wt)


def _s(num, v):
    if v is None or v == "":
        return b""
    b = v.encode() if isinstance(v, str) else v
    return _k(num, 2) + _uv(len(b)) + b


def _m(num, b):
    return _k(num, 2) + _uv(len(b)) + b


def _b(num, v):
    return _k(num, 0) + b"\x01" if v else b""


def _i(num, v):
    return _k(num, 0) + _uv(int(v)) if v else b""


def _d(num, v):
    return _k(num, 1) + _struct.pack("<d", float(v)) if v is not None else b""


def _any(num, value):
    return _m(num, _s(2, _json.dumps(value)))  # Any{yaml}: JSON is YAML


def _ext(num, d):
    return b"".join(_m(num, _s(1, k) + _any(2, v)) for k, v in d.items() if k.startswith("x-"))


def pb_schema(s):
    if not isinstance(s, dict):
        return b""
    out = _s(1, s.get("$ref")) + _s(2, s.get("format")) + _s(3, s.get("title")) + _s(4, s.get("description"))
    if "default" in s:
        out += _any(5, s["default"])
    out += _d(7, s.get("maximum")) + _b(8, s.get("exclusiveMaximum")) + _d(9, s.get("minimum")) + _b(10, s.get("exclusiveMinimum"))
    out += _i(11, s.get("maxLength")) + _i(12, s.get("minLength")) + _s(13, s.get("pattern"))
    out += _i(14, s.get("maxItems")) + _i(15, s.get("minItems")) + _b(16, s.get("uniqueItems"))
    out += b"".join(_s(19, r) for r in s.get("required") or [])
    out += b"".join(_any(20, e) for e in s.get("enum") or [])
    ap = s.get("additionalProperties")
    if isinstance(ap, dict):
        out += _m(21, _m(1, pb_schema(ap)))
    elif isinstance(ap, bool):
        out += _m(21, _k(2, 0) + (b"\x01" if ap else b"\x00"))
    t = s.get("type")
    if t:
        out += _m(22, b"".join(_s(1, x) for x in (t if isinstance(t, list) else [t])))
    it = s.get("items")
    if isinstance(it, dict):
        out += _m(23, _m(1, pb_schema(it)))
    out += b"".join(_m(24, pb_schema(x)) for x in s.get("allOf") or [])
    if s.get("properties"):
        out += _m(25, b"".join(_m(1, _s(1, k) + _m(2, pb_schema(v))) for k, v in s["properties"].items()))
    out += _ext(31, s)
    return out


def _pb_param(p):
    if p.get("in") == "body":
        return _m(1, _m(1, _s(1, p.get("description")) + _s(2, p["name"]) + _s(3, "body") + _b(4, p.get("required")) +
                        _m(5, pb_schema(p.get("schema") or {}))))
    if p.get("in") == "path":
        sub = _b(1, True) + _s(2, "path") + _s(3, p.get("description")) + _s(4, p["name"]) + _s(5, p.get("type")) + _b(19, p.get("uniqueItems"))
        return _m(1, _m(2, _m(4, sub)))
    sub = _b(1, p.get("required")) + _s(2, "query") + _s(3, p.get("description")) + _s(4, p["name"]) + _s(6, p.get("type")) + _b(20, p.get("uniqueItems"))
    return _m(1, _m(2, _m(3, sub)))


def _pb_op(o):
    out = b"".join(_s(1, t) for t in o.get("tags") or []) + _s(3, o.get("description")) + _s(5, o.get("operationId"))
    out += b"".join(_s(6, x) for x in o.get("produces") or []) + b"".join(_s(7, x) for x in o.get("consumes") or [])
    out += b"".join(_m(8, _pb_param(p)) for p in o.get("parameters") or [])
    codes = b""
    for code, r in (o.get("responses") or {}).items():
        resp = _s(1, r.get("description"))
        if r.get("schema"):
            resp += _m(2, _m(1, pb_schema(r["schema"])))
        codes += _m(1, _s(1, code) + _m(2, _m(1, resp)))
    out += _m(9, codes)
    out += b"".join(_s(10, x) for x in o.get("schemes") or [])
    out += _ext(13, o)
    return out


def v2_protobuf(doc):
    out = _s(1, doc["swagger"]) + _m(2, _s(1, doc["info"]["title"]) + _s(2, doc["info"]["version"]))
    paths = b""
    for name, item in doc["paths"].items():
        pi = b""
        for verb, num in (("get", 2), ("put", 3), ("post", 4), ("delete", 5), ("patch", 8)):
            if verb in item:
                pi += _m(num, _pb_op(item[verb]))
        pi += b"".join(_m(9, _pb_param(p)) for p in item.get("parameters") or [])
        paths += _m(2, _s(1, name) + _m(2, pi))
    out += _m(8, paths)
    out += _m(9, b"".join(_m(1, _s(1, n) + _m(2, pb_schema(s))) for n, s in doc["definitions"].items()))
    return out
