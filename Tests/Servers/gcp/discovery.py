"""Checks HTTP requests against Google's own API discovery documents — the ones that ship inside the
google-api-python-client wheel (googleapiclient/discovery_cache/documents/), from which Google's own
client libraries are generated. Used by front.py; importable by tests.

A request is found by HTTP method + path template (flatPath, else path; rootUrl + servicePath, and the
mediaUpload paths under /upload/ and /resumable/upload/), then checked for: required path and query
parameters, unknown query parameters, parameter types/enums/patterns, and its body against the method's
`request` schema ($ref resolved): every field name known, JSON types, format int64/uint64 as a JSON string of
digits, int32/uint32 ranges, enums, byte/date-time/duration formats, and the fields that the document marks
required for this method (annotations.required)."""

import base64
import difflib
import email.parser
import email.policy
import json
import os
import re
from datetime import datetime
from urllib.parse import unquote

APIS = ("compute.v1", "storage.v1", "dns.v1", "monitoring.v3")


def documents_dir():
    import importlib.util
    spec = importlib.util.find_spec("googleapiclient")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("googleapiclient is not installed (scripts/gcp-servers.sh install)")
    return os.path.join(list(spec.submodule_search_locations)[0], "discovery_cache", "documents")


def _template_regex(template):
    out, pos, names = [], 0, []
    for m in re.finditer(r"\{(\+?)([^}]+)\}", template):
        out.append(re.escape(template[pos:m.start()]))
        group = "g%d" % len(names)
        names.append(m.group(2))
        out.append("(?P<%s>%s)" % (group, ".+" if m.group(1) else "[^/]+"))
        pos = m.end()
    out.append(re.escape(template[pos:]))
    literal = len(re.sub(r"\{[^}]+\}", "", template))
    return re.compile("^" + "".join(out) + "$"), names, literal


class Method:
    def __init__(self, api, doc, m):
        self.api, self.doc, self.m = api, doc, m
        self.id = m["id"]
        self.http = m["httpMethod"]
        self.params = m.get("parameters", {})
        self.request = m.get("request", {}).get("$ref")
        self.media = bool(m.get("supportsMediaUpload"))


