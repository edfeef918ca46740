"""Self-tests of the local GCP servers, driven by Google's own client libraries (google-api-python-client,
built from the same discovery documents the front checks against, and google-cloud-storage) pointed at the
front. Run: scripts/gcp-servers.sh selftest   (or start the servers and set GCP_SERVERS_DIR=DIR)."""

import base64
import json
import os
import time
import uuid

import pytest

DIR = os.environ.get("GCP_SERVERS_DIR")
if not DIR or not os.path.exists(os.path.join(DIR, "servers.json")):
    pytest.exit("the GCP servers are not running: scripts/gcp-servers.sh selftest, or "
                "scripts/gcp-servers.sh start DIR and GCP_SERVERS_DIR=DIR", returncode=2)
S = json.load(open(os.path.join(DIR, "servers.json")))
# google-auth reads the metadata server's address when it is imported.
os.environ["GCE_METADATA_HOST"] = S["metadata_host"]
os.environ["GCE_METADATA_IP"] = S["metadata_host"]

import google.auth.compute_engine  # noqa: E402
import google.auth.crypt  # noqa: E402
import google.auth.jwt  # noqa: E402
import google.oauth2.credentials  # noqa: E402
import google.oauth2.service_account  # noqa: E402
import requests  # noqa: E402
from google.auth.exceptions import RefreshError  # noqa: E402
from google.auth.transport.requests import AuthorizedSession, Request  # noqa: E402
from google.cloud import storage  # noqa: E402
from google.api_core import exceptions as gexc  # noqa: E402
from googleapiclient import discovery  # noqa: E402
from googleapiclient.errors import HttpError  # noqa: E402

FRONT, PROJECT = S["front"], S["project"]
REGION, ZONE = "us-central1", "us-central1-a"
SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
C = "https://www.googleapis.com/compute/v1/projects/" + PROJECT


# ── fixtures ──────────────────────────────────────────────────────────────────

@pytest.fixture(scope="session")
def creds():
    return google.oauth2.service_account.Credentials.from_service_account_file(S["files"]["service_account_key"],
                                                                              scopes=SCOPES)


def build(api, version, creds, path):
    return discovery.build(api, version, credentials=creds, cache_discovery=False,
                           client_options={"api_endpoint": FRONT + path})


@pytest.fixture(scope="session")
def compute(creds):
    return build("compute", "v1", creds, "/compute/v1/")


@pytest.fixture(scope="session")
def dns(creds):
    return build("dns", "v1", creds, "/")


@pytest.fixture(scope="session")
def monitoring(creds):
    return build("monitoring", "v3", creds, "/")


@pytest.fixture(scope="session")
def gcs(creds):
    return storage.Client(project=PROJECT, credentials=creds, client_options={"api_endpoint": FRONT})


@pytest.fixture(scope="session")
def session(creds):
    return AuthorizedSession(creds)


@pytest.fixture(autouse=True)
def clean():
    """Fresh servers for each test; afterwards, no request a test did not mean to be wrong was rejected."""
    requests.post(FRONT + "/_front/reset?servers=true").raise_for_status()
    requests.post(FRONT + "/_standin/config", json={"opPendingSeconds": 0.03, "opRunningSeconds": 0.07, "waitSeconds": 120}).raise_for_status()
    requests.post(FRONT + "/_front/config", json={"requireToken": True}).raise_for_status()
    yield
    left = violations()
    assert left == [], f"requests rejected by the front: {json.dumps(left, indent=1)}"


def violations():
    out = requests.get(FRONT + "/_front/violations").json()["violations"]
    requests.post(FRONT + "/_front/reset").raise_for_status()
    return out


def err(e):
    assert isinstance(e, HttpError), e
    return json.loads(e.content)["error"]


def fails(call, code, reason=None):
    with pytest.raises(HttpError) as ei:
        call.execute()
    e = err(ei.value)
    assert e["code"] == code, e
    assert e["status"] and e["message"] and e["errors"][0]["domain"]
    if reason:
        assert e["errors"][0]["reason"] == reason, e
    return e


def wait(compute, op):
    """Wait for an operation where it lives (zone, region, global), as a client must."""
    for _ in range(100):
        if op["status"] == "DONE":
            break
        if "zone" in op:
            op = compute.zoneOperations().wait(project=PROJECT, zone=op["zone"].rsplit("/", 1)[1], operation=op["name"]).execute()
        elif "region" in op:
            op = compute.regionOperations().wait(project=PROJECT, region=op["region"].rsplit("/", 1)[1], operation=op["name"]).execute()
        else:
            op = compute.globalOperations().wait(project=PROJECT, operation=op["name"]).execute()
    assert op["status"] == "DONE" and "error" not in op, op
    return op


def run(compute, call):
    return wait(compute, call.execute())


def network(compute, name="net", cidr="10.42.0.0/20"):
    run(compute, compute.networks().insert(project=PROJECT, body={
        "name": name, "autoCreateSubnetworks": False, "description": "maif:stack=test maif:address=network",
        "routingConfig": {"routingMode": "REGIONAL"}, "mtu": 1460}))
    run(compute, compute.subnetworks().insert(project=PROJECT, region=REGION, body={
        "name": name + "-sub", "network": f"{C}/global/networks/{name}", "ipCidrRange": cidr,
        "description": "maif:stack=test", "privateIpGoogleAccess": True}))
    return f"{C}/global/networks/{name}", f"{C}/regions/{REGION}/subnetworks/{name}-sub"


def instance_body(name, subnet, machine="e2-standard-4", **extra):
    body = {"name": name, "machineType": f"zones/{ZONE}/machineTypes/{machine}",
            "disks": [{"boot": True, "autoDelete": True, "initializeParams": {
                "sourceImage": "projects/debian-cloud/global/images/family/debian-12",
                "diskType": f"zones/{ZONE}/diskTypes/pd-ssd", "diskSizeGb": "50"}}],
            "networkInterfaces": [{"subnetwork": subnet}],
            "labels": {"maif-stack": "test", "maif-address": "node-1"},
            "metadata": {"items": [{"key": "cluster-yaml", "value": "cluster:\n  name: maif\n"}]},
            "tags": {"items": ["maif-node"]}}
    body.update(extra)
    return body


# ── Compute Engine ────────────────────────────────────────────────────────────

