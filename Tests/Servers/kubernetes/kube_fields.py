"""Field sets, FieldsV1 and server-side apply, after the documented behaviour of structured-merge-diff
(https://kubernetes.io/docs/reference/using-api/server-side-apply/).

A field set is a Python set of paths; a path is a tuple of elements:
  ('f', name)        a field of a struct or a key of a map           FieldsV1 "f:name"
  ('k', '{"k":v}')   an associative-list item, by its list-map keys   FieldsV1 'k:{"name":"x"}'
  ('v', '"x"')       a set-list value                               FieldsV1 'v:"x"'
  ('i', 3)           a list index (only for lists without keys)    FieldsV1 "i:3"
"""
import copy
import json

from kube_schema import ANY

# Fields no manager ever owns (the field manager strips them).
STRIP = {
    (("f", "apiVersion"),), (("f", "kind"),), (("f", "metadata"),),
    (("f", "metadata"), ("f", "name")), (("f", "metadata"), ("f", "namespace")),
    (("f", "metadata"), ("f", "creationTimestamp")), (("f", "metadata"), ("f", "selfLink")),
    (("f", "metadata"), ("f", "uid")), (("f", "metadata"), ("f", "clusterName")),
    (("f", "metadata"), ("f", "generation")), (("f", "metadata"), ("f", "managedFields")),
    (("f", "metadata"), ("f", "resourceVersion")),
    (("f", "metadata"), ("f", "deletionTimestamp")), (("f", "metadata"), ("f", "deletionGracePeriodSeconds")),
}

# Defaults of list-map key fields that clients may omit (the published schemas' `default`).
KEY_DEFAULTS = {"protocol": "TCP"}


class FieldError(Exception):
    pass


