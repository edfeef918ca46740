"""A subset of the API server's defaulting (pkg/apis/*/v1/defaults.go in Kubernetes 1.30) for the kinds
the stand-in serves. Defaults matter to clients: they appear in what the server returns although no
manager applied them, so a client that diffs whole objects sees changes that are not there."""


def _set(d, key, value):
    if d.get(key) is None:
        d[key] = value


def pod_spec(spec):
    if not isinstance(spec, dict):
        return
    _set(spec, "restartPolicy", "Always")
    _set(spec, "dnsPolicy", "ClusterFirst")
    _set(spec, "schedulerName", "default-scheduler")
    _set(spec, "terminationGracePeriodSeconds", 30)
    _set(spec, "securityContext", {})
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        container(c)


def container(c):
    if not isinstance(c, dict):
        return
    _set(c, "terminationMessagePath", "/dev/termination-log")
    _set(c, "terminationMessagePolicy", "File")
    image = c.get("image") or ""
    tag = image.rsplit("/", 1)[-1]
    if "@" in tag:
        pull = "IfNotPresent"
    elif ":" not in tag or tag.endswith(":latest"):
        pull = "Always"
    else:
        pull = "IfNotPresent"
    _set(c, "imagePullPolicy", pull)
    for p in c.get("ports") or []:
        if isinstance(p, dict):
            _set(p, "protocol", "TCP")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        pr = c.get(probe)
        if isinstance(pr, dict):
            _set(pr, "timeoutSeconds", 1)
            _set(pr, "periodSeconds", 10)
            _set(pr, "successThreshold", 1)
            _set(pr, "failureThreshold", 3)
            if isinstance(pr.get("httpGet"), dict):
                _set(pr["httpGet"], "scheme", "HTTP")
    for e in c.get("env") or []:
        vf = e.get("valueFrom") if isinstance(e, dict) else None
        if isinstance(vf, dict) and isinstance(vf.get("fieldRef"), dict):
            _set(vf["fieldRef"], "apiVersion", "v1")


def template(t):
    if isinstance(t, dict):
        pod_spec(t.get("spec"))


def pvc_spec(spec):
    if isinstance(spec, dict):
        _set(spec, "volumeMode", "Filesystem")


def statefulset(o):
    spec = o.get("spec")
    if not isinstance(spec, dict):
        return
    _set(spec, "replicas", 1)
    _set(spec, "podManagementPolicy", "OrderedReady")
    _set(spec, "revisionHistoryLimit", 10)
    us = spec.setdefault("updateStrategy", {})
    _set(us, "type", "RollingUpdate")
    if us.get("type") == "RollingUpdate":
        ru = us.setdefault("rollingUpdate", {})
        _set(ru, "partition", 0)
    pr = spec.setdefault("persistentVolumeClaimRetentionPolicy", {})
    _set(pr, "whenDeleted", "Retain")
    _set(pr, "whenScaled", "Retain")
    template(spec.get("template"))
    for vct in spec.get("volumeClaimTemplates") or []:
        if isinstance(vct, dict):
            _set(vct, "apiVersion", "v1")
            _set(vct, "kind", "PersistentVolumeClaim")
            pvc_spec(vct.get("spec"))
            _set(vct, "status", {"phase": "Pending"})


def deployment(o):
    spec = o.get("spec")
    if not isinstance(spec, dict):
        return
    _set(spec, "replicas", 1)
    _set(spec, "revisionHistoryLimit", 10)
    _set(spec, "progressDeadlineSeconds", 600)
    st = spec.setdefault("strategy", {})
    _set(st, "type", "RollingUpdate")
    if st.get("type") == "RollingUpdate":
        ru = st.setdefault("rollingUpdate", {})
        _set(ru, "maxSurge", "25%")
        _set(ru, "maxUnavailable", "25%")
    template(spec.get("template"))


def job_spec(spec, uid=None, labels_from_uid=True):
    if not isinstance(spec, dict):
        return
    _set(spec, "parallelism", 1)
    _set(spec, "completions", 1)
    _set(spec, "backoffLimit", 6)
    _set(spec, "completionMode", "NonIndexed")
    _set(spec, "suspend", False)
    _set(spec, "podReplacementPolicy", "TerminatingOrFailed")
    template(spec.get("template"))


