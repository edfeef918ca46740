"""Decoding of the Kubernetes protobuf request bodies kubectl's typed clients send
(Content-Type application/vnd.kubernetes.protobuf), for the few kinds those commands create:
`kubectl create configmap|secret|namespace|serviceaccount`, `kubectl auth can-i`, `kubectl auth whoami`.

The envelope is the magic b"k8s\\x00" and a runtime.Unknown {typeMeta=1 {apiVersion=1, kind=2}, raw=2,
contentEncoding=3, contentType=4}; raw holds the kind's message, whose field numbers go-to-protobuf assigns
from the Go struct tags (k8s.io/api/*/generated.proto). Only the messages listed in MESSAGES are known;
any other kind is answered with 415 so the client can say so. Responses are always JSON."""

MAGIC = b"k8s\x00"


class ProtoError(Exception):
    pass


def _varint(b, i):
    shift = result = 0
    while True:
        if i >= len(b):
            raise ProtoError("truncated varint")
        c = b[i]
        i += 1
        result |= (c & 0x7F) << shift
        if not c & 0x80:
            return result, i
        shift += 7


def fields(b):
    """[(field number, wire type, value)] of one message."""
    out, i = [], 0
    while i < len(b):
        key, i = _varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 2:
            n, i = _varint(b, i)
            v = b[i:i + n]
            i += n
        elif wt == 1:
            v = b[i:i + 8]
            i += 8
        elif wt == 5:
            v = b[i:i + 4]
            i += 4
        else:
            raise ProtoError("unsupported wire type %d" % wt)
        out.append((num, wt, v))
    return out


# message name -> {field number: (json name, type)}; type: "string", "bytes", "bool", "int",
# "map:string", "map:bytes", "[]string", "msg:NAME", "[]msg:NAME", "time"
MESSAGES = {
    "ObjectMeta": {1: ("name", "string"), 2: ("generateName", "string"), 3: ("namespace", "string"),
                   11: ("labels", "map:string"), 12: ("annotations", "map:string"),
                   13: ("ownerReferences", "[]msg:OwnerReference"), 14: ("finalizers", "[]string")},
    "OwnerReference": {1: ("kind", "string"), 3: ("name", "string"), 4: ("uid", "string"), 5: ("apiVersion", "string"),
                       6: ("controller", "bool"), 7: ("blockOwnerDeletion", "bool")},
    "ConfigMap": {1: ("metadata", "msg:ObjectMeta"), 2: ("data", "map:string"), 3: ("binaryData", "map:bytes"),
                  4: ("immutable", "bool")},
    "Secret": {1: ("metadata", "msg:ObjectMeta"), 2: ("data", "map:bytes"), 3: ("type", "string"),
               4: ("stringData", "map:string"), 5: ("immutable", "bool")},
    "Namespace": {1: ("metadata", "msg:ObjectMeta"), 2: ("spec", "msg:NamespaceSpec")},
    "NamespaceSpec": {1: ("finalizers", "[]string")},
    "ServiceAccount": {1: ("metadata", "msg:ObjectMeta"), 4: ("automountServiceAccountToken", "bool")},
    "SelfSubjectAccessReview": {1: ("metadata", "msg:ObjectMeta"), 2: ("spec", "msg:SelfSubjectAccessReviewSpec")},
    "SelfSubjectAccessReviewSpec": {1: ("resourceAttributes", "msg:ResourceAttributes"),
                                    2: ("nonResourceAttributes", "msg:NonResourceAttributes")},
    "ResourceAttributes": {1: ("namespace", "string"), 2: ("verb", "string"), 3: ("group", "string"),
                           4: ("version", "string"), 5: ("resource", "string"), 6: ("subresource", "string"),
                           7: ("name", "string")},
    "NonResourceAttributes": {1: ("path", "string"), 2: ("verb", "string")},
    "SelfSubjectRulesReview": {1: ("metadata", "msg:ObjectMeta"), 2: ("spec", "msg:SelfSubjectRulesReviewSpec")},
    "SelfSubjectRulesReviewSpec": {1: ("namespace", "string")},
    "SelfSubjectReview": {1: ("metadata", "msg:ObjectMeta")},
}


def _decode(msg, b):
    spec = MESSAGES[msg]
    out = {}
    for num, wt, v in fields(b):
        if num not in spec:
            continue
        name, typ = spec[num]
        if typ == "string":
            if v:  # Go's zero value: omitted from JSON as omitempty would
                out[name] = v.decode()
        elif typ == "bool":
            out[name] = bool(v)
        elif typ == "int":
            out[name] = v
        elif typ == "[]string":
            out.setdefault(name, []).append(v.decode())
        elif typ.startswith("map:"):
            kv = {n: val for n, _, val in fields(v)}
            key = kv.get(1, b"").decode()
            val = kv.get(2, b"")
            if typ == "map:string":
                out.setdefault(name, {})[key] = val.decode()
            else:
                import base64
                out.setdefault(name, {})[key] = base64.b64encode(val).decode()
        elif typ.startswith("msg:"):
            out[name] = _decode(typ[4:], v)
        elif typ.startswith("[]msg:"):
            out.setdefault(name, []).append(_decode(typ[6:], v))
    return out


def decode_object(body):
    """The JSON form of a protobuf-encoded object, or ProtoError."""
    if not body.startswith(MAGIC):
        raise ProtoError("the body does not start with the Kubernetes protobuf magic number")
    env = {n: v for n, _, v in fields(body[len(MAGIC):])}
    tm = {n: v.decode() for n, _, v in fields(env.get(1, b""))}
    api_version, kind = tm.get(1, ""), tm.get(2, "")
    if kind not in MESSAGES:
        raise ProtoError("the stand-in does not decode protobuf for kind %r; send application/json" % kind)
    obj = {"apiVersion": api_version, "kind": kind}
    obj.update(_decode(kind, env.get(2, b"")))
    return obj