def test_network_subnetwork_firewall_insert_get_delete(compute):
    net, sub = network(compute)
    got = compute.networks().get(project=PROJECT, network="net").execute()
    assert got["description"] == "maif:stack=test maif:address=network" and got["autoCreateSubnetworks"] is False
    assert got["subnetworks"] == [sub] and got["selfLink"] == net
    s = compute.subnetworks().get(project=PROJECT, region=REGION, subnetwork="net-sub").execute()
    assert (s["gatewayAddress"], s["network"], s["privateIpGoogleAccess"]) == ("10.42.0.1", net, True)
    # an overlapping range and a missing network are refused as on GCP
    fails(compute.subnetworks().insert(project=PROJECT, region=REGION, body={
        "name": "other", "network": net, "ipCidrRange": "10.42.8.0/24"}), 400, "invalid")
    fails(compute.subnetworks().insert(project=PROJECT, region=REGION, body={
        "name": "other", "network": f"{C}/global/networks/nope", "ipCidrRange": "10.50.0.0/24"}), 404, "notFound")
    run(compute, compute.subnetworks().setPrivateIpGoogleAccess(project=PROJECT, region=REGION, subnetwork="net-sub",
                                                                body={"privateIpGoogleAccess": False}))
    s2 = compute.subnetworks().get(project=PROJECT, region=REGION, subnetwork="net-sub").execute()
    assert s2["privateIpGoogleAccess"] is False and s2["fingerprint"] != s["fingerprint"]
    fails(compute.subnetworks().patch(project=PROJECT, region=REGION, subnetwork="net-sub", body={
        "ipCidrRange": "10.42.0.0/19", "fingerprint": s["fingerprint"]}), 412, "conditionNotMet")
    run(compute, compute.subnetworks().patch(project=PROJECT, region=REGION, subnetwork="net-sub", body={
        "ipCidrRange": "10.42.0.0/19", "fingerprint": s2["fingerprint"]}))  # a range only grows
    assert compute.subnetworks().get(project=PROJECT, region=REGION, subnetwork="net-sub").execute()["ipCidrRange"] == "10.42.0.0/19"

    # firewalls are gcplocal's
    fw = {"name": "allow-maif", "network": net, "direction": "INGRESS", "priority": 900,
          "allowed": [{"IPProtocol": "tcp", "ports": ["8080", "9000-9100"]}], "sourceRanges": ["10.0.0.0/8"],
          "targetTags": ["maif-node"], "description": "maif:stack=test"}
    op = run(compute, compute.firewalls().insert(project=PROJECT, body=fw))
    assert op["targetLink"] == f"{C}/global/firewalls/allow-maif"
    assert compute.globalOperations().get(project=PROJECT, operation=op["name"]).execute()["status"] == "DONE"
    assert compute.globalOperations().wait(project=PROJECT, operation=op["name"]).execute()["name"] == op["name"]
    got = compute.firewalls().get(project=PROJECT, firewall="allow-maif").execute()
    assert {k: got[k] for k in fw} == fw and got["selfLink"].startswith("https://www.googleapis.com/compute/v1/")
    fails(compute.firewalls().insert(project=PROJECT, body=fw), 409, "alreadyExists")
    fails(compute.firewalls().insert(project=PROJECT, body=dict(fw, name="x", network=f"{C}/global/networks/nope")), 404)
    # the discovery document requires the name in a firewalls.patch body (annotations.required)
    fails(compute.firewalls().patch(project=PROJECT, firewall="allow-maif", body={"sourceRanges": ["10.1.0.0/16"]}), 400)
    assert "resource.name is required by compute.firewalls.patch" in violations()[0]["problems"]
    run(compute, compute.firewalls().patch(project=PROJECT, firewall="allow-maif", body={
        "name": "allow-maif", "sourceRanges": ["10.1.0.0/16"]}))
    assert compute.firewalls().get(project=PROJECT, firewall="allow-maif").execute()["sourceRanges"] == ["10.1.0.0/16"]

    # delete in the wrong order is refused
    fails(compute.networks().delete(project=PROJECT, network="net"), 400, "resourceInUseByAnotherResource")
    run(compute, compute.subnetworks().delete(project=PROJECT, region=REGION, subnetwork="net-sub"))
    e = fails(compute.networks().delete(project=PROJECT, network="net"), 400, "resourceInUseByAnotherResource")
    assert "firewalls/allow-maif" in e["message"]
    run(compute, compute.firewalls().delete(project=PROJECT, firewall="allow-maif"))
    run(compute, compute.networks().delete(project=PROJECT, network="net"))
    fails(compute.networks().get(project=PROJECT, network="net"), 404, "notFound")
    fails(compute.firewalls().get(project=PROJECT, firewall="allow-maif"), 404)


def test_operations_go_pending_running_done(compute):
    requests.post(FRONT + "/_standin/config", json={"opPendingSeconds": 0.2, "opRunningSeconds": 0.3})
    op = compute.disks().insert(project=PROJECT, zone=ZONE, body={
        "name": "data", "sizeGb": "100", "type": f"zones/{ZONE}/diskTypes/pd-ssd", "labels": {"maif-stack": "test"}}).execute()
    assert op["status"] == "PENDING" and op["zone"].endswith("/zones/" + ZONE) and op["operationType"] == "insert"
    assert compute.disks().get(project=PROJECT, zone=ZONE, disk="data").execute()["status"] == "CREATING"
    seen = []
    while op["status"] != "DONE":
        op = compute.zoneOperations().get(project=PROJECT, zone=ZONE, operation=op["name"]).execute()
        if not seen or seen[-1] != op["status"]:
            seen.append(op["status"])
        time.sleep(0.03)
    assert seen[-2:] == ["RUNNING", "DONE"] and op["progress"] == 100 and "endTime" in op
    assert compute.disks().get(project=PROJECT, zone=ZONE, disk="data").execute()["status"] == "READY"
    # wait blocks until DONE
    op = compute.disks().delete(project=PROJECT, zone=ZONE, disk="data").execute()
    t = time.monotonic()
    op = compute.zoneOperations().wait(project=PROJECT, zone=ZONE, operation=op["name"]).execute()
    assert op["status"] == "DONE" and time.monotonic() - t > 0.3
    fails(compute.zoneOperations().get(project=PROJECT, zone=ZONE, operation="operation-nope"), 404, "notFound")
    fails(compute.disks().get(project=PROJECT, zone=ZONE, disk="data"), 404)


def test_instance_with_disks_insert_get_delete(compute):
    _, sub = network(compute)
    run(compute, compute.disks().insert(project=PROJECT, zone=ZONE, body={
        "name": "node-1-data", "sizeGb": "200", "type": f"zones/{ZONE}/diskTypes/pd-ssd"}))
    body = instance_body("node-1", sub)
    body["disks"].append({"source": f"zones/{ZONE}/disks/node-1-data", "autoDelete": False, "deviceName": "data"})
    op = compute.instances().insert(project=PROJECT, zone=ZONE, body=body).execute()
    assert compute.instances().get(project=PROJECT, zone=ZONE, instance="node-1").execute()["status"] in ("PROVISIONING", "STAGING")
    wait(compute, op)
    i = compute.instances().get(project=PROJECT, zone=ZONE, instance="node-1").execute()
    assert i["status"] == "RUNNING" and i["machineType"] == f"{C}/zones/{ZONE}/machineTypes/e2-standard-4"
    assert i["networkInterfaces"][0]["networkIP"] == "10.42.0.2" and i["networkInterfaces"][0]["network"].endswith("/networks/net")
    assert i["labels"] == {"maif-stack": "test", "maif-address": "node-1"} and i["labelFingerprint"]
    assert i["metadata"]["items"][0]["value"].startswith("cluster:") and i["metadata"]["fingerprint"]
    assert [d["source"].rsplit("/", 1)[1] for d in i["disks"]] == ["node-1", "node-1-data"]
    boot = compute.disks().get(project=PROJECT, zone=ZONE, disk="node-1").execute()
    assert boot["sizeGb"] == "50" and boot["type"].endswith("/pd-ssd") and boot["users"] == [i["selfLink"]]
    fails(compute.disks().delete(project=PROJECT, zone=ZONE, disk="node-1-data"), 400, "resourceInUseByAnotherResource")
    # what GCP refuses: a bare machine type, an unknown one, a second instance of the name
    fails(compute.instances().insert(project=PROJECT, zone=ZONE, body=instance_body("n2", sub, machineType="e2-medium")), 400)
    fails(compute.instances().insert(project=PROJECT, zone=ZONE, body=instance_body("n2", sub, "e2-huge-7")), 404, "notFound")
    fails(compute.instances().insert(project=PROJECT, zone=ZONE, body=instance_body("node-1", sub)), 409, "alreadyExists")
    # found by its owner labels, across zones
    agg = compute.instances().aggregatedList(project=PROJECT, filter='labels.maif-stack = "test"').execute()
    assert [x["name"] for x in agg["items"][f"zones/{ZONE}"]["instances"]] == ["node-1"]
    run(compute, compute.instances().delete(project=PROJECT, zone=ZONE, instance="node-1"))
    fails(compute.disks().get(project=PROJECT, zone=ZONE, disk="node-1"), 404)  # autoDelete
    assert compute.disks().get(project=PROJECT, zone=ZONE, disk="node-1-data").execute()["users"] == []
    run(compute, compute.disks().delete(project=PROJECT, zone=ZONE, disk="node-1-data"))


