"""Microsoft's published ARM REST API specifications (Swagger 2.0), as a lookup table and a checker.

The ARM stand-in (armserver.py) asks this module, for every request, which operation a method, a path
and an `api-version` name, and whether a request body satisfies that operation's body schema. Nothing
here knows about any client: the answers come from the Swagger files under specs/specification/ only.

What the checker reads from a schema: `$ref` (inside a file and across files, relative refs resolved
inside the specs folder), `allOf` inheritance, `discriminator` with `x-ms-discriminator-value`
(polymorphic types such as metric alert criteria), `properties`, `required`, `additionalProperties`,
`type`, `format` (int32, int64, date-time, duration, uuid, uri, arm-id, byte), `enum` with
`x-ms-enum.modelAsString` (true: any string is accepted, as the real service does), `pattern`,
`minLength`/`maxLength`, `minimum`/`maximum` (and exclusive), `multipleOf`, `minItems`/`maxItems`,
`uniqueItems`, `x-nullable`, `readOnly` and `x-ms-mutability` (read-only values in a request are
ignored, as ARM ignores them), `x-ms-secret` (never stored, never returned). Properties the schema does
not know are rejected (real ARM ignores them, which would hide a misspelt property from a test).
`x-ms-client-flatten` changes only generated SDKs, not the wire, and is ignored.
A `$ref` into a file that is not vendored (natGateway.json, privateEndpoint.json) accepts any value;
`Specs.missing_refs` lists every such reference that was met.
"""
import base64
import json
import os
import re
from urllib.parse import urlparse

ANY = {"x-standin-any": True}

# Path parameters that stand for several segments or for any provider: the generic `Resources_*`
# operations of resources.json. Real ARM routes such requests to the resource provider named in the
# path, so the stand-in does the same instead of matching these templates.
GENERIC_PARAMS = {"resourceProviderNamespace", "parentResourcePath", "resourceType", "scope",
                  "resourceId", "resourceUri"}

DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DURATION = re.compile(r"^-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+(\.\d+)?D)?"
                      r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class Problem:
    def __init__(self, path, code, message):
        self.path, self.code, self.message = path, code, message

    def as_detail(self):
        return {"code": self.code, "target": self.path or "(body)", "message": self.message}


class CheckResult:
    """What checking one request body found: problems, and the create-only values (x-ms-mutability
    without "update") so the server can refuse a change of them on update."""

    def __init__(self):
        self.problems = []
        self.create_only = {}   # json path -> value
        self.unchecked = []     # json paths accepted without a check (missing spec files)

    def add(self, path, code, message):
        self.problems.append(Problem(path, code, message))


def join_path(base, key):
    if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
        return f"{base}.{key}" if base else key
    return f"{base}['{key}']"


class Operation:
    """One Swagger operation: a method on a path template, in one api-version."""

    def __init__(self, specs, file, template, method, node, path_params):
        self.specs, self.file, self.template, self.method, self.node = specs, file, template, method, node
        self.operation_id = node.get("operationId", "")
        self.api_version = specs.docs[file].get("info", {}).get("version", "")
        self.segments = [s for s in template.strip("/").split("/")]
        self.param_names = [s[1:-1] if s.startswith("{") and s.endswith("}") else None for s in self.segments]
        self.literal_count = sum(1 for p in self.param_names if p is None)
        self.lro = bool(node.get("x-ms-long-running-operation"))
        self.lro_options = node.get("x-ms-long-running-operation-options", {}) or {}
        self.responses = set(node.get("responses", {}).keys())
        self.pageable = node.get("x-ms-pageable")
        self.parameters = []   # (file, resolved param node)
        seen = set()
        for pf, pn in [specs.resolve(file, p) for p in node.get("parameters", [])] + path_params:
            key = (pn.get("in"), pn.get("name"))
            if key in seen:
                continue
            seen.add(key)
            self.parameters.append((pf, pn))
        self.body = next(((pf, pn) for pf, pn in self.parameters if pn.get("in") == "body"), None)
        self.resource_type = specs.resource_type_of(self.segments)

    def match(self, segs):
        if len(segs) != len(self.segments):
            return None
        values = {}
        for lit, name, seg in zip(self.segments, self.param_names, segs):
            if name is None:
                if lit.lower() != seg.lower():
                    return None
            else:
                if seg == "":
                    return None
                values[name] = seg
        return values

    def has_generic_param(self):
        for pf, pn in self.parameters:
            if pn.get("in") == "path" and (pn.get("name") in GENERIC_PARAMS or pn.get("x-ms-skip-url-encoding")):
                return True
        return any(n in GENERIC_PARAMS for n in self.param_names if n)

    def body_schema(self):
        if not self.body:
            return None
        pf, pn = self.body
        return (pf, pn.get("schema", ANY))

    def response_schema(self, code="200"):
        r = self.node.get("responses", {}).get(code)
        if not r or "schema" not in r:
            return None
        return (self.file, r["schema"])

    def describe(self):
        return f"{self.method.upper()} {self.template} ({self.operation_id}, api-version {self.api_version})"


class Specs:
    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.docs = {}
        spec_dir = os.path.join(self.root, "specification")
        for dirpath, _, files in os.walk(spec_dir):
            for name in files:
                if name.endswith(".json"):
                    path = os.path.join(dirpath, name)
                    with open(path, encoding="utf-8") as f:
                        self.docs[path] = json.load(f)
        if not self.docs:
            raise SystemExit(f"no Swagger files under {spec_dir}")
        self.missing_refs = set()
        self._effective = {}
        self._patterns = {}
        self.def_names = {}        # id(node) -> definition name
        self.subtypes = {}         # (file, id(node)) -> [(file, node)] direct subtypes
        for file, doc in self.docs.items():
            for name, node in doc.get("definitions", {}).items():
                self.def_names[id(node)] = name
        for file, doc in self.docs.items():
            for name, node in doc.get("definitions", {}).items():
                for parent in node.get("allOf", []):
                    pf, pn = self.resolve(file, parent)
                    self.subtypes.setdefault((pf, id(pn)), []).append((file, node))
        self.operations = []
        for file, doc in self.docs.items():
            for template, item in doc.get("paths", {}).items():
                path_params = [self.resolve(file, p) for p in item.get("parameters", [])]
                for method, node in item.items():
                    if method == "parameters":
                        continue
                    op = Operation(self, file, template, method.lower(), node, path_params)
                    if not op.has_generic_param():
                        self.operations.append(op)
        self.by_length = {}
        self.namespaces = {}
        self.type_versions = {}
        self.canonical_types = {}
        for op in self.operations:
            self.by_length.setdefault(len(op.segments), []).append(op)
            ns = op.resource_type.split("/")[0]
            self.namespaces.setdefault(ns.lower(), ns)
            self.type_versions.setdefault(op.resource_type.lower(), set()).add(op.api_version)
            self.canonical_types.setdefault(op.resource_type.lower(), op.resource_type)

    def missing_files(self):
        """Spec files that some $ref names but that are not vendored (their schemas accept any value)."""
        missing = set()

        def walk(file, node):
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str) and not ref.startswith("#"):
                    target = os.path.normpath(os.path.join(os.path.dirname(file), ref.partition("#")[0]))
                    if target not in self.docs:
                        missing.add(os.path.relpath(target, self.root))
                for k, v in node.items():
                    if k != "x-ms-examples":
                        walk(file, v)
            elif isinstance(node, list):
                for v in node:
                    walk(file, v)
        for file, doc in self.docs.items():
            walk(file, doc)
        return sorted(missing)

    # ---- references -------------------------------------------------------------------------
    def deref(self, file, ref):
        path, _, pointer = ref.partition("#")
        target = os.path.normpath(os.path.join(os.path.dirname(file), path)) if path else file
        doc = self.docs.get(target)
        if doc is None:
            self.missing_refs.add(os.path.relpath(target, self.root) + "#" + pointer)
            return target, ANY
        node = doc
        for part in [p for p in pointer.split("/") if p]:
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[part]
        return target, node

    def resolve(self, file, node):
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            file, node = self.deref(file, node["$ref"])
            seen += 1
            if seen > 50:
                raise ValueError("reference loop")
        return file, node

    def is_missing(self, node):
        return node is ANY

    # ---- resource types ---------------------------------------------------------------------
    @staticmethod
    def resource_type_of(segments):
        """Microsoft.Network/virtualNetworks/subnets for .../providers/Microsoft.Network/virtualNetworks/{v}/subnets/{s};
        Microsoft.Resources/resourceGroups for /subscriptions/{s}/resourcegroups/{rg}."""
        lower = [s.lower() for s in segments]
        if "providers" in lower:
            i = len(lower) - 1 - lower[::-1].index("providers")
            rest = segments[i + 1:]
            if not rest:
                return "Microsoft.Resources/providers"
            ns, tail = rest[0], rest[1:]
        else:
            ns = "Microsoft.Resources"
            tail = segments[2:] if lower[:1] == ["subscriptions"] else segments
            if lower[:1] == ["subscriptions"] and len(segments) <= 2:
                tail = ["subscriptions"]
        types = [t for j, t in enumerate(tail) if j % 2 == 0]
        return "/".join([ns] + types) if types else ns

    def versions_for(self, rtype):
        return sorted(self.type_versions.get(rtype.lower(), set()))

    # ---- routing ----------------------------------------------------------------------------
    def route(self, segs):
        """All operations whose template matches the path (most literal segments first wins)."""
        found = []
        for op in self.by_length.get(len(segs), []):
            values = op.match(segs)
            if values is not None:
                found.append((op, values))
        if not found:
            return []
        best = max(op.literal_count for op, _ in found)
        return [(op, v) for op, v in found if op.literal_count == best]

    # ---- schemas ----------------------------------------------------------------------------
    def type_name(self, node):
        return self.def_names.get(id(node), "object")

    def effective(self, file, node):
        key = (file, id(node))
        eff = self._effective.get(key)
        if eff is not None:
            return eff
        eff = {"props": {}, "required": set(), "additional": None, "discriminator": None,
               "object": node.get("type") == "object", "structured": False, "parents": []}
        self._effective[key] = eff
        for parent in node.get("allOf", []):
            pf, pn = self.resolve(file, parent)
            if pn is ANY:
                eff["additional"] = ANY_ADDITIONAL
                continue
            pe = self.effective(pf, pn)
            eff["parents"].append((pf, pn))
            eff["props"].update(pe["props"])
            eff["required"] |= pe["required"]
            if pe["additional"] is not None:
                eff["additional"] = pe["additional"]
            eff["discriminator"] = eff["discriminator"] or pe["discriminator"]
            eff["object"] = eff["object"] or pe["object"]
            eff["structured"] = eff["structured"] or pe["structured"]
        for name, pnode in node.get("properties", {}).items():
            eff["props"][name] = (file, pnode)
        eff["required"] |= set(node.get("required", []))
        ap = node.get("additionalProperties")
        if ap is True or ap == {}:
            eff["additional"] = ANY_ADDITIONAL
        elif isinstance(ap, dict):
            eff["additional"] = (file, ap)
        if node.get("discriminator"):
            eff["discriminator"] = node["discriminator"]
        if "properties" in node or "allOf" in node or "additionalProperties" in node:
            eff["structured"] = True
            eff["object"] = True
        return eff

    def descendants(self, file, node):
        out, todo = [], [(file, node)]
        while todo:
            f, n = todo.pop()
            for child in self.subtypes.get((f, id(n)), []):
                out.append(child)
                todo.append(child)
        return out

    def discriminator_value(self, node):
        return node.get("x-ms-discriminator-value", self.def_names.get(id(node)))

    def pattern(self, text):
        if text not in self._patterns:
            try:
                self._patterns[text] = re.compile(text)
            except re.error:
                self._patterns[text] = None
        return self._patterns[text]

    def check(self, schema, value, result=None, path=""):
        """Checks a request value against a (file, schema node); returns (cleaned value, CheckResult).
        The cleaned value has read-only and secret properties removed."""
        result = result or CheckResult()
        file, node = schema
        cleaned = self._check(file, node, value, path, result, {})
        return cleaned, result

    def _flags(self, file, node):
        """Flags that may sit beside a $ref: readOnly, x-nullable, x-ms-mutability, x-ms-secret."""
        rf, rn = self.resolve(file, node)
        get = lambda k: node.get(k, rn.get(k) if isinstance(rn, dict) else None)
        return rf, rn, {"readOnly": bool(get("readOnly")), "nullable": bool(get("x-nullable")),
                        "mutability": get("x-ms-mutability"), "secret": bool(get("x-ms-secret"))}

    def _check(self, file, node, value, path, result, flags):
        file, node, own = self._flags(file, node)
        if node is ANY:
            result.unchecked.append(path or "(body)")
            return value
        nullable = flags.get("nullable") or own["nullable"]
        if value is None:
            if not nullable:
                result.add(path, "InvalidRequestContent",
                           f"Null is not a valid value for '{path or '(body)'}' (the spec does not mark it x-nullable).")
            return None
        t = node.get("type")
        eff = self.effective(file, node) if (t == "object" or "properties" in node or "allOf" in node
                                             or "additionalProperties" in node) else None
        if eff is not None and (t in (None, "object")):
            return self._check_object(file, node, eff, value, path, result)
        if t == "array":
            if not isinstance(value, list):
                result.add(path, "InvalidRequestContent", f"Expected an array at '{path}', got {kind(value)}.")
                return value
            if "minItems" in node and len(value) < node["minItems"]:
                result.add(path, "InvalidRequestContent", f"'{path}' needs at least {node['minItems']} items.")
            if "maxItems" in node and len(value) > node["maxItems"]:
                result.add(path, "InvalidRequestContent", f"'{path}' allows at most {node['maxItems']} items.")
            if node.get("uniqueItems"):
                seen = [json.dumps(v, sort_keys=True) for v in value]
                if len(set(seen)) != len(seen):
                    result.add(path, "InvalidRequestContent", f"'{path}' must not repeat items.")
            items = node.get("items", ANY)
            return [self._check(file, items, v, f"{path}[{i}]", result, {}) for i, v in enumerate(value)]
        if t == "string":
            if not isinstance(value, str):
                result.add(path, "InvalidRequestContent",
                           f"Expected a string at '{path}', got {kind(value)}.")
                return value
            self._check_string(node, value, path, result)
        elif t == "integer":
            if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
                result.add(path, "InvalidRequestContent", f"Expected an integer at '{path}', got {kind(value)}.")
                return value
            fmt = node.get("format")
            if fmt == "int32" and not (-2**31 <= value < 2**31):
                result.add(path, "InvalidRequestContent", f"'{path}' is out of range for int32.")
            if fmt == "int64" and not (-2**63 <= value < 2**63):
                result.add(path, "InvalidRequestContent", f"'{path}' is out of range for int64.")
            self._check_number(node, value, path, result)
        elif t == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                result.add(path, "InvalidRequestContent", f"Expected a number at '{path}', got {kind(value)}.")
                return value
            self._check_number(node, value, path, result)
        elif t == "boolean":
            if not isinstance(value, bool):
                result.add(path, "InvalidRequestContent", f"Expected a boolean at '{path}', got {kind(value)}.")
                return value
        elif t == "object":
            if not isinstance(value, dict):
                result.add(path, "InvalidRequestContent", f"Expected an object at '{path}', got {kind(value)}.")
            return value
        self._check_enum(node, value, path, result)
        return value

    def _check_enum(self, node, value, path, result):
        if "enum" not in node:
            return
        if (node.get("x-ms-enum") or {}).get("modelAsString"):
            return
        if value not in node["enum"]:
            allowed = ", ".join(repr(v) for v in node["enum"])
            result.add(path, "InvalidRequestContent",
                       f"The value {json.dumps(value)} at '{path}' is not one of the allowed values: {allowed}.")

    def _check_string(self, node, value, path, result):
        if "minLength" in node and len(value) < node["minLength"]:
            result.add(path, "InvalidRequestContent", f"'{path}' must be at least {node['minLength']} characters long.")
        if "maxLength" in node and len(value) > node["maxLength"]:
            result.add(path, "InvalidRequestContent", f"'{path}' must be at most {node['maxLength']} characters long.")
        if "pattern" in node:
            rx = self.pattern(node["pattern"])
            if rx is not None and not rx.search(value):
                result.add(path, "InvalidRequestContent",
                           f"The value {json.dumps(value)} at '{path}' does not match the pattern {node['pattern']}.")
        fmt = node.get("format")
        bad = False
        if fmt == "date-time":
            bad = not DATE_TIME.match(value)
        elif fmt == "date":
            bad = not DATE.match(value)
        elif fmt == "duration":
            bad = not DURATION.match(value)
        elif fmt == "uuid":
            bad = not UUID.match(value)
        elif fmt == "arm-id":
            bad = not value.startswith("/")
        elif fmt == "uri":
            u = urlparse(value)
            bad = not (u.scheme and (u.netloc or u.path))
        elif fmt == "byte":
            try:
                base64.b64decode(value, validate=True)
            except ValueError:
                bad = True
        if bad:
            result.add(path, "InvalidRequestContent", f"The value {json.dumps(value)} at '{path}' is not a valid {fmt}.")

    def _check_number(self, node, value, path, result):
        if "minimum" in node:
            lo = node["minimum"]
            if value < lo or (node.get("exclusiveMinimum") and value == lo):
                result.add(path, "InvalidRequestContent", f"'{path}' must be {'>' if node.get('exclusiveMinimum') else '>='} {lo}.")
        if "maximum" in node:
            hi = node["maximum"]
            if value > hi or (node.get("exclusiveMaximum") and value == hi):
                result.add(path, "InvalidRequestContent", f"'{path}' must be {'<' if node.get('exclusiveMaximum') else '<='} {hi}.")
        if "multipleOf" in node and node["multipleOf"] and (value / node["multipleOf"]) % 1 != 0:
            result.add(path, "InvalidRequestContent", f"'{path}' must be a multiple of {node['multipleOf']}.")

    def _check_object(self, file, node, eff, value, path, result):
        if not isinstance(value, dict):
            result.add(path, "InvalidRequestContent", f"Expected an object at '{path or '(body)'}', got {kind(value)}.")
            return value
        disc = eff["discriminator"]
        if disc and isinstance(value.get(disc), str):
            wanted = value[disc]
            if self.discriminator_value(node) != wanted:
                for cf, cn in self.descendants(file, node):
                    if self.discriminator_value(cn) == wanted:
                        file, node, eff = cf, cn, self.effective(cf, cn)
                        break
                else:
                    known = sorted({str(self.discriminator_value(n)) for _, n in self.descendants(file, node)}
                                   | ({str(self.discriminator_value(node))} if node.get("x-ms-discriminator-value") else set()))
                    if known:
                        result.add(join_path(path, disc), "InvalidRequestContent",
                                   f"The value {json.dumps(wanted)} at '{join_path(path, disc)}' names no known type; "
                                   f"known: {', '.join(known)}.")
        if not eff["structured"]:
            return value   # a free-form object ({"type": "object"} alone)
        out = {}
        for key, v in value.items():
            sub = join_path(path, key)
            if key not in eff["props"]:
                extra = eff["additional"]
                if extra is ANY_ADDITIONAL:
                    out[key] = v
                elif extra is not None:
                    out[key] = self._check(extra[0], extra[1], v, sub, result, {})
                else:
                    result.add(sub, "InvalidRequestContent",
                               f"Could not find member '{key}' on object of type '{self.type_name(node)}'. Path '{sub}'.")
                continue
            pf, pn = eff["props"][key]
            rf, rn, fl = self._flags(pf, pn)
            mut = fl["mutability"]
            if fl["readOnly"] or (isinstance(mut, list) and mut == ["read"]):
                continue   # ARM ignores read-only values sent back by a client
            checked = self._check(pf, pn, v, sub, result, fl)
            if fl["secret"]:
                continue
            if isinstance(mut, list) and "update" not in mut and "create" in mut:
                result.create_only[sub] = checked
            out[key] = checked
        for req in sorted(eff["required"]):
            if req in value:
                continue
            if req in eff["props"]:
                _, _, fl = self._flags(*eff["props"][req])
                if fl["readOnly"]:
                    continue
            sub = join_path(path, req)
            result.add(sub, "InvalidRequestContent",
                       f"Required property '{req}' not found in JSON. Path '{path or '(body)'}'.")
        return out


ANY_ADDITIONAL = object()


def kind(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