def _cjson(v):
    return json.dumps(v, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def item_key(types, s, item, keys):
    if not isinstance(item, dict):
        raise FieldError("associative list with keys has an element that is not a map")
    kv = {}
    for k in sorted(keys):
        if k in item and item[k] is not None:
            kv[k] = item[k]
        elif k in KEY_DEFAULTS:
            kv[k] = KEY_DEFAULTS[k]
        else:
            raise FieldError('associative list with keys has an element that omits key field "%s" (and doesn\'t have default value)' % k)
    return ("k", _cjson(kv))


def list_elements(types, s, lst, strict=True):
    """[(path element, item)] of a non-atomic list."""
    lt, keys = types.list_type(s)
    out = []
    seen = set()
    for i, item in enumerate(lst):
        if lt == "map" and keys:
            pe = item_key(types, s, item, keys)
        elif lt == "set":
            pe = ("v", _cjson(item))
        else:
            pe = ("i", i)
        if pe in seen and strict:
            raise FieldError("duplicate entries for key %s" % pe_string(pe))
        seen.add(pe)
        out.append((pe, item))
    return out


def granular(types, s, value):
    k = types.kind(s)
    if k in ("struct", "map"):
        return not types.map_atomic(s)
    if k == "any":
        return isinstance(value, dict)   # deduced: maps are granular, lists atomic
    if k == "list":
        return types.list_type(s)[0] != "atomic"
    return False


def to_set(types, value, s, path=(), out=None):
    """The set of fields a value sets (structured-merge-diff's ToFieldSet)."""
    if out is None:
        out = set()
    k = types.kind(s)
    if value is None:
        out.add(path)
        return out
    if k == "list" and isinstance(value, list):
        if types.list_type(s)[0] == "atomic":
            out.add(path)
            return out
        it = types.items(s)
        for pe, item in list_elements(types, s, value):
            to_set(types, item, it, path + (pe,), out)
            out.add(path + (pe,))
        return out
    if isinstance(value, dict) and granular(types, s, value):
        for key, v in value.items():
            cs = types.child(s, key) if k != "any" else ANY
            p = path + (("f", key),)
            to_set(types, v, cs, p, out)
            if v is None or (isinstance(v, dict) and not v) or not types.is_declared_field(s, key):
                out.add(p)
        return out
    out.add(path)
    return out


def compare(types, old, new, s, path=(), added=None, modified=None, removed=None, top=True):
    """(added, modified, removed) between two values of one schema node. Newly added maps and list
    items are members themselves ('.' in FieldsV1); structs are not (Go's zero values carry them)."""
    if added is None:
        added, modified, removed = set(), set(), set()
    k = types.kind(s)
    if old is None and new is None:
        return added, modified, removed
    if old is None:
        to_set(types, new, s, path, added)
        if path and not (k == "struct" and isinstance(new, dict) and new):
            added.add(path)
        return added, modified, removed
    if new is None:
        to_set(types, old, s, path, removed)
        removed.add(path)
        return added, modified, removed
    if isinstance(old, dict) and isinstance(new, dict) and granular(types, s, new):
        for key in set(old) | set(new):
            cs = types.child(s, key) if k != "any" else ANY
            p = path + (("f", key),)
            if key not in new:
                to_set(types, old[key], cs, p, removed)
                removed.add(p)
            elif key not in old:
                compare(types, None, new[key], cs, p, added, modified, removed, False)
            else:
                compare(types, old[key], new[key], cs, p, added, modified, removed, False)
        return added, modified, removed
    if isinstance(old, list) and isinstance(new, list) and k == "list" and types.list_type(s)[0] != "atomic":
        it = types.items(s)
        try:
            oe = dict(list_elements(types, s, old, strict=False))
            ne = dict(list_elements(types, s, new, strict=False))
        except FieldError:
            if old != new:
                modified.add(path)
            return added, modified, removed
        for pe in set(oe) | set(ne):
            p = path + (pe,)
            if pe not in ne:
                to_set(types, oe[pe], it, p, removed)
                removed.add(p)
            elif pe not in oe:
                to_set(types, ne[pe], it, p, added)
                added.add(p)
            else:
                compare(types, oe[pe], ne[pe], it, p, added, modified, removed, False)
        return added, modified, removed
    if old != new or type(old) is not type(new):
        modified.add(path)
    return added, modified, removed


def merge(types, live, config, s):
    """The applied configuration merged into the live object (config wins field by field)."""
    if config is None:
        return None
    if live is None:
        return copy.deepcopy(config)
    k = types.kind(s)
    if isinstance(live, dict) and isinstance(config, dict) and granular(types, s, config):
        out = copy.deepcopy(live)
        for key, v in config.items():
            cs = types.child(s, key) if k != "any" else ANY
            if v is None:
                out.pop(key, None)
            else:
                out[key] = merge(types, live.get(key), v, cs)
        return out
    if isinstance(live, list) and isinstance(config, list) and k == "list":
        lt = types.list_type(s)[0]
        if lt == "atomic":
            return copy.deepcopy(config)
        it = types.items(s)
        le = list_elements(types, s, live, strict=False)
        ce = list_elements(types, s, config)
        live_map = dict(le)
        conf_keys = {pe for pe, _ in ce}
        out = []
        for pe, item in ce:
            out.append(merge(types, live_map.get(pe), item, it) if pe in live_map else copy.deepcopy(item))
        for pe, item in le:
            if pe not in conf_keys:
                out.append(copy.deepcopy(item))
        return out
    return copy.deepcopy(config)


def _get_container(obj, types, s, path):
    """Walks to the parent of the last element of path. Returns (container, schema, element) or None."""
    cur, cs = obj, s
    for pe in path[:-1]:
        nxt = _step(types, cur, cs, pe)
        if nxt is None:
            return None
        cur, cs = nxt
    return cur, cs, path[-1]


def _step(types, cur, s, pe):
    kind, val = pe
    if kind == "f":
        if isinstance(cur, dict) and val in cur:
            return cur[val], (types.child(s, val) if types.kind(s) != "any" else ANY)
        return None
    if isinstance(cur, list):
        try:
            for e, item in list_elements(types, s, cur, strict=False):
                if e == pe:
                    return item, types.items(s)
        except FieldError:
            return None
    return None


def remove_paths(types, obj, s, paths, keep):
    """Removes each path of `paths` from obj unless a path in `keep` lies inside it; empties left
    behind by a removal are removed too (Go's omitempty would not show them)."""
    keep_prefixes = set()
    for q in keep:
        for i in range(1, len(q) + 1):
            keep_prefixes.add(q[:i])
    for p in sorted(paths, key=len, reverse=True):
        if not p or p in keep_prefixes:
            continue
        found = _get_container(obj, types, s, p)
        if found is None:
            continue
        parent, ps, pe = found
        if pe[0] == "f" and isinstance(parent, dict):
            parent.pop(pe[1], None)
        elif isinstance(parent, list):
            try:
                idx = [i for i, (e, _) in enumerate(list_elements(types, ps, parent, strict=False)) if e == pe]
            except FieldError:
                idx = []
            for i in reversed(idx):
                del parent[i]
        # empties left behind
        for n in range(len(p) - 1, 0, -1):
            up = p[:n]
            if up in keep_prefixes:
                break
            f2 = _get_container(obj, types, s, up)
            if f2 is None:
                break
            par, pss, e2 = f2
            nxt = _step(types, par, pss, e2)
            if nxt is None or nxt[0] not in ({}, []):
                break
            if e2[0] == "f" and isinstance(par, dict):
                par.pop(e2[1], None)
            else:
                break
    return obj


# --- FieldsV1 ----------------------------------------------------------------------------------

def pe_encode(pe):
    kind, val = pe
    if kind == "f":
        return "f:" + val
    if kind == "k":
        return "k:" + val
    if kind == "v":
        return "v:" + val
    return "i:%d" % val


def pe_decode(s):
    kind, val = s[0], s[2:]
    if kind == "f":
        return ("f", val)
    if kind == "k":
        return ("k", _cjson(json.loads(val)))
    if kind == "v":
        return ("v", _cjson(json.loads(val)))
    if kind == "i":
        return ("i", int(val))
    raise FieldError("unknown path element %r" % s)


def encode(fieldset):
    trie = {}
    members = set()
    for p in fieldset:
        node = trie
        for pe in p:
            node = node.setdefault(pe_encode(pe), {})
        members.add(p)

    def render(node, prefix):
        out = {}
        if prefix in members and node:
            out["."] = {}
        for key in sorted(node):
            out[key] = render(node[key], prefix + (pe_decode(key),))
        return out
    return render(trie, ())


def decode(fields):
    out = set()

    def walk(node, prefix):
        if not node:
            out.add(prefix)
            return
        for key, child in node.items():
            if key == ".":
                out.add(prefix)
                continue
            walk(child, prefix + (pe_decode(key),))
    for key, child in (fields or {}).items():
        walk(child, (pe_decode(key),))
    return out


def pe_string(pe):
    kind, val = pe
    if kind == "f":
        return "." + val
    if kind == "k":
        kv = json.loads(val)
        return "[" + ",".join("%s=%s" % (k, json.dumps(kv[k], ensure_ascii=False)) for k in sorted(kv)) + "]"
    if kind == "v":
        return "[=%s]" % val
    return "[%d]" % val


def path_string(p):
    return "".join(pe_string(pe) for pe in p)


def strip(fieldset, only_status=False, drop_status=False):
    out = set()
    for p in fieldset:
        if p in STRIP:
            continue
        if p and p[0] == ("f", "metadata") and len(p) > 1 and (p[:2] + ()) in STRIP:
            continue
        if only_status and (not p or p[0] != ("f", "status")):
            continue
        if drop_status and p and p[0] == ("f", "status"):
            continue
        out.add(p)
    return out


# --- managers --------------------------------------------------------------------------------

class Conflict(Exception):
    def __init__(self, conflicts):
        # conflicts: list of (manager entry dict, path)
        self.conflicts = conflicts
        super().__init__(conflict_message(conflicts))


def print_manager(entry):
    s = json.dumps(entry["manager"])
    if entry.get("subresource"):
        s = '%s with subresource "%s"' % (s, entry["subresource"])
    if entry.get("operation") == "Update":
        return "%s using %s" % (s, entry.get("apiVersion", ""))
    return s


def conflict_message(conflicts):
    if len(conflicts) == 1:
        e, p = conflicts[0]
        return "Apply failed with 1 conflict: conflict with %s: %s" % (print_manager(e), path_string(p))
    by = {}
    for e, p in conflicts:
        by.setdefault(manager_id(e), (e, []))[1].append(p)
    msgs = []
    for mid in sorted(by):
        e, paths = by[mid]
        msgs.append("conflicts with %s:" % print_manager(e))
        msgs.extend("- %s" % path_string(p) for p in paths)
    return "Apply failed with %d conflicts: %s" % (len(conflicts), "\n".join(msgs))


def manager_id(e):
    """Identity of a managedFields entry (the real server's manager identifier: no time, no fields,
    and no apiVersion for appliers)."""
    d = {"manager": e.get("manager", ""), "operation": e.get("operation", "")}
    if e.get("operation") != "Apply":
        d["apiVersion"] = e.get("apiVersion", "")
    if e.get("subresource"):
        d["subresource"] = e["subresource"]
    return json.dumps(d, sort_keys=True)


def load_managers(obj):
    """[(entry-without-fields, set)] from metadata.managedFields."""
    out = []
    for e in (obj.get("metadata") or {}).get("managedFields") or []:
        if not e:
            continue
        meta = {k: v for k, v in e.items() if k not in ("fieldsV1", "fieldsType")}
        out.append((meta, decode(e.get("fieldsV1") or {})))
    return out


def store_managers(managers):
    entries = []
    for meta, fs in managers:
        if not fs:
            continue
        e = dict(meta)
        e["fieldsType"] = "FieldsV1"
        e["fieldsV1"] = encode(fs)
        entries.append(e)
    entries.sort(key=lambda e: (e.get("operation", ""), e.get("time", ""), e.get("manager", ""),
                                e.get("apiVersion", ""), e.get("subresource", "")))
    return entries


def _scope(fs, subresource):
    if subresource == "status":
        return strip(fs, only_status=True)
    return strip(fs)


def update_managers(types, s, live, new, managers, entry, now, reset_status, subresource=""):
    """An Update operation (create, PUT, merge/strategic/JSON patch, scale): the manager takes what it
    changed; removed fields leave every manager; changed fields leave the others."""
    added, modified, removed = compare(types, live or {}, new, s)
    added, modified, removed = (_scope(x, subresource) for x in (added, modified, removed))
    if reset_status and subresource != "status":
        added, modified, removed = (strip(x, drop_status=True) for x in (added, modified, removed))
    mid = manager_id(entry)
    out = []
    mine = set()
    changed = bool(added or modified or removed)
    found = None
    for meta, fs in managers:
        if manager_id(meta) == mid:
            found = meta
            mine = fs
            continue
        fs = fs - modified - removed
        out.append((meta, fs))
    mine = (mine - removed) | modified | added
    meta = dict(found or entry)
    if changed or not found:
        meta["time"] = now
    out.append((meta, mine))
    return [(m, f) for m, f in out if f]


def apply(types, s, live, config, managers, entry, now, force, reset_status, subresource=""):
    """Server-side apply. Returns (new object, managers) or raises Conflict."""
    config = copy.deepcopy(config)
    if reset_status and subresource != "status":
        config.pop("status", None)
    if subresource == "status":
        config = {k: v for k, v in config.items() if k in ("apiVersion", "kind", "metadata", "status")}
        config["metadata"] = {k: v for k, v in (config.get("metadata") or {}).items() if k in ("name", "namespace")}
    config_set = _scope(to_set(types, config, s), subresource)
    live = live or {}
    merged = merge(types, live, config, s)
    mid = manager_id(entry)
    last = set()
    found = None
    others = []
    for meta, fs in managers:
        if manager_id(meta) == mid:
            last, found = fs, meta
        else:
            others.append((meta, fs))
    owned_now = set(config_set)
    for _, fs in others:
        owned_now |= fs
    to_remove = last - owned_now
    if to_remove:
        remove_paths(types, merged, s, to_remove, owned_now)
    added, modified, removed = compare(types, live, merged, s)
    changed_fields = _scope(added | modified, subresource)
    conflicts = []
    new_others = []
    for meta, fs in others:
        c = fs & changed_fields
        if c:
            conflicts.extend((meta, p) for p in sorted(c, key=path_string))
            fs = fs - c
        new_others.append((meta, fs - removed))
    if conflicts and not force:
        raise Conflict(conflicts)
    meta = dict(found or entry)
    if merged != live or not found or last != config_set:
        meta["time"] = now
    out = [(m, f) for m, f in new_others if f]
    if config_set:
        out.append((meta, config_set))
    return merged, out