def test_set_labels_and_metadata_check_the_fingerprint(compute):
    _, sub = network(compute)
    run(compute, compute.instances().insert(project=PROJECT, zone=ZONE, body=instance_body("node-1", sub)))
    i = compute.instances().get(project=PROJECT, zone=ZONE, instance="node-1").execute()
    stale = i["labelFingerprint"]
    run(compute, compute.instances().setLabels(project=PROJECT, zone=ZONE, instance="node-1", body={
        "labels": {"maif-stack": "test", "maif-address": "node-1", "role": "primary"}, "labelFingerprint": stale}))
    i = compute.instances().get(project=PROJECT, zone=ZONE, instance="node-1").execute()
    assert i["labels"]["role"] == "primary" and i["labelFingerprint"] != stale
    e = fails(compute.instances().setLabels(project=PROJECT, zone=ZONE, instance="node-1", body={
        "labels": {}, "labelFingerprint": stale}), 412, "conditionNotMet")
    assert "fingerprint" in e["message"].lower()
    assert compute.instances().get(project=PROJECT, zone=ZONE, instance="node-1").execute()["labels"]["role"] == "primary"
    md = i["metadata"]
    run(compute, compute.instances().setMetadata(project=PROJECT, zone=ZONE, instance="node-1", body={
        "fingerprint": md["fingerprint"], "items": [{"key": "cluster-yaml", "value": "v2"}]}))
    fails(compute.instances().setMetadata(project=PROJECT, zone=ZONE, instance="node-1", body={
        "fingerprint": md["fingerprint"], "items": []}), 412, "conditionNotMet")
    i = compute.instances().get(project=PROJECT, zone=ZONE, instance="node-1").execute()
    assert i["metadata"]["items"] == [{"key": "cluster-yaml", "value": "v2"}]
    run(compute, compute.instances().setTags(project=PROJECT, zone=ZONE, instance="node-1", body={
        "fingerprint": i["tags"]["fingerprint"], "items": ["maif-node", "maif-primary"]}))
    assert compute.instances().get(project=PROJECT, zone=ZONE, instance="node-1").execute()["tags"]["items"] == ["maif-node", "maif-primary"]


def test_stop_set_machine_type_start(compute):
    _, sub = network(compute)
    run(compute, compute.instances().insert(project=PROJECT, zone=ZONE, body=instance_body("node-1", sub)))
    mt = {"machineType": f"zones/{ZONE}/machineTypes/c2-standard-16"}
    e = fails(compute.instances().setMachineType(project=PROJECT, zone=ZONE, instance="node-1", body=mt), 400)
    assert "STOPPED" in e["message"]
    op = compute.instances().stop(project=PROJECT, zone=ZONE, instance="node-1").execute()
    fails(compute.instances().setMachineType(project=PROJECT, zone=ZONE, instance="node-1", body=mt), 400)  # not yet stopped
    wait(compute, op)
    assert compute.instances().get(project=PROJECT, zone=ZONE, instance="node-1").execute()["status"] == "TERMINATED"
    run(compute, compute.instances().setMachineType(project=PROJECT, zone=ZONE, instance="node-1", body=mt))
    run(compute, compute.instances().start(project=PROJECT, zone=ZONE, instance="node-1"))
    i = compute.instances().get(project=PROJECT, zone=ZONE, instance="node-1").execute()
    assert i["status"] == "RUNNING" and i["machineType"].endswith("/machineTypes/c2-standard-16")


def template_and_group(compute, net, sub, size=3):
    run(compute, compute.instanceTemplates().insert(project=PROJECT, body={
        "name": "maif-tpl-1", "description": "maif:stack=test", "properties": {
            "machineType": "c2-standard-16", "labels": {"maif-stack": "test"},
            "disks": [{"boot": True, "autoDelete": True, "initializeParams": {
                "sourceImage": "projects/debian-cloud/global/images/family/debian-12", "diskType": "pd-ssd",
                "diskSizeGb": "100"}}],
            "networkInterfaces": [{"network": net, "subnetwork": sub}],
            "metadata": {"items": [{"key": "cluster-yaml", "value": "x"}]}, "tags": {"items": ["maif-node"]}}}))
    run(compute, compute.regionInstanceGroupManagers().insert(project=PROJECT, region=REGION, body={
        "name": "maif-mig", "baseInstanceName": "maif", "instanceTemplate": f"{C}/global/instanceTemplates/maif-tpl-1",
        "targetSize": size, "namedPorts": [{"name": "maif", "port": 8080}],
        "distributionPolicy": {"zones": [{"zone": f"zones/{REGION}-a"}, {"zone": f"zones/{REGION}-b"}]}}))


def test_instance_template_regional_mig_and_autoscaler(compute):
    net, sub = network(compute)
    template_and_group(compute, net, sub, size=2)
    mig = compute.regionInstanceGroupManagers().get(project=PROJECT, region=REGION, instanceGroupManager="maif-mig").execute()
    assert mig["status"]["isStable"] and mig["targetSize"] == 2
    assert mig["instanceGroup"] == f"{C}/regions/{REGION}/instanceGroups/maif-mig"
    fails(compute.regionInstanceGroupManagers().insert(project=PROJECT, region=REGION, body={
        "name": "no-size", "instanceTemplate": f"{C}/global/instanceTemplates/maif-tpl-1"}), 400)  # targetSize is required
    violations()  # (that one was the front's doing: expected)
    run(compute, compute.regionAutoscalers().insert(project=PROJECT, region=REGION, body={
        "name": "maif-as", "target": mig["selfLink"], "autoscalingPolicy": {
            "minNumReplicas": 3, "maxNumReplicas": 20, "coolDownPeriodSec": 300,
            "cpuUtilization": {"utilizationTarget": 0.7},
            "scaleInControl": {"timeWindowSec": 600, "maxScaledInReplicas": {"fixed": 1}}}}))
    a = compute.regionAutoscalers().get(project=PROJECT, region=REGION, autoscaler="maif-as").execute()
    assert a["autoscalingPolicy"]["cpuUtilization"]["utilizationTarget"] == 0.7 and a["status"] == "ACTIVE"
    mig = compute.regionInstanceGroupManagers().get(project=PROJECT, region=REGION, instanceGroupManager="maif-mig").execute()
    assert mig["status"]["autoscaler"] == a["selfLink"] and mig["targetSize"] == 3  # raised to minNumReplicas
    fails(compute.regionAutoscalers().insert(project=PROJECT, region=REGION, body={
        "name": "bad", "target": mig["selfLink"], "autoscalingPolicy": {"minNumReplicas": 5, "maxNumReplicas": 2}}), 400)
    run(compute, compute.regionAutoscalers().patch(project=PROJECT, region=REGION, autoscaler="maif-as", body={
        "autoscalingPolicy": {"maxNumReplicas": 10}}))
    a = compute.regionAutoscalers().get(project=PROJECT, region=REGION, autoscaler="maif-as").execute()
    assert a["autoscalingPolicy"]["maxNumReplicas"] == 10 and a["autoscalingPolicy"]["coolDownPeriodSec"] == 300
    # deleting in dependency order only
    fails(compute.regionInstanceGroupManagers().delete(project=PROJECT, region=REGION, instanceGroupManager="maif-mig"), 400)
    fails(compute.instanceTemplates().delete(project=PROJECT, instanceTemplate="maif-tpl-1"), 400, "resourceInUseByAnotherResource")
    run(compute, compute.regionAutoscalers().delete(project=PROJECT, region=REGION, autoscaler="maif-as"))
    run(compute, compute.regionInstanceGroupManagers().delete(project=PROJECT, region=REGION, instanceGroupManager="maif-mig"))
    run(compute, compute.instanceTemplates().delete(project=PROJECT, instanceTemplate="maif-tpl-1"))


