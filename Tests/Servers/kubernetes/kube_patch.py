"""The three non-apply patch types the API server accepts:
  application/json-patch+json             RFC 6902
  application/merge-patch+json            RFC 7386
  application/strategic-merge-patch+json  Kubernetes' strategic merge patch (lists merged by the
                                          schema's x-kubernetes-patch-merge-key, `$patch`,
                                          `$setElementOrder/…`, `$deleteFromPrimitiveList/…`, `$retainKeys`)
"""
import copy

from kube_schema import ANY


class PatchError(Exception):
    pass


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


# --- RFC 6902 --------------------------------------------------------------------------------

def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError('jsonpatch: invalid pointer "%s"' % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc, parts, op, path):
    cur = doc
    for p in parts[:-1]:
        if isinstance(cur, dict) and p in cur:
            cur = cur[p]
        elif isinstance(cur, list) and p.isdigit() and int(p) < len(cur):
            cur = cur[int(p)]
        else:
            raise PatchError("%s operation does not apply: doc is missing path: \"%s\"" % (op, path))
    return cur


def json_patch(doc, ops):
    if not isinstance(ops, list):
        raise PatchError("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(doc)
    for o in ops:
        op = o.get("op")
        path = o.get("path", "")
        parts = _pointer(path)
        if op in ("add", "replace", "test") and "value" not in o:
            raise PatchError("%s operation does not apply: missing value" % op)
        if op in ("move", "copy"):
            src = _pointer(o.get("from", ""))
            parent = _walk(doc, src, op, o.get("from"))
            key = src[-1]
            try:
                value = parent[int(key)] if isinstance(parent, list) else parent[key]
            except (KeyError, IndexError, ValueError):
                raise PatchError("%s operation does not apply: doc is missing from path: \"%s\"" % (op, o.get("from")))
            value = copy.deepcopy(value)
            if op == "move":
                if isinstance(parent, list):
                    del parent[int(key)]
                else:
                    del parent[key]
            doc = _add(doc, parts, value, op, path)
            continue
        if not parts:
            if op in ("add", "replace"):
                doc = copy.deepcopy(o["value"])
                continue
            if op == "test":
                if doc != o["value"]:
                    raise PatchError("testing value %s failed" % path)
                continue
            raise PatchError("%s operation does not apply to the whole document" % op)
        if op == "add":
            doc = _add(doc, parts, copy.deepcopy(o["value"]), op, path)
        elif op in ("remove", "replace", "test"):
            parent = _walk(doc, parts, op, path)
            key = parts[-1]
            if isinstance(parent, list):
                if not key.isdigit() or int(key) >= len(parent):
                    raise PatchError("%s operation does not apply: doc is missing key: %s" % (op, path))
                idx = int(key)
                if op == "remove":
                    del parent[idx]
                elif op == "replace":
                    parent[idx] = copy.deepcopy(o["value"])
                elif parent[idx] != o["value"]:
                    raise PatchError("testing value %s failed" % path)
            elif isinstance(parent, dict):
                if key not in parent:
                    raise PatchError("%s operation does not apply: doc is missing key: %s" % (op, path))
                if op == "remove":
                    del parent[key]
                elif op == "replace":
                    parent[key] = copy.deepcopy(o["value"])
                elif parent[key] != o["value"]:
                    raise PatchError("testing value %s failed" % path)
            else:
                raise PatchError("%s operation does not apply: doc is missing path: %s" % (op, path))
        else:
            raise PatchError('Unexpected kind: %s' % op)
    return doc


def _add(doc, parts, value, op, path):
    if not parts:
        return value
    parent = _walk(doc, parts, op, path)
    key = parts[-1]
    if isinstance(parent, list):
        if key == "-":
            parent.append(value)
        elif key.isdigit() and int(key) <= len(parent):
            parent.insert(int(key), value)
        else:
            raise PatchError("add operation does not apply: index out of bounds: %s" % path)
    elif isinstance(parent, dict):
        parent[key] = value
    else:
        raise PatchError("add operation does not apply: doc is missing path: %s" % path)
    return doc


# --- strategic merge patch ---------------------------------------------------------------------

def _strip_directives(v):
    if isinstance(v, dict):
        return {k: _strip_directives(x) for k, x in v.items()
                if not (k.startswith("$setElementOrder/") or k.startswith("$deleteFromPrimitiveList/")
                        or k in ("$patch", "$retainKeys"))}
    if isinstance(v, list):
        return [_strip_directives(x) for x in v if not (isinstance(x, dict) and x.get("$patch") in ("delete", "replace") and len(x) == 1)]
    return v


def strategic_merge(types, orig, patch, s):
    if patch is None:
        return None
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return _strip_directives({k: v for k, v in patch.items() if k != "$patch"})
    if directive == "delete":
        return None
    result = copy.deepcopy(orig) if isinstance(orig, dict) else {}
    order = {}
    for key, val in patch.items():
        if key in ("$patch",):
            continue
        if key == "$retainKeys":
            continue
        if key.startswith("$setElementOrder/"):
            order[key.split("/", 1)[1]] = val
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list):
                result[field] = [x for x in result[field] if x not in (val or [])]
            continue
        cs = types.child(s, key) if s is not ANY else ANY
        if cs is not ANY and not isinstance(cs, dict):
            cs = ANY
        if val is None:
            result.pop(key, None)
            continue
        if isinstance(val, list):
            strat, mkey = types.patch_strategy(cs)
            if "merge" in strat:
                merged = _merge_list(types, result.get(key) or [], val, types.items(cs), mkey)
                if merged is None:
                    result.pop(key, None)
                else:
                    result[key] = merged
            else:
                result[key] = _strip_directives(val)
            continue
        if isinstance(val, dict):
            if types.kind(cs) in ("struct", "map", "any") and isinstance(result.get(key), dict):
                merged = strategic_merge(types, result.get(key), val, cs)
            else:
                merged = strategic_merge(types, {}, val, cs)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
            continue
        result[key] = val
    if "$retainKeys" in patch:
        keep = set(patch["$retainKeys"] or [])
        result = {k: v for k, v in result.items() if k in keep}
    for field, wanted in order.items():
        cur = result.get(field)
        if not isinstance(cur, list):
            continue
        cs = types.child(s, field) if s is not ANY else ANY
        _, mkey = types.patch_strategy(cs if isinstance(cs, dict) else ANY)
        if mkey:
            pos = {w.get(mkey): i for i, w in enumerate(wanted or []) if isinstance(w, dict)}
            ident = lambda x: x.get(mkey) if isinstance(x, dict) else None
        else:
            pos = {repr(w): i for i, w in enumerate(wanted or [])}
            ident = repr
        first = [x for x in cur if ident(x) in pos]
        first.sort(key=lambda x: pos[ident(x)])
        rest = [x for x in cur if ident(x) not in pos]
        result[field] = first + rest
    return result


def _merge_list(types, orig, patch, item_schema, mkey):
    if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch):
        return _strip_directives([x for x in patch if not (isinstance(x, dict) and x.get("$patch") == "replace")])
    if not mkey:
        out = list(orig)
        for x in patch:
            if x not in out:
                out.append(copy.deepcopy(x))
        return out
    out = copy.deepcopy(orig)
    for item in patch:
        if not isinstance(item, dict):
            raise PatchError("unable to find api field in struct for the merge key %s" % mkey)
        if mkey not in item:
            raise PatchError("map: %s does not contain declared merge key: %s" % (_go_map(item), mkey))
        idx = next((i for i, o in enumerate(out) if isinstance(o, dict) and o.get(mkey) == item[mkey]), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                del out[idx]
            continue
        if idx is None:
            out.append(_strip_directives(item))
        else:
            out[idx] = strategic_merge(types, out[idx], item, item_schema)
    return out


def _go_map(d):
    return "map[" + " ".join("%s:%s" % (k, v) for k, v in sorted(d.items())) + "]"