class Discovery:
    def __init__(self, directory=None, apis=APIS):
        directory = directory or documents_dir()
        self.docs, self.routes, self.methods = {}, [], {}
        for name in apis:
            with open(os.path.join(directory, name + ".json")) as f:
                doc = json.load(f)
            self.docs[name] = doc
            base = "/" + doc.get("servicePath", "")
            for m in self._walk(doc.get("resources", {})):
                meth = Method(name, doc, m)
                self.methods[meth.id] = meth
                templates = [base + (m.get("flatPath") or m["path"])]
                if m.get("flatPath") and m.get("path") != m.get("flatPath"):
                    templates.append(base + m["path"])
                for proto in (m.get("mediaUpload") or {}).get("protocols", {}).values():
                    templates.append(proto["path"])
                for t in templates:
                    rx, names, literal = _template_regex(t)
                    self.routes.append((literal, rx, names, meth, t))
        # The most literal template wins: "…/instances/{instance}/setLabels" before "…/{resourceId}/…".
        self.routes.sort(key=lambda r: -r[0])

    @staticmethod
    def _walk(resources):
        for r in resources.values():
            yield from r.get("methods", {}).values()
            yield from Discovery._walk(r.get("resources", {}))

    def match(self, http_method, raw_path):
        """→ (Method, {param: decoded value}, template) or None."""
        for _, rx, names, meth, template in self.routes:
            if meth.http != http_method:
                continue
            mm = rx.match(raw_path)
            if mm:
                values = {names[i]: unquote(mm.group("g%d" % i)) for i in range(len(names))}
                return meth, values, template
        return None

    # ── validation ─────────────────────────────────────────────────────

    def check(self, meth, path_values, query_all, body, content_type):
        """Problems (strings) with this request, [] when the discovery document accepts it."""
        problems = []
        doc = meth.doc
        known = dict(doc.get("parameters", {}))
        known.update(meth.params)
        for name, p in meth.params.items():
            loc = p.get("location")
            if loc == "path" and name in path_values and p.get("pattern"):
                if not re.fullmatch(p["pattern"].lstrip("^").rstrip("$"), path_values[name]):
                    problems.append(f"path parameter {name}={path_values[name]!r} does not match the pattern {p['pattern']!r}")
            if loc == "query" and p.get("required") and name not in query_all:
                problems.append(f"required query parameter '{name}' is missing")
        media_continuation = meth.media and "upload_id" in query_all
        for name, values in query_all.items():
            p = known.get(name)
            if p is None:
                if media_continuation and name == "upload_id":
                    continue
                hint = difflib.get_close_matches(name, list(known), n=1)
                problems.append(f"unknown query parameter '{name}'" + (f" (did you mean '{hint[0]}'?)" if hint else ""))
                continue
            if p.get("location") == "path":
                problems.append(f"'{name}' is a path parameter, sent as a query parameter")
                continue
            if len(values) > 1 and not p.get("repeated"):
                problems.append(f"query parameter '{name}' is not repeated but was sent {len(values)} times")
            for v in values:
                problems += self._check_param(name, v, p)
        if meth.request:
            if media_continuation:
                return problems
            value = self._body_json(meth, query_all, body, content_type, problems)
            if value is not None:
                self._check_value(value, {"$ref": meth.request}, "resource", meth, problems)
        elif body and body.strip() not in (b"", b"{}", b"null"):
            if not (meth.media and "upload_id" in query_all):
                problems.append(f"{meth.id} takes no request body, but one was sent")
        return problems

    def _check_param(self, name, v, p):
        t, fmt = p.get("type"), p.get("format")
        if p.get("enum") and v not in p["enum"]:
            return [f"query parameter {name}={v!r} is not one of {p['enum']}"]
        if t == "boolean" and v not in ("true", "false"):
            return [f"query parameter {name}={v!r} is not a boolean (true/false)"]
        if t == "integer" or fmt in ("int64", "uint64", "int32", "uint32"):
            if not re.fullmatch(r"-?\d+", v):
                return [f"query parameter {name}={v!r} is not an integer"]
        if p.get("pattern") and not re.fullmatch(p["pattern"].lstrip("^").rstrip("$"), v):
            return [f"query parameter {name}={v!r} does not match the pattern {p['pattern']!r}"]
        return []

    def _body_json(self, meth, query_all, body, content_type, problems):
        upload = (query_all.get("uploadType") or [""])[0]
        ctype = (content_type or "").lower()
        if meth.media and upload == "media":
            return None  # the body is the object's bytes
        if meth.media and upload == "multipart" or ctype.startswith("multipart/"):
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + (content_type or "").encode() + b"\r\n\r\n" + body)
            parts = list(msg.iter_parts()) if msg.is_multipart() else []
            if not parts:
                problems.append("a multipart upload without parts")
                return None
            body = parts[0].get_payload(decode=True) or b""
        if not body.strip():
            return {}
        try:
            return json.loads(body)
        except ValueError as e:
            problems.append(f"the body is not JSON: {e}")
            return None

    def _check_value(self, value, schema, where, meth, problems, depth=0):
        if value is None or depth > 40:
            return  # JSON null: the field is unset (Google's JSON mapping); GCS PATCH uses it to clear a field
        schemas = meth.doc["schemas"]
        name = None
        while "$ref" in schema:
            name = schema["$ref"]
            schema = schemas[name]
        t = schema.get("type")
        if t == "object" or "properties" in schema or "additionalProperties" in schema:
            if not isinstance(value, dict):
                problems.append(f"{where}: expected an object ({name or 'object'}), got {type(value).__name__}")
                return
            props = schema.get("properties", {})
            extra = schema.get("additionalProperties")
            for k, v in value.items():
                if k in props:
                    self._check_value(v, props[k], f"{where}.{k}", meth, problems, depth + 1)
                elif extra is not None:
                    self._check_value(v, extra, f"{where}[{k!r}]", meth, problems, depth + 1)
                else:
                    hint = difflib.get_close_matches(k, list(props), n=1)
                    problems.append(f"Invalid JSON payload received. Unknown name \"{k}\" at '{where}': Cannot find field"
                                    f" ({schema.get('id', name) or 'object'} has no field '{k}'"
                                    + (f"; did you mean '{hint[0]}'?)" if hint else ")"))
            for k, p in props.items():
                if meth.id in p.get("annotations", {}).get("required", []) and value.get(k) is None:
                    problems.append(f"{where}.{k} is required by {meth.id}")
            return
        if t == "array":
            if not isinstance(value, list):
                problems.append(f"{where}: expected an array, got {type(value).__name__}")
                return
            for i, v in enumerate(value):
                self._check_value(v, schema.get("items", {}), f"{where}[{i}]", meth, problems, depth + 1)
            return
        fmt = schema.get("format")
        if t == "string":
            if not isinstance(value, str):
                extra = " (int64/uint64 travel as JSON strings)" if fmt in ("int64", "uint64") else ""
                problems.append(f"{where}: expected a string{' (format ' + fmt + ')' if fmt else ''}, got {json.dumps(value)}{extra}")
                return
            if schema.get("enum") and value not in schema["enum"]:
                problems.append(f"{where}: {value!r} is not one of {schema['enum']}")
            elif fmt in ("int64", "uint64"):
                if not re.fullmatch(r"-?\d+" if fmt == "int64" else r"\d+", value) or not (
                        -2**63 <= int(value) < 2**64):
                    problems.append(f"{where}: {value!r} is not a {fmt}")
            elif fmt == "byte":
                try:
                    base64.b64decode(value.replace("-", "+").replace("_", "/") + "=" * (-len(value) % 4), validate=True)
                except ValueError:
                    problems.append(f"{where}: {value!r} is not base64 (format byte)")
            elif fmt in ("date-time", "google-datetime"):
                try:
                    datetime.fromisoformat(value.replace("Z", "+00:00"))
                except ValueError:
                    problems.append(f"{where}: {value!r} is not an RFC 3339 timestamp")
            elif fmt == "google-duration" and not re.fullmatch(r"-?\d+(\.\d{1,9})?s", value):
                problems.append(f"{where}: {value!r} is not a duration like \"60s\" (format google-duration)")
            elif fmt == "date" and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                problems.append(f"{where}: {value!r} is not a date YYYY-MM-DD")
            return
        if t == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                problems.append(f"{where}: expected an integer ({fmt or 'integer'}), got {json.dumps(value)}")
            elif fmt == "int32" and not -2**31 <= value < 2**31 or fmt == "uint32" and not 0 <= value < 2**32:
                problems.append(f"{where}: {value} is out of range for {fmt}")
            return
        if t == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                problems.append(f"{where}: expected a number, got {json.dumps(value)}")
            return
        if t == "boolean":
            if not isinstance(value, bool):
                problems.append(f"{where}: expected a boolean, got {json.dumps(value)}")
            return
        # "any" and untyped: anything goes.


if __name__ == "__main__":
    import sys
    d = Discovery()
    print(len(d.routes), "routes from", ", ".join(d.docs))
    if len(sys.argv) > 2:
        print(d.match(sys.argv[1], sys.argv[2]))