def test_health_check_backend_service_forwarding_rule(compute):
    net, sub = network(compute)
    template_and_group(compute, net, sub)
    hc = {"name": "maif-hc", "type": "TCP", "checkIntervalSec": 10, "timeoutSec": 5, "healthyThreshold": 2,
          "unhealthyThreshold": 3, "tcpHealthCheck": {"port": 8080}}
    fails(compute.regionHealthChecks().insert(project=PROJECT, region=REGION, body=dict(hc, timeoutSec=20)), 400)
    run(compute, compute.regionHealthChecks().insert(project=PROJECT, region=REGION, body=hc))
    run(compute, compute.healthChecks().insert(project=PROJECT, body=dict(hc, name="global-hc")))
    got = compute.regionHealthChecks().get(project=PROJECT, region=REGION, healthCheck="maif-hc").execute()
    assert got["tcpHealthCheck"] == {"port": 8080, "portSpecification": "USE_FIXED_PORT", "proxyHeader": "NONE"}
    bs = {"name": "maif-bs", "loadBalancingScheme": "EXTERNAL", "protocol": "TCP",
          "healthChecks": [f"{C}/regions/{REGION}/healthChecks/maif-hc"],
          "backends": [{"group": f"{C}/regions/{REGION}/instanceGroups/maif-mig", "balancingMode": "CONNECTION"}]}
    fails(compute.regionBackendServices().insert(project=PROJECT, region=REGION, body=dict(
        bs, healthChecks=[f"{C}/global/healthChecks/global-hc"])), 400)
    run(compute, compute.regionBackendServices().insert(project=PROJECT, region=REGION, body=bs))
    run(compute, compute.forwardingRules().insert(project=PROJECT, region=REGION, body={
        "name": "maif-fr", "IPProtocol": "TCP", "ports": ["8080"], "loadBalancingScheme": "EXTERNAL",
        "backendService": f"{C}/regions/{REGION}/backendServices/maif-bs", "labels": {"maif-stack": "test"}}))
    fr = compute.forwardingRules().get(project=PROJECT, region=REGION, forwardingRule="maif-fr").execute()
    assert fr["IPAddress"] and fr["labels"] == {"maif-stack": "test"}
    run(compute, compute.forwardingRules().setLabels(project=PROJECT, region=REGION, resource="maif-fr", body={
        "labels": {"maif-stack": "test", "x": "y"}, "labelFingerprint": fr["labelFingerprint"]}))
    # a backend service update with a stale fingerprint is refused
    b = compute.regionBackendServices().get(project=PROJECT, region=REGION, backendService="maif-bs").execute()
    run(compute, compute.regionBackendServices().patch(project=PROJECT, region=REGION, backendService="maif-bs",
                                                       body={"timeoutSec": 60, "fingerprint": b["fingerprint"]}))
    fails(compute.regionBackendServices().patch(project=PROJECT, region=REGION, backendService="maif-bs",
                                                body={"timeoutSec": 90, "fingerprint": b["fingerprint"]}), 412)
    fails(compute.regionBackendServices().delete(project=PROJECT, region=REGION, backendService="maif-bs"), 400,
          "resourceInUseByAnotherResource")
    fails(compute.regionInstanceGroupManagers().delete(project=PROJECT, region=REGION, instanceGroupManager="maif-mig"), 400)
    run(compute, compute.forwardingRules().delete(project=PROJECT, region=REGION, forwardingRule="maif-fr"))
    run(compute, compute.regionBackendServices().delete(project=PROJECT, region=REGION, backendService="maif-bs"))
    run(compute, compute.regionHealthChecks().delete(project=PROJECT, region=REGION, healthCheck="maif-hc"))


def test_unmanaged_instance_group_behind_a_backend_service(compute):
    net, sub = network(compute)
    run(compute, compute.instances().insert(project=PROJECT, zone=ZONE, body=instance_body("node-1", sub)))
    run(compute, compute.instances().insert(project=PROJECT, zone=ZONE, body=instance_body("node-2", sub)))
    run(compute, compute.instanceGroups().insert(project=PROJECT, zone=ZONE, body={"name": "maif-a", "network": net}))
    g = f"{C}/zones/{ZONE}/instanceGroups/maif-a"
    i1, i2 = f"{C}/zones/{ZONE}/instances/node-1", f"{C}/zones/{ZONE}/instances/node-2"
    run(compute, compute.instanceGroups().addInstances(project=PROJECT, zone=ZONE, instanceGroup="maif-a",
                                                       body={"instances": [{"instance": i1}, {"instance": i2}]}))
    fails(compute.instanceGroups().addInstances(project=PROJECT, zone=ZONE, instanceGroup="maif-a",
                                                body={"instances": [{"instance": i1}]}), 400, "memberAlreadyExists")
    members = compute.instanceGroups().listInstances(project=PROJECT, zone=ZONE, instanceGroup="maif-a",
                                                     body={"instanceState": "ALL"}).execute()
    assert [m["instance"] for m in members["items"]] == [i1, i2]
    assert compute.instanceGroups().get(project=PROJECT, zone=ZONE, instanceGroup="maif-a").execute()["size"] == 2
    run(compute, compute.instanceGroups().removeInstances(project=PROJECT, zone=ZONE, instanceGroup="maif-a",
                                                          body={"instances": [{"instance": i2}]}))
    run(compute, compute.regionHealthChecks().insert(project=PROJECT, region=REGION, body={
        "name": "hc", "type": "TCP", "tcpHealthCheck": {"port": 8080}}))
    run(compute, compute.regionBackendServices().insert(project=PROJECT, region=REGION, body={
        "name": "bs", "loadBalancingScheme": "EXTERNAL", "protocol": "TCP", "healthChecks": [f"{C}/regions/{REGION}/healthChecks/hc"],
        "backends": [{"group": g, "balancingMode": "CONNECTION"}]}))
    fails(compute.instanceGroups().delete(project=PROJECT, zone=ZONE, instanceGroup="maif-a"), 400, "resourceInUseByAnotherResource")
    # an instance deleted leaves its group
    run(compute, compute.instances().delete(project=PROJECT, zone=ZONE, instance="node-1"))
    assert "items" not in compute.instanceGroups().listInstances(project=PROJECT, zone=ZONE, instanceGroup="maif-a",
                                                                 body={"instanceState": "ALL"}).execute()
    run(compute, compute.regionBackendServices().delete(project=PROJECT, region=REGION, backendService="bs"))
    run(compute, compute.instanceGroups().delete(project=PROJECT, zone=ZONE, instanceGroup="maif-a"))


