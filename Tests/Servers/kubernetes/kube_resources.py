"""The resource types the stand-in serves, as Kubernetes 1.30 publishes them in discovery, and the
Status errors the API server answers with (k8s.io/apimachinery/pkg/api/errors)."""
import base64
import hashlib

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
SUB_VERBS = ["get", "patch", "update"]


class Resource:
    def __init__(self, group, version, plural, singular, kind, namespaced=True, short=(), categories=(),
                 subresources=(), verbs=None, generation=False, crd=None, scale_paths=None, columns=None):
        self.group, self.version, self.plural, self.singular, self.kind = group, version, plural, singular, kind
        self.namespaced = namespaced
        self.short = list(short)
        self.categories = list(categories)
        self.subresources = list(subresources)
        self.verbs = verbs or ALL_VERBS
        self.generation = generation
        self.crd = crd                    # the CRD object (dict) for custom resources
        self.scale_paths = scale_paths or {"spec": "spec.replicas", "status": "status.replicas", "selector": None}
        self.columns = columns or []      # additionalPrinterColumns of a CRD

    @property
    def group_version(self):
        return self.version if not self.group else "%s/%s" % (self.group, self.version)

    @property
    def qualified(self):
        """group-resource as error messages name it: "configmaps", "statefulsets.apps"."""
        return self.plural if not self.group else "%s.%s" % (self.plural, self.group)

    @property
    def qualified_kind(self):
        return self.kind if not self.group else "%s.%s" % (self.kind, self.group)

    def storage_hash(self):
        h = hashlib.sha256(("%s/%s/%s" % (self.group, self.version, self.kind)).encode()).digest()
        return base64.b64encode(h[:8]).decode()


def builtin_resources():
    R = Resource
    return [
        R("", "v1", "namespaces", "namespace", "Namespace", namespaced=False, short=["ns"],
          subresources=["status", "finalize"], verbs=["create", "delete", "get", "list", "patch", "update", "watch"]),
        R("", "v1", "configmaps", "configmap", "ConfigMap", short=["cm"]),
        R("", "v1", "secrets", "secret", "Secret"),
        R("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", short=["sa"]),
        R("", "v1", "services", "service", "Service", short=["svc"], categories=["all"], subresources=["status"]),
        R("", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", short=["pvc"],
          subresources=["status"]),
        R("", "v1", "pods", "pod", "Pod", short=["po"], categories=["all"], subresources=["status"]),
        R("", "v1", "events", "event", "Event", short=["ev"]),
        R("apps", "v1", "statefulsets", "statefulset", "StatefulSet", short=["sts"], categories=["all"],
          subresources=["status", "scale"], generation=True),
        R("apps", "v1", "deployments", "deployment", "Deployment", short=["deploy"], categories=["all"],
          subresources=["status", "scale"], generation=True),
        R("autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler",
          short=["hpa"], categories=["all"], subresources=["status"], generation=True),
        R("policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", short=["pdb"],
          subresources=["status"], generation=True),
        R("batch", "v1", "cronjobs", "cronjob", "CronJob", short=["cj"], categories=["all"], subresources=["status"],
          generation=True),
        R("batch", "v1", "jobs", "job", "Job", categories=["all"], subresources=["status"], generation=True),
        R("networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", short=["netpol"],
          generation=True),
        R("apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition",
          "CustomResourceDefinition", namespaced=False, short=["crd", "crds"], categories=["api-extensions"],
          subresources=["status"], generation=True),
        R("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "selfsubjectaccessreview",
          "SelfSubjectAccessReview", namespaced=False, verbs=["create"]),
        R("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "selfsubjectrulesreview",
          "SelfSubjectRulesReview", namespaced=False, verbs=["create"]),
        R("authentication.k8s.io", "v1", "selfsubjectreviews", "selfsubjectreview", "SelfSubjectReview",
          namespaced=False, verbs=["create"]),
    ]


VIRTUAL = {"selfsubjectaccessreviews", "selfsubjectrulesreviews", "selfsubjectreviews"}


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None, headers=None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details
        self.headers = headers or {}

    def status(self):
        s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": self.message}
        if self.reason:
            s["reason"] = self.reason
        if self.details is not None:
            s["details"] = self.details
        s["code"] = self.code
        return s


def _details(res, name=None, **extra):
    d = {}
    if name:
        d["name"] = name
    if res is not None:
        if res.group:
            d["group"] = res.group
        d["kind"] = res.plural
    d.update(extra)
    return d


def not_found(res, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (res.qualified, name), _details(res, name))


def namespace_not_found(ns):
    return ApiError(404, "NotFound", 'namespaces "%s" not found' % ns, {"name": ns, "kind": "namespaces"})


def already_exists(res, name):
    return ApiError(409, "AlreadyExists", '%s "%s" already exists' % (res.qualified, name), _details(res, name))


def conflict(res, name, why="the object has been modified; please apply your changes to the latest version and try again"):
    return ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": %s' % (res.qualified, name, why),
                    _details(res, name))


def bad_request(msg):
    return ApiError(400, "BadRequest", msg)


def invalid(res, name, errors, kind=None):
    """errors: [(field, reason, message)] → 422 Invalid, worded as field.ErrorList.ToAggregate()."""
    parts = ["%s: %s" % (f, m) if f else m for f, _, m in errors]
    agg = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    qk = kind or (res.qualified_kind if res else "")
    details = {"name": name or ""}
    if res is not None and res.group:
        details["group"] = res.group
    details["kind"] = res.kind if res else (kind or "")
    details["causes"] = [{"reason": r, "message": m, "field": f} for f, r, m in errors]
    return ApiError(422, "Invalid", '%s "%s" is invalid: %s' % (qk, name or "", agg), details)


def forbidden(res, name, user, verb, ns, subresource=""):
    resource = res.plural + ("/" + subresource if subresource else "")
    scope = 'in the namespace "%s"' % ns if ns else "at the cluster scope"
    why = 'User "%s" cannot %s resource "%s" in API group "%s" %s' % (user, verb, resource, res.group, scope)
    subject = '%s "%s"' % (res.qualified, name) if name else res.qualified
    return ApiError(403, "Forbidden", "%s is forbidden: %s" % (subject, why), _details(res, name))


def unauthorized():
    return ApiError(401, "Unauthorized", "Unauthorized")


def method_not_allowed():
    return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})


def path_not_found():
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})