def cronjob(o):
    spec = o.get("spec")
    if not isinstance(spec, dict):
        return
    _set(spec, "concurrencyPolicy", "Allow")
    _set(spec, "suspend", False)
    _set(spec, "successfulJobsHistoryLimit", 3)
    _set(spec, "failedJobsHistoryLimit", 1)
    jt = spec.get("jobTemplate")
    if isinstance(jt, dict):
        job_spec(jt.get("spec"))


def service(o, allocate_ip):
    spec = o.get("spec")
    if not isinstance(spec, dict):
        return
    _set(spec, "type", "ClusterIP")
    _set(spec, "sessionAffinity", "None")
    if spec.get("type") != "ExternalName":
        if not spec.get("clusterIP"):
            spec["clusterIP"] = allocate_ip()
        _set(spec, "clusterIPs", [spec["clusterIP"]])
        _set(spec, "ipFamilies", ["IPv4"])
        _set(spec, "ipFamilyPolicy", "SingleStack")
        _set(spec, "internalTrafficPolicy", "Cluster")
    for p in spec.get("ports") or []:
        if isinstance(p, dict):
            _set(p, "protocol", "TCP")
            if "port" in p:
                _set(p, "targetPort", p["port"])
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        _set(spec, "externalTrafficPolicy", "Cluster")


def hpa(o):
    spec = o.get("spec")
    if isinstance(spec, dict):
        _set(spec, "minReplicas", 1)


def networkpolicy(o):
    spec = o.get("spec")
    if not isinstance(spec, dict):
        return
    if not spec.get("policyTypes"):
        types = ["Ingress"]
        if spec.get("egress"):
            types.append("Egress")
        spec["policyTypes"] = types
    for rule in (spec.get("ingress") or []) + (spec.get("egress") or []):
        for p in (rule or {}).get("ports") or []:
            if isinstance(p, dict):
                _set(p, "protocol", "TCP")


def crd(o):
    spec = o.get("spec")
    if not isinstance(spec, dict):
        return
    conv = spec.setdefault("conversion", {})
    _set(conv, "strategy", "None")


def apply_defaults(group, kind, o, allocate_ip):
    if not isinstance(o, dict):
        return o
    if group == "apps" and kind == "StatefulSet":
        statefulset(o)
    elif group == "apps" and kind == "Deployment":
        deployment(o)
    elif group == "batch" and kind == "Job":
        job_spec(o.get("spec"))
    elif group == "batch" and kind == "CronJob":
        cronjob(o)
    elif group == "" and kind == "Pod":
        pod_spec(o.get("spec"))
    elif group == "" and kind == "Service":
        service(o, allocate_ip)
    elif group == "" and kind == "PersistentVolumeClaim":
        pvc_spec(o.get("spec"))
    elif group == "" and kind == "Secret":
        _set(o, "type", "Opaque")
    elif group == "" and kind == "Namespace":
        spec = o.setdefault("spec", {})
        _set(spec, "finalizers", ["kubernetes"])
    elif group == "autoscaling" and kind == "HorizontalPodAutoscaler":
        hpa(o)
    elif group == "networking.k8s.io" and kind == "NetworkPolicy":
        networkpolicy(o)
    elif group == "apiextensions.k8s.io" and kind == "CustomResourceDefinition":
        crd(o)
    return o


def initial_status(group, kind, o):
    """The status the server's create strategy gives a new object."""
    if group == "apps" and kind == "StatefulSet":
        return {"replicas": 0, "availableReplicas": 0}
    if group == "apps" and kind == "Deployment":
        return {}
    if group == "" and kind == "Pod":
        return {"phase": "Pending", "qosClass": "BestEffort"}
    if group == "" and kind == "PersistentVolumeClaim":
        return {"phase": "Pending"}
    if group == "" and kind == "Service":
        return {"loadBalancer": {}}
    if group == "" and kind == "Namespace":
        return {"phase": "Active"}
    if group == "autoscaling" and kind == "HorizontalPodAutoscaler":
        return {"desiredReplicas": 0}
    if group == "policy" and kind == "PodDisruptionBudget":
        return {"currentHealthy": 0, "desiredHealthy": 0, "disruptionsAllowed": 0, "expectedPods": 0}
    if group == "apiextensions.k8s.io":
        return {"acceptedNames": {"kind": "", "plural": ""}, "conditions": [], "storedVersions": []}
    return None