def test_request_id_makes_a_retried_insert_create_once(compute):
    rid = str(uuid.uuid4())
    body = {"name": "net-a", "autoCreateSubnetworks": False}
    op1 = compute.networks().insert(project=PROJECT, body=body, requestId=rid).execute()
    op2 = compute.networks().insert(project=PROJECT, body=body, requestId=rid).execute()
    assert op1["name"] == op2["name"]
    wait(compute, op2)
    fails(compute.networks().insert(project=PROJECT, body=body, requestId=str(uuid.uuid4())), 409, "alreadyExists")
    assert [n["name"] for n in compute.networks().list(project=PROJECT).execute()["items"]] == ["net-a"]
    fails(compute.networks().insert(project=PROJECT, body=dict(body, name="net-b"), requestId="not-a-uuid"), 400)
    # the same for the methods gcplocal answers
    fw = {"name": "fw", "network": f"{C}/global/networks/net-a", "allowed": [{"IPProtocol": "tcp"}]}
    rid = str(uuid.uuid4())
    a = compute.firewalls().insert(project=PROJECT, body=fw, requestId=rid).execute()
    b = compute.firewalls().insert(project=PROJECT, body=fw, requestId=rid).execute()
    assert a["name"] == b["name"] and wait(compute, b)
    assert len(compute.firewalls().list(project=PROJECT).execute()["items"]) == 1


def test_list_filter_and_pages(compute):
    for n in ("a", "b", "c"):
        compute.networks().insert(project=PROJECT, body={"name": f"net-{n}", "autoCreateSubnetworks": False,
                                                         "description": f"maif:stack={n}"}).execute()
    page1 = compute.networks().list(project=PROJECT, maxResults=2).execute()
    assert len(page1["items"]) == 2 and page1["nextPageToken"]
    page2 = compute.networks().list(project=PROJECT, maxResults=2, pageToken=page1["nextPageToken"]).execute()
    assert [x["name"] for x in page2["items"]] == ["net-c"] and "nextPageToken" not in page2
    got = compute.networks().list(project=PROJECT, filter='description = "maif:stack=b"').execute()
    assert [x["name"] for x in got["items"]] == ["net-b"]
    assert "items" not in compute.networks().list(project=PROJECT, filter='name = "nope"').execute()


def test_operation_that_fails_and_injected_faults(compute):
    requests.post(FRONT + "/_standin/op-faults", json={"methodId": "compute.networks.insert", "count": 1,
                                                        "httpErrorStatusCode": 403,
                                                        "errors": [{"code": "QUOTA_EXCEEDED", "message": "Quota 'NETWORKS' exceeded."}]})
    op = compute.networks().insert(project=PROJECT, body={"name": "net-q", "autoCreateSubnetworks": False}).execute()
    op = compute.globalOperations().wait(project=PROJECT, operation=op["name"]).execute()
    assert op["status"] == "DONE" and op["error"]["errors"][0]["code"] == "QUOTA_EXCEEDED" and op["httpErrorStatusCode"] == 403
    fails(compute.networks().get(project=PROJECT, network="net-q"), 404)
    # an operation that never ends: wait answers it unfinished after waitSeconds (GCP: about 2 minutes)
    requests.post(FRONT + "/_standin/config", json={"waitSeconds": 0.3})
    requests.post(FRONT + "/_standin/op-faults", json={"methodId": "compute.networks.insert", "hang": True})
    op = compute.networks().insert(project=PROJECT, body={"name": "net-h", "autoCreateSubnetworks": False}).execute()
    op = compute.globalOperations().wait(project=PROJECT, operation=op["name"]).execute()
    assert op["status"] == "RUNNING"
    requests.post(FRONT + "/_standin/config", json={"waitSeconds": 120})
    for reason, code in (("rateLimitExceeded", 429), ("backendError", 503), ("resourceNotReady", 400)):
        requests.post(FRONT + "/_front/faults", json={"methodId": "compute.networks.list", "reason": reason, "count": 2}).raise_for_status()
        for _ in range(2):
            e = fails(compute.networks().list(project=PROJECT), code, reason)
        assert e["errors"][0]["domain"] == ("usageLimits" if reason == "rateLimitExceeded" else "global")
        compute.networks().list(project=PROJECT).execute()  # the third call goes through


# ── Cloud DNS ─────────────────────────────────────────────────────────────────

def test_dns_zone_and_geo_record_set(dns):
    zone = {"name": "maif-zone", "dnsName": "maif.example.com.", "description": "maif:stack=test",
            "labels": {"maif-stack": "test"}, "visibility": "public"}
    z = dns.managedZones().create(project=PROJECT, body=zone).execute()
    assert z["nameServers"] and z["id"] and z["kind"] == "dns#managedZone"
    fails(dns.managedZones().create(project=PROJECT, body=zone), 409, "alreadyExists")
    geo = {"name": "api.maif.example.com.", "type": "A", "ttl": 60, "routingPolicy": {"geo": {"items": [
        {"location": "us-central1", "rrdatas": ["198.51.100.1"]},
        {"location": "europe-west1", "rrdatas": ["198.51.100.2"]}]}}}
    rr = dns.resourceRecordSets().create(project=PROJECT, managedZone="maif-zone", body=geo).execute()
    assert rr["routingPolicy"]["geo"]["items"][1]["rrdatas"] == ["198.51.100.2"]
    fails(dns.resourceRecordSets().create(project=PROJECT, managedZone="maif-zone", body=geo), 409, "alreadyExists")
    fails(dns.resourceRecordSets().create(project=PROJECT, managedZone="maif-zone", body=dict(
        geo, name="x.other.com.")), 400)
    fails(dns.resourceRecordSets().create(project=PROJECT, managedZone="maif-zone", body=dict(
        geo, name="y.maif.example.com.", rrdatas=["198.51.100.9"])), 400)  # rrdatas and routingPolicy
    got = dns.resourceRecordSets().get(project=PROJECT, managedZone="maif-zone", name=geo["name"], type="A").execute()
    assert got["routingPolicy"] == rr["routingPolicy"]
    listed = dns.resourceRecordSets().list(project=PROJECT, managedZone="maif-zone").execute()["rrsets"]
    assert sorted(r["type"] for r in listed) == ["A", "NS", "SOA"]
    patched = dns.resourceRecordSets().patch(project=PROJECT, managedZone="maif-zone", name=geo["name"], type="A",
                                             body={"ttl": 30, "rrdatas": ["198.51.100.7"]}).execute()
    assert patched["ttl"] == 30 and "routingPolicy" not in patched
    change = dns.changes().create(project=PROJECT, managedZone="maif-zone", body={
        "additions": [{"name": "txt.maif.example.com.", "type": "TXT", "ttl": 300, "rrdatas": ['"maif"']}]}).execute()
    assert change["status"] == "pending"
    time.sleep(0.15)
    assert dns.changes().get(project=PROJECT, managedZone="maif-zone", changeId=change["id"]).execute()["status"] == "done"
    fails(dns.managedZones().delete(project=PROJECT, managedZone="maif-zone"), 400, "containerNotEmpty")
    for name, typ in ((geo["name"], "A"), ("txt.maif.example.com.", "TXT")):
        dns.resourceRecordSets().delete(project=PROJECT, managedZone="maif-zone", name=name, type=typ).execute()
    dns.managedZones().delete(project=PROJECT, managedZone="maif-zone").execute()
    fails(dns.managedZones().get(project=PROJECT, managedZone="maif-zone"), 404, "notFound")


