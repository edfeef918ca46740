"""Schema access for the stand-in API server.

Kubernetes' published definitions for one pinned version (the `_definitions.json` that the
`kubernetes-validate` package ships, keyed under `$defs`) and the OpenAPI v3 schemas of CRDs are both
walked through the small set of helpers below: what kind of node a schema is (struct, map, list, scalar,
free-form), its children, and the list/map semantics that server-side apply and strategic merge patch
use (`x-kubernetes-list-type`, `x-kubernetes-list-map-keys`, `x-kubernetes-map-type`,
`x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`).
"""
import copy
import json
import os
import re

PINNED_VERSION = "1.30.0"

ANY = {"x-standin-any": True}          # free-form value (deduced types, as structured-merge-diff calls them)
UNKNOWN = object()                      # a field the schema does not declare


def definitions_path():
    import kubernetes_validate  # noqa: installed in .venv-kube by scripts/kube-apiserver.sh install
    base = os.path.dirname(kubernetes_validate.__file__)
    return os.path.join(base, "kubernetes-json-schema", "v%s-local" % PINNED_VERSION, "_definitions.json")


def load_definitions():
    with open(definitions_path()) as f:
        return json.load(f)["$defs"]


class Types:
    """Resolves `$ref`s into the pinned definitions and answers questions about schema nodes."""

    def __init__(self, defs):
        self.defs = defs
        self.gvk_to_def = {}
        for name, d in defs.items():
            for gvk in d.get("x-kubernetes-group-version-kind", []) or []:
                if name.endswith("List") or "apimachinery" in name:
                    continue
                self.gvk_to_def[(gvk["group"], gvk["version"], gvk["kind"])] = name

    def ref_name(self, s):
        if isinstance(s, dict) and "$ref" in s:
            return s["$ref"].rsplit("/", 1)[1]
        return None

    def resolve(self, s):
        n = 0
        while isinstance(s, dict) and "$ref" in s:
            s = self.defs[s["$ref"].rsplit("/", 1)[1]]
            n += 1
            if n > 50:
                raise ValueError("reference loop")
        return s

    def of_kind(self, group, version, kind):
        name = self.gvk_to_def.get((group, version, kind))
        return {"$ref": "#/$defs/" + name} if name else None

    # --- what a node is -------------------------------------------------------------------------
    def kind(self, s):
        """'struct', 'map', 'list', 'string', 'integer', 'number', 'boolean', 'intstr', 'quantity', 'any'."""
        if s is None or s is ANY:
            return "any"
        s = self.resolve(s)
        if s.get("x-standin-any"):
            return "any"
        if s.get("x-kubernetes-int-or-string"):
            return "intstr"
        if "oneOf" in s and not s.get("properties"):
            types = {_first_type(o.get("type")) for o in s["oneOf"]}
            if types == {"string", "integer"}:
                return "intstr"
            if types == {"string", "number"}:
                return "quantity"
        t = _first_type(s.get("type"))
        if t == "object" or (t is None and "properties" in s):
            if s.get("properties"):
                return "struct"
            ap = s.get("additionalProperties")
            if isinstance(ap, dict):
                return "map"
            return "any"
        if t == "array":
            return "list"
        if t in ("string", "integer", "number", "boolean"):
            return t
        return "any"

    def child(self, s, key):
        """Schema of field `key` of an object node, ANY for free-form, UNKNOWN if not declared."""
        if s is None or s is ANY:
            return ANY
        s = self.resolve(s)
        if s.get("x-standin-any"):
            return ANY
        props = s.get("properties") or {}
        if key in props:
            return props[key]
        ap = s.get("additionalProperties")
        if isinstance(ap, dict):
            return ap
        if ap is True or s.get("x-kubernetes-preserve-unknown-fields"):
            return ANY
        if s.get("x-kubernetes-embedded-resource") and key in ("apiVersion", "kind", "metadata"):
            if key == "metadata":
                return {"$ref": "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
            return {"type": "string"}
        if not props and self.kind(s) == "any":
            return ANY
        return UNKNOWN

    def is_declared_field(self, s, key):
        s = self.resolve(s) if isinstance(s, dict) else s
        return isinstance(s, dict) and key in (s.get("properties") or {})

    def items(self, s):
        if s is None or s is ANY:
            return ANY
        s = self.resolve(s)
        return s.get("items", ANY) or ANY

    def list_type(self, s):
        """('atomic'|'set'|'map', keys) as structured-merge-diff derives it from the published schema."""
        if s is None or s is ANY:
            return "atomic", []
        s = self.resolve(s)
        lt = s.get("x-kubernetes-list-type")
        if lt == "map":
            return "map", list(s.get("x-kubernetes-list-map-keys") or [])
        if lt in ("set", "atomic"):
            return lt, []
        if "merge" in (s.get("x-kubernetes-patch-strategy") or ""):
            key = s.get("x-kubernetes-patch-merge-key")
            return ("map", [key]) if key else ("set", [])
        return "atomic", []

    def map_atomic(self, s):
        if s is None or s is ANY:
            return False
        s = self.resolve(s)
        return s.get("x-kubernetes-map-type") == "atomic"

    def patch_strategy(self, s):
        """(strategies, mergeKey) for strategic merge patch."""
        if s is None or s is ANY:
            return set(), None
        s = self.resolve(s)
        strat = set((s.get("x-kubernetes-patch-strategy") or "").split(",")) - {""}
        return strat, s.get("x-kubernetes-patch-merge-key")

    def nullable(self, s):
        if s is None or s is ANY:
            return True
        s = self.resolve(s)
        return bool(s.get("nullable"))


def _first_type(t):
    if isinstance(t, list):
        for x in t:
            if x != "null":
                return x
        return None
    return t


# --- validation -------------------------------------------------------------------------------------

GO_JSON_TYPE = {dict: "object", list: "array", str: "string", bool: "bool", int: "number", float: "number"}


class Findings:
    def __init__(self):
        self.unknown = []      # paths (strings) of fields the schema does not declare
        self.decode = []       # messages of type errors as Go's JSON decoder words them (built-in kinds)
        self.invalid = []      # (field, reason, message-without-field) for 422 Invalid
        self.map_key_missing = []

    def any_error(self):
        return self.decode or self.invalid


def join_path(path, key):
    return key if not path else path + "." + key


def _go_type(types, s):
    k = types.kind(s)
    name = types.ref_name(s)
    if k == "struct":
        n = name or "object"
        return n.split(".")[-2] + "." + n.split(".")[-1] if "." in n else n
    if k == "map":
        return "map[string]" + _go_type(types, types.resolve(s)["additionalProperties"])
    if k == "list":
        return "[]" + _go_type(types, types.items(s))
    if k == "integer":
        return types.resolve(s).get("format", "int64")
    if k == "number":
        return "float64"
    if k == "boolean":
        return "bool"
    if k == "string":
        return "string"
    if k in ("intstr",):
        return "intstr.IntOrString"
    if k == "quantity":
        return "resource.Quantity"
    return "interface {}"


def check(types, value, s, findings, prune_unknown, builtin=True, path="", struct_name=""):
    """Walks `value` against schema `s`: records unknown fields (and drops them when prune_unknown),
    type errors and missing required fields. Nulls are dropped as Go's decoder would (or as
    structural pruning does for CRs, unless the schema says nullable). Returns the (possibly pruned) value."""
    k = types.kind(s)
    name = types.ref_name(s)
    if name:
        struct_name = name.rsplit(".", 1)[-1]
    if value is None:
        return None

    def type_error(expect):
        jt = GO_JSON_TYPE.get(type(value), "value")
        if builtin:
            shown = jt if jt not in ("number",) else "number %s" % json.dumps(value)
            findings.decode.append("json: cannot unmarshal %s into Go struct field %s.%s of type %s" % (
                shown, struct_name or "Object", path, _go_type(types, s)))
        else:
            findings.invalid.append((path, "FieldValueTypeInvalid", 'Invalid value: "%s": %s in body must be of type %s: "%s"' % (
                _json_kind(value), path, expect, _json_kind(value))))
        return value

    if k in ("struct", "map", "any") and isinstance(value, dict) and k != "any":
        out = {}
        rs = types.resolve(s)
        for key, v in value.items():
            cs = types.child(s, key)
            p = join_path(path, key)
            if cs is UNKNOWN:
                findings.unknown.append(p)
                if not prune_unknown:
                    out[key] = v
                continue
            if v is None and not (not builtin and types.nullable(cs)):
                continue
            out[key] = check(types, v, cs, findings, prune_unknown, builtin, p, struct_name)
        if k == "struct":
            for req in rs.get("required", []) or []:
                if req not in value or value[req] is None:
                    if req in ("apiVersion", "kind") and not path:
                        continue
                    findings.invalid.append((join_path(path, req), "FieldValueRequired", "Required value"))
        return out
    if k in ("struct", "map"):
        return type_error("object")
    if k == "any":
        if isinstance(value, dict):
            return {kk: vv for kk, vv in value.items()}
        return value
    if k == "list":
        if not isinstance(value, list):
            return type_error("array")
        it = types.items(s)
        return [check(types, v, it, findings, prune_unknown, builtin, "%s[%d]" % (path, i), struct_name)
                for i, v in enumerate(value)]
    if k == "string":
        if not isinstance(value, str):
            return type_error("string")
        return value
    if k == "integer":
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
            return type_error("integer")
        return int(value)
    if k == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return type_error("number")
        return value
    if k == "boolean":
        if not isinstance(value, bool):
            return type_error("boolean")
        return value
    if k == "intstr":
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            return type_error("integer-or-string")
        return value
    if k == "quantity":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            return type_error("string")
        if isinstance(value, str) and not QUANTITY_RE.match(value):
            findings.decode.append('quantities must match the regular expression \'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$\'')
        return value
    return value


QUANTITY_RE = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")


def _json_kind(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


# --- CRD schemas ---------------------------------------------------------------------------------

def crd_object_schema(version_schema):
    """The schema a custom resource of one CRD version is checked against: the CRD's own
    openAPIV3Schema, with apiVersion/kind/metadata typed as the API machinery types them."""
    root = copy.deepcopy(version_schema or {"type": "object", "x-kubernetes-preserve-unknown-fields": True})
    props = root.setdefault("properties", {})
    props["apiVersion"] = {"type": "string"}
    props["kind"] = {"type": "string"}
    props["metadata"] = {"$ref": "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    root.setdefault("type", "object")
    return root


def to_json_schema(s):
    """OpenAPI v3 (CRD dialect) → JSON Schema draft 4 for the jsonschema package: `nullable`,
    `x-kubernetes-int-or-string`, and unknown-field handling left to check() above."""
    if isinstance(s, list):
        return [to_json_schema(x) for x in s]
    if not isinstance(s, dict):
        return s
    out = {}
    for k, v in s.items():
        if k.startswith("x-kubernetes-") or k in ("nullable", "description", "example", "externalDocs", "format", "default"):
            continue
        if k == "properties":
            out[k] = {pk: to_json_schema(pv) for pk, pv in v.items() if pk != "metadata"}
        elif k in ("items", "additionalProperties", "not"):
            out[k] = to_json_schema(v)
        elif k in ("allOf", "anyOf", "oneOf"):
            out[k] = to_json_schema(v)
        else:
            out[k] = v
    if s.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}] + out.get("anyOf", [])
    if s.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


def crd_validate(value, version_schema):
    """Keyword validation (pattern, bounds, enum, oneOf, …) of a CR against its CRD schema, worded as
    the API server words it. Returns a list of (field, reason, message)."""
    import jsonschema
    schema = to_json_schema(version_schema or {})
    v = jsonschema.Draft4Validator(schema)
    errs = []
    body = {k: vv for k, vv in value.items() if k != "metadata"}
    for e in sorted(v.iter_errors(body), key=lambda e: list(e.absolute_path)):
        field = ""
        for p in e.absolute_path:
            field = "%s[%d]" % (field, p) if isinstance(p, int) else join_path(field, p)
        if e.validator == "type":
            continue  # reported by check() with the server's wording
        if e.validator == "required":
            missing = re.findall(r"'([^']+)' is a required property", e.message)
            for m in missing:
                errs.append((join_path(field, m), "FieldValueRequired", "Required value"))
            continue
        if e.validator == "enum":
            errs.append((field, "FieldValueNotSupported", "Unsupported value: %s: supported values: %s" % (
                json.dumps(e.instance), ", ".join(json.dumps(x) for x in e.validator_value))))
            continue
        shown = json.dumps(e.instance) if not isinstance(e.instance, (dict, list)) else '"%s"' % _json_kind(e.instance)
        msg = {
            "pattern": "%s in body should match '%s'" % (field, e.validator_value),
            "minimum": "%s in body should be greater than or equal to %s" % (field, e.validator_value),
            "maximum": "%s in body should be less than or equal to %s" % (field, e.validator_value),
            "minLength": "%s in body should be at least %s chars long" % (field, e.validator_value),
            "maxLength": "%s in body may not be longer than %s" % (field, e.validator_value),
            "minItems": "%s in body should have at least %s items" % (field, e.validator_value),
            "maxItems": "%s in body should have at most %s items" % (field, e.validator_value),
        }.get(e.validator, e.message)
        errs.append((field, "FieldValueInvalid", "Invalid value: %s: %s" % (shown, msg)))
    return errs


def apply_crd_defaults(types, value, s):
    """Structural defaulting: a `default` fills an absent field of an object that is present."""
    if not isinstance(value, dict):
        if isinstance(value, list) and types.kind(s) == "list":
            it = types.items(s)
            for x in value:
                apply_crd_defaults(types, x, it)
        return value
    rs = types.resolve(s) if isinstance(s, dict) else None
    if not rs or rs.get("x-standin-any"):
        return value
    for key, ps in (rs.get("properties") or {}).items():
        if key == "metadata":
            continue
        if key not in value and isinstance(ps, dict) and "default" in ps:
            value[key] = copy.deepcopy(ps["default"])
        if key in value:
            apply_crd_defaults(types, value[key], ps)
    ap = rs.get("additionalProperties")
    if isinstance(ap, dict):
        for key in value:
            apply_crd_defaults(types, value[key], ap)
    return value