# ── Cloud Monitoring ──────────────────────────────────────────────────────────

def test_alert_policy_with_notification_channel(monitoring):
    parent = f"projects/{PROJECT}"
    ch = monitoring.projects().notificationChannels().create(name=parent, body={
        "type": "email", "displayName": "on-call", "labels": {"email_address": "oncall@example.com"},
        "userLabels": {"maif-stack": "test"}}).execute()
    policy = {"displayName": "maif high cpu", "combiner": "OR", "userLabels": {"maif-stack": "test", "maif-address": "cpu"},
              "documentation": {"content": "CPU above 80% for 5 minutes", "mimeType": "text/markdown"},
              "notificationChannels": [ch["name"]],
              "conditions": [{"displayName": "cpu > 0.8", "conditionThreshold": {
                  "filter": 'metric.type="compute.googleapis.com/instance/cpu/utilization" AND resource.type="gce_instance"',
                  "comparison": "COMPARISON_GT", "thresholdValue": 0.8, "duration": "300s",
                  "aggregations": [{"alignmentPeriod": "60s", "perSeriesAligner": "ALIGN_MEAN"}],
                  "trigger": {"count": 1}}}]}
    p = monitoring.projects().alertPolicies().create(name=parent, body=policy).execute()
    assert p["name"].startswith(parent + "/alertPolicies/") and p["enabled"] is True
    assert p["conditions"][0]["name"].startswith(p["name"] + "/conditions/")
    got = monitoring.projects().alertPolicies().get(name=p["name"]).execute()
    assert got["conditions"][0]["conditionThreshold"]["duration"] == "300s"
    found = monitoring.projects().alertPolicies().list(name=parent, filter='user_labels.maif-stack = "test"').execute()
    assert [x["name"] for x in found["alertPolicies"]] == [p["name"]]
    monitoring.projects().alertPolicies().patch(name=p["name"], updateMask="enabled", body={"enabled": False}).execute()
    assert monitoring.projects().alertPolicies().get(name=p["name"]).execute()["enabled"] is False
    bad = dict(policy, conditions=[])
    fails(monitoring.projects().alertPolicies().create(name=parent, body=bad), 400)
    fails(monitoring.projects().notificationChannels().delete(name=ch["name"]), 400)
    monitoring.projects().alertPolicies().delete(name=p["name"]).execute()
    monitoring.projects().notificationChannels().delete(name=ch["name"]).execute()
    fails(monitoring.projects().alertPolicies().get(name=p["name"]), 404)


# ── Cloud Storage ─────────────────────────────────────────────────────────────

KMS = f"projects/{PROJECT}/locations/asia-southeast1/keyRings/maif/cryptoKeys/backups"


def test_bucket_settings_and_versioning_turned_off_by_the_client(gcs):
    b = gcs.bucket("maif-backups-tertiary")
    b.storage_class = "NEARLINE"
    b.versioning_enabled = True
    b.labels = {"maif-stack": "production", "maif-address": "backup-gcs"}
    b.add_lifecycle_delete_rule(age=30)
    b.add_lifecycle_set_storage_class_rule("COLDLINE", age=7)
    b.iam_configuration.uniform_bucket_level_access_enabled = True
    b.retention_period = 3600
    b.default_kms_key_name = KMS
    gcs.create_bucket(b, location="asia-southeast1")
    with pytest.raises(gexc.Conflict):
        gcs.create_bucket("maif-backups-tertiary", location="asia-southeast1")
    r = gcs.get_bucket("maif-backups-tertiary")
    assert (r.location, r.location_type, r.storage_class) == ("ASIA-SOUTHEAST1", "region", "NEARLINE")
    assert r.versioning_enabled is True and r.labels == {"maif-stack": "production", "maif-address": "backup-gcs"}
    assert r.iam_configuration.uniform_bucket_level_access_enabled is True
    assert r.retention_period == 3600 and r.default_kms_key_name == KMS
    assert [rule["action"]["type"] for rule in r.lifecycle_rules] == ["Delete", "SetStorageClass"]
    # drift: versioning turned off by a client that is not maifctl
    r.versioning_enabled = False
    r.patch()
    assert gcs.get_bucket("maif-backups-tertiary").versioning_enabled is False
    # labels patch as GCS does: a removed key goes, the others stay
    r.labels = {"maif-stack": "production"}
    r.patch()
    assert gcs.get_bucket("maif-backups-tertiary").labels == {"maif-stack": "production"}
    # a non-empty bucket cannot be deleted; objects go through /upload/storage/v1
    r.retention_period = None
    r.patch()
    assert gcs.get_bucket("maif-backups-tertiary").retention_period is None
    r.blob("backups/2026-12-01.tar").upload_from_string(b"x" * 100)
    assert [x.name for x in gcs.list_blobs("maif-backups-tertiary")] == ["backups/2026-12-01.tar"]
    with pytest.raises(gexc.Conflict):
        r.delete()
    r.blob("backups/2026-12-01.tar").delete()
    r.delete()
    with pytest.raises(gexc.NotFound):
        gcs.get_bucket("maif-backups-tertiary")


def test_bucket_metageneration_precondition(session):
    b = FRONT + "/storage/v1/b"
    assert session.post(b, params={"project": PROJECT}, json={"name": "maif-pre"}).status_code == 200
    mg = session.get(b + "/maif-pre").json()["metageneration"]
    r = session.patch(b + "/maif-pre", params={"ifMetagenerationMatch": "999"}, json={"labels": {"a": "b"}})
    assert r.status_code == 412 and r.json()["error"]["errors"][0]["reason"] == "conditionNotMet"
    r = session.patch(b + "/maif-pre", params={"ifMetagenerationMatch": mg}, json={"labels": {"a": "b"}})
    assert r.status_code == 200 and r.json()["labels"] == {"a": "b"}
    assert session.delete(b + "/maif-pre").status_code == 204
    e = session.get(b + "/maif-pre").json()["error"]
    assert e["code"] == 404 and e["errors"][0]["reason"] == "notFound"


# ── the front: what Google's discovery documents reject ───────────────────────

def test_front_rejects_what_the_discovery_document_rejects(compute, session):
    fails(compute.networks().insert(project=PROJECT, body={"name": "n", "autoCreateSubnetwork": False}), 400)
    fails(compute.firewalls().insert(project=PROJECT, body={"name": "f", "network": "global/networks/n",
                                                             "direction": "SIDEWAYS"}), 400)
    fails(compute.disks().insert(project=PROJECT, zone=ZONE, body={"name": "d", "sizeGb": 20}), 400)  # int64 is a string
    r = session.post(FRONT + "/storage/v1/b", json={"name": "no-project"})  # storage.buckets.insert needs ?project=
    assert r.status_code == 400
    r = session.get(FRONT + f"/compute/v1/projects/{PROJECT}/global/networks", params={"maxResult": "5"})
    assert r.status_code == 400
    r = session.post(FRONT + f"/compute/v1/projects/{PROJECT}/global/netwrks", json={})
    assert r.status_code == 404
    e = fails(compute.urlMaps().list(project=PROJECT), 501, "notImplemented")  # in the document, on no local server
    assert "urlMaps" in e["message"]
    got = violations()
    assert got[-1]["kind"] == "unimplemented" and got[-1]["methodId"] == "compute.urlMaps.list"
    got = got[:-1]
    problems = [p for v in got for p in v["problems"]]
    assert [v["kind"] for v in got] == ["discovery"] * 5 + ["route"]
    assert [v["methodId"] for v in got][:4] == ["compute.networks.insert", "compute.firewalls.insert",
                                                 "compute.disks.insert", "storage.buckets.insert"]
    assert any("Unknown name \"autoCreateSubnetwork\"" in p and "did you mean 'autoCreateSubnetworks'" in p for p in problems)
    assert any("'SIDEWAYS' is not one of ['EGRESS', 'INGRESS']" in p for p in problems)
    assert any("resource.sizeGb: expected a string (format int64)" in p for p in problems)
    assert any("required query parameter 'project' is missing" in p for p in problems)
    assert any("unknown query parameter 'maxResult'" in p for p in problems)
    # nothing reached a server
    assert "items" not in compute.networks().list(project=PROJECT).execute()


def test_front_counts_requests_per_method(compute):
    requests.post(FRONT + "/_front/reset")
    compute.networks().list(project=PROJECT).execute()
    compute.networks().list(project=PROJECT).execute()
    fails(compute.networks().get(project=PROJECT, network="x"), 404)
    stats = requests.get(FRONT + "/_front/stats").json()
    assert stats["byMethod"] == {"compute.networks.get": 1, "compute.networks.list": 2} and stats["total"] == 3


def test_front_requires_a_token_the_token_endpoint_issued():
    url = FRONT + f"/compute/v1/projects/{PROJECT}/global/networks"
    r = requests.get(url)
    assert r.status_code == 401 and r.json()["error"]["status"] == "UNAUTHENTICATED"
    r = requests.get(url, headers={"Authorization": "Bearer ya29.made-up"})
    assert r.status_code == 401
    assert [v["kind"] for v in violations()] == ["auth", "auth"]
    minted = requests.post(S["token"] + "/_token/mint", json={}).json()["access_token"]
    assert requests.get(url, headers={"Authorization": "Bearer " + minted}).status_code == 200


# ── the token endpoint and the metadata server ────────────────────────────────

def sa_info():
    return json.load(open(S["files"]["service_account_key"]))


def jwt(claims=None, key_file=None, **header):
    info = json.load(open(key_file or S["files"]["service_account_key"]))
    signer = google.auth.crypt.RSASigner.from_service_account_info(info)
    now = int(time.time())
    payload = {"iss": info["client_email"], "scope": SCOPES[0], "aud": info["token_uri"], "iat": now, "exp": now + 3600}
    payload.update(claims or {})
    return google.auth.jwt.encode(signer, payload, header=header or None).decode()


def exchange(assertion):
    return requests.post(S["token_uri"], data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                               "assertion": assertion})


def test_service_account_token_exchange(creds):
    c = google.oauth2.service_account.Credentials.from_service_account_file(S["files"]["service_account_key"], scopes=SCOPES)
    c.refresh(Request())
    assert c.token.startswith("ya29.") and c.expiry
    r = exchange(jwt())
    assert r.status_code == 200 and r.json()["token_type"] == "Bearer" and 0 < r.json()["expires_in"] <= 3600
    # a key the endpoint does not know (same key id, other private key): the signature fails
    bad = google.oauth2.service_account.Credentials.from_service_account_file(
        S["files"]["service_account_key_wrong_signature"], scopes=SCOPES)
    with pytest.raises(RefreshError) as ei:
        bad.refresh(Request())
    assert "invalid_grant" in str(ei.value) and "Invalid JWT Signature" in str(ei.value)
    now = int(time.time())
    for claims, error, text in (
            ({"iat": now - 7200, "exp": now - 3600}, "invalid_grant", "iat and exp"),      # expired
            ({"exp": now + 7200}, "invalid_grant", "short-lived"),                         # longer than 1 h
            ({"aud": "https://example.com/token"}, "invalid_grant", "audience"),
            ({"iss": "someone@else.iam.gserviceaccount.com"}, "invalid_grant", "account"),
            ({"scope": ""}, "invalid_scope", "scope")):
        r = exchange(jwt(claims))
        assert r.status_code == 400 and r.json()["error"] == error and text in r.json()["error_description"], (claims, r.text)
    tampered = jwt().split(".")
    tampered[1] = base64.urlsafe_b64encode(json.dumps({"iss": sa_info()["client_email"], "scope": SCOPES[0],
                                                      "aud": S["token_uri"], "iat": now, "exp": now + 60}).encode()).decode().rstrip("=")
    assert exchange(".".join(tampered)).json()["error_description"] == "Invalid JWT Signature."
    no_kid = jwt().split(".")
    no_kid[0] = base64.urlsafe_b64encode(b'{"alg":"RS256","typ":"JWT"}').decode().rstrip("=")
    assert "kid" in exchange(".".join(no_kid)).json()["error_description"]
    r = requests.post(S["token_uri"], data={"grant_type": "password"})
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"


def test_refresh_token_grant():
    # gcloud's application-default credentials name no token endpoint (Google's is implied): override it
    c = google.oauth2.credentials.Credentials.from_authorized_user_file(S["files"]["authorized_user"])
    assert c.token_uri == "https://oauth2.googleapis.com/token"
    c = c.with_token_uri(S["token_uri"])
    c.refresh(Request())
    assert c.token and requests.get(FRONT + f"/compute/v1/projects/{PROJECT}/global/networks",
                                    headers={"Authorization": "Bearer " + c.token}).status_code == 200
    info = json.load(open(S["files"]["authorized_user"]))
    r = requests.post(S["token_uri"], data={"grant_type": "refresh_token", "client_id": info["client_id"],
                                            "client_secret": info["client_secret"], "refresh_token": "1//revoked"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    r = requests.post(S["token_uri"], data={"grant_type": "refresh_token", "client_id": info["client_id"],
                                            "client_secret": "wrong", "refresh_token": info["refresh_token"]})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_metadata_server():
    base = S["metadata"] + "/computeMetadata/v1"
    assert requests.get(base + "/project/project-id").status_code == 403
    r = requests.get(base + "/project/project-id", headers={"Metadata-Flavor": "Google"})
    assert r.text == PROJECT and r.headers["Metadata-Flavor"] == "Google"
    r = requests.get(base + "/instance/service-accounts/default/token", headers={"Metadata-Flavor": "Google"})
    assert r.json()["token_type"] == "Bearer" and r.json()["expires_in"] > 0
    # google-auth's own metadata-server credentials (GCE_METADATA_HOST points them here)
    c = google.auth.compute_engine.Credentials()
    c.refresh(Request())
    assert c.service_account_email == S["service_account_email"]
    assert requests.get(FRONT + f"/compute/v1/projects/{PROJECT}/global/networks",
                        headers={"Authorization": "Bearer " + c.token}).status_code == 200


def test_gcplocal_still_differs_from_gcp_where_the_readme_says():
    """If gcplocal is fixed one day, this fails: route more to it (front.py ROUTES) and update README.md."""
    base = S["gcplocal"] + f"/compute/v1/projects/{PROJECT}/global/networks"
    body = {"name": "direct", "autoCreateSubnetworks": False, "description": "maif:stack=x"}
    assert requests.post(base, json=body).status_code == 200
    assert requests.post(base, json=body).status_code == 200          # GCP: 409 alreadyExists
    assert "description" not in requests.get(base + "/direct").json()  # GCP keeps it
    r = requests.post(base.replace("/networks", "/operations/operation-nope/wait"))
    assert r.status_code == 404                                        # no operations.wait


def test_cookbook_in_readme_with_plain_rest(session):
    """The README's cookbook, request by request, as a client without Google's libraries sends it: the root URL,
    the documented paths, the minimal bodies, operations polled where they live; then deleted in reverse order,
    leaving nothing behind."""
    P, R, Z = PROJECT, REGION, ZONE
    cx = f"{FRONT}/compute/v1/projects/{P}"
    steps = [
        (f"{cx}/global/networks", {"name": "n", "autoCreateSubnetworks": False}),
        (f"{cx}/regions/{R}/subnetworks", {"name": "s", "network": "global/networks/n", "ipCidrRange": "10.42.0.0/20"}),
        (f"{cx}/global/firewalls", {"name": "f", "network": "global/networks/n",
                                    "allowed": [{"IPProtocol": "tcp", "ports": ["8080"]}]}),
        (f"{cx}/zones/{Z}/disks", {"name": "d", "sizeGb": "100", "type": f"zones/{Z}/diskTypes/pd-ssd"}),
        (f"{cx}/zones/{Z}/instances", {"name": "i", "machineType": f"zones/{Z}/machineTypes/c2-standard-16", "disks": [
            {"boot": True, "autoDelete": True, "initializeParams": {
                "sourceImage": "projects/debian-cloud/global/images/family/debian-12",
                "diskType": f"zones/{Z}/diskTypes/pd-ssd", "diskSizeGb": "100"}}],
            "networkInterfaces": [{"subnetwork": f"regions/{R}/subnetworks/s"}]}),
        (f"{cx}/global/instanceTemplates", {"name": "t", "properties": {"machineType": "c2-standard-16", "disks": [
            {"boot": True, "autoDelete": True, "initializeParams": {
                "sourceImage": "projects/debian-cloud/global/images/family/debian-12", "diskType": "pd-ssd"}}],
            "networkInterfaces": [{"subnetwork": f"regions/{R}/subnetworks/s"}]}}),
        (f"{cx}/regions/{R}/instanceGroupManagers", {"name": "m", "instanceTemplate": "global/instanceTemplates/t", "targetSize": 3}),
        (f"{cx}/regions/{R}/autoscalers", {"name": "a", "target": f"regions/{R}/instanceGroupManagers/m", "autoscalingPolicy": {
            "minNumReplicas": 3, "maxNumReplicas": 20, "coolDownPeriodSec": 300, "cpuUtilization": {"utilizationTarget": 0.7}}}),
        (f"{cx}/regions/{R}/healthChecks", {"name": "h", "type": "TCP", "tcpHealthCheck": {"port": 8080}, "checkIntervalSec": 10,
                                            "timeoutSec": 5, "healthyThreshold": 2, "unhealthyThreshold": 3}),
        (f"{cx}/regions/{R}/backendServices", {"name": "b", "loadBalancingScheme": "EXTERNAL", "protocol": "TCP",
                                               "healthChecks": [f"regions/{R}/healthChecks/h"],
                                               "backends": [{"group": f"regions/{R}/instanceGroups/m"}]}),
        (f"{cx}/regions/{R}/forwardingRules", {"name": "f", "backendService": f"regions/{R}/backendServices/b", "ports": ["8080"]}),
    ]

    def done(op):
        where = ("zones/" + op["zone"].rsplit("/", 1)[1]) if "zone" in op else \
            ("regions/" + op["region"].rsplit("/", 1)[1]) if "region" in op else "global"
        while op["status"] != "DONE":
            r = session.post(f"{cx}/{where}/operations/{op['name']}/wait")
            assert r.status_code == 200, r.text
            op = r.json()
        assert "error" not in op, op

    for url, body in steps:
        r = session.post(url, params={"requestId": str(uuid.uuid4())}, json=body)
        assert r.status_code == 200, (url, r.text)
        done(r.json())
    r = session.post(f"{FRONT}/dns/v1/projects/{P}/managedZones", json={"name": "z", "dnsName": "maif.example.com.", "description": ""})
    assert r.status_code == 200, r.text
    r = session.post(f"{FRONT}/dns/v1/projects/{P}/managedZones/z/rrsets", json={
        "name": "api.maif.example.com.", "type": "A", "ttl": 60,
        "routingPolicy": {"geo": {"items": [{"location": "us-central1", "rrdatas": ["198.51.100.1"]}]}}})
    assert r.status_code == 200, r.text
    r = session.post(f"{FRONT}/v3/projects/{P}/notificationChannels", json={"type": "email", "labels": {"email_address": "ops@example.com"}})
    assert r.status_code == 200, r.text
    channel = r.json()["name"]
    r = session.post(f"{FRONT}/v3/projects/{P}/alertPolicies", json={"displayName": "cpu", "combiner": "OR", "conditions": [
        {"displayName": "cpu > 0.7", "conditionThreshold": {
            "filter": 'metric.type="compute.googleapis.com/instance/cpu/utilization" AND resource.type="gce_instance"',
            "comparison": "COMPARISON_GT", "thresholdValue": 0.7, "duration": "300s"}}]})
    assert r.status_code == 200, r.text
    policy = r.json()["name"]
    r = session.post(f"{FRONT}/storage/v1/b", params={"project": P}, json={"name": "maif-cookbook", "location": "ASIA-SOUTHEAST1"})
    assert r.status_code == 200 and r.json()["location"] == "ASIA-SOUTHEAST1", r.text

    # destroy, in reverse order
    assert session.delete(f"{FRONT}/storage/v1/b/maif-cookbook").status_code == 204
    assert session.delete(f"{FRONT}/v3/{policy}").status_code == 200
    assert session.delete(f"{FRONT}/v3/{channel}").status_code == 200
    assert session.delete(f"{FRONT}/dns/v1/projects/{P}/managedZones/z/rrsets/api.maif.example.com./A").status_code == 200
    assert session.delete(f"{FRONT}/dns/v1/projects/{P}/managedZones/z").status_code == 204
    for url, body in reversed(steps):
        r = session.delete(f"{url}/{body['name']}", params={"requestId": str(uuid.uuid4())})
        assert r.status_code == 200, (url, r.text)
        done(r.json())
    state = requests.get(FRONT + "/_standin/state").json()
    assert not state["compute"] and not state["dns"] and not any(state["monitoring"]["alertPolicies"].values())
    assert "items" not in session.get(f"{cx}/global/firewalls").json() or not session.get(f"{cx}/global/firewalls").json()["items"]
    assert "items" not in session.get(f"{FRONT}/storage/v1/b", params={"project": P}).json()
