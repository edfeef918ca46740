"""Self-tests of the ARM stand-in: it must reject what Microsoft's specs reject, accept correct bodies
for every resource type the maifctl Azure provider uses, and answer with ARM's semantics. A real,
unmodified client (the official Azure SDK for Python) is driven against it as well.

Run: bash scripts/arm-standin.sh selftest   (starts its own server through the same script)
"""
import base64
import copy
import hashlib
import json
import os
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SCRIPT = os.path.join(ROOT, "scripts", "arm-standin.sh")
TENANT = SUB = "00000000-0000-0000-0000-000000000000"
CLIENT_ID = "11111111-1111-1111-1111-111111111111"
NET, COMPUTE, STORAGE, RES = "2024-05-01", "2024-07-01", "2023-05-01", "2022-09-01"


class Server:
    def __init__(self, d):
        self.dir = d
        self.port = int(open(os.path.join(d, "port")).read())
        self.base = f"https://127.0.0.1:{self.port}"
        self.http_base = f"http://127.0.0.1:{open(os.path.join(d, 'http-port')).read().strip()}"
        self.ca = os.path.join(d, "ca.pem")
        self.ctx = ssl.create_default_context(cafile=self.ca)
        self.secret = open(os.path.join(d, "client-secret")).read().strip()
        self._token = None

    def raw(self, method, url, body=None, headers=None, form=None):
        data = None
        headers = dict(headers or {})
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        if not url.startswith("http"):
            url = self.base + url
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, context=self.ctx if url.startswith("https") else None, timeout=10) as r:
                status, hdrs, text = r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            status, hdrs, text = e.code, dict(e.headers), e.read()
        return status, hdrs, (json.loads(text) if text else None)

    def token(self):
        if self._token is None:
            s, _, b = self.raw("POST", f"/{TENANT}/oauth2/v2.0/token", form={
                "grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": self.secret,
                "scope": "https://management.azure.com/.default"})
            assert s == 200, b
            self._token = b["access_token"]
        return self._token

    def arm(self, method, path, body=None, api=None, headers=None, query=None):
        h = {"Authorization": f"Bearer {self.token()}"}
        h.update(headers or {})
        q = dict(query or {})
        if api:
            q["api-version"] = api
        url = path + ("?" + urllib.parse.urlencode(q) if q else "")
        return self.raw(method, url, body, h)

    def control(self, method, path, body=None):
        return self.raw(method, "/_standin" + path, body)

    def wait(self, headers, use="Azure-AsyncOperation", limit=10):
        """Follows an LRO header until it is done (polls faster than Retry-After to keep tests short)."""
        url = headers[use]
        states = []
        deadline = time.time() + limit
        while time.time() < deadline:
            s, h, b = self.raw("GET", url, headers={"Authorization": f"Bearer {self.token()}"})
            if use == "Azure-AsyncOperation":
                states.append(b["status"])
                if b["status"] != "InProgress":
                    return s, h, b, states
            else:
                states.append(s)
                if s != 202:
                    return s, h, b, states
            time.sleep(0.1)
        raise AssertionError(f"LRO did not finish: {states}")


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("arm"))
    env = dict(os.environ, ARM_STANDIN_LRO_DELAY="0.3", ARM_STANDIN_RETRY_AFTER="1")
    out = subprocess.run(["bash", SCRIPT, "start", d], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr + out.stdout
    assert "stand-in" in out.stdout and "/oauth2/v2.0/token" in out.stdout
    secret = open(os.path.join(d, "client-secret")).read().strip()
    assert secret not in out.stdout + out.stderr, "the start script must not print the client secret"
    try:
        yield Server(d)
    finally:
        subprocess.run(["bash", SCRIPT, "stop", d], timeout=30)


@pytest.fixture(autouse=True)
def clean(server):
    server.control("POST", "/reset")
    server.control("POST", "/config", {"lro_delay": 0.3, "retry_after": 1, "page_size": 100})
    yield


def rg_path(rg="rg1"):
    return f"/subscriptions/{SUB}/resourceGroups/{rg}"


def net(rest, rg="rg1"):
    return f"{rg_path(rg)}/providers/Microsoft.Network/{rest}"


def compute(rest, rg="rg1"):
    return f"{rg_path(rg)}/providers/Microsoft.Compute/{rest}"


SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk0c3RhbmRpbnRlc3RrZXlmb3JtYWlmY3Rs maif@test"
IMAGE = {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2", "version": "latest"}

BODIES = {
    "rg": {"location": "eastus", "tags": {"maif-stack": "demo"}},
    "nsg": {"location": "eastus", "tags": {"maif-stack": "demo", "maif-address": "azure.nsg.maif"},
            "properties": {"securityRules": [
                {"name": "allow-maif", "properties": {
                    "protocol": "Tcp", "access": "Allow", "direction": "Inbound", "priority": 100,
                    "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*",
                    "destinationPortRange": "7700"}}]}},
    "rule": {"properties": {"protocol": "Tcp", "access": "Allow", "direction": "Inbound", "priority": 110,
                            "sourceAddressPrefix": "10.0.0.0/8", "sourcePortRange": "*",
                            "destinationAddressPrefix": "*", "destinationPortRanges": ["22", "443"]}},
    "vnet": {"location": "eastus", "properties": {"addressSpace": {"addressPrefixes": ["10.10.0.0/16"]}}},
    "subnet": {"properties": {"addressPrefix": "10.10.1.0/24",
                              "networkSecurityGroup": {"id": net("networkSecurityGroups/nsg1")}}},
    "pip": {"location": "eastus", "sku": {"name": "Standard"},
            "properties": {"publicIPAllocationMethod": "Static", "dnsSettings": {"domainNameLabel": "maif-demo-1"}}},
    "nic": {"location": "eastus", "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {
        "subnet": {"id": net("virtualNetworks/vnet1/subnets/subnet1")}, "privateIPAllocationMethod": "Dynamic",
        "publicIPAddress": {"id": net("publicIPAddresses/pip1")}}}]}},
    "vm": {"location": "eastus", "properties": {
        "hardwareProfile": {"vmSize": "Standard_D16s_v3"},
        "storageProfile": {"imageReference": IMAGE,
                           "osDisk": {"createOption": "FromImage", "managedDisk": {"storageAccountType": "Premium_LRS"},
                                      "diskSizeGB": 64},
                           "dataDisks": [{"lun": 0, "createOption": "Empty", "diskSizeGB": 256,
                                          "managedDisk": {"storageAccountType": "Premium_LRS"}}]},
        "osProfile": {"computerName": "azure-node-1", "adminUsername": "maif",
                      "linuxConfiguration": {"disablePasswordAuthentication": True, "ssh": {"publicKeys": [
                          {"path": "/home/maif/.ssh/authorized_keys", "keyData": SSH_KEY}]}}},
        "networkProfile": {"networkInterfaces": [{"id": net("networkInterfaces/nic1"), "properties": {"primary": True}}]}}},
    "lb": {"location": "eastus", "sku": {"name": "Standard"}, "properties": {
        "frontendIPConfigurations": [{"name": "fe", "properties": {"publicIPAddress": {"id": net("publicIPAddresses/pip-lb")}}}],
        "backendAddressPools": [{"name": "pool"}],
        "probes": [{"name": "health", "properties": {"protocol": "Http", "port": 7700, "requestPath": "/health",
                                                     "intervalInSeconds": 5, "numberOfProbes": 2, "probeThreshold": 2}}],
        "loadBalancingRules": [{"name": "maif", "properties": {
            "protocol": "Tcp", "frontendPort": 7700, "backendPort": 7700, "idleTimeoutInMinutes": 4,
            "enableFloatingIP": False,
            "frontendIPConfiguration": {"id": net("loadBalancers/lb1/frontendIPConfigurations/fe")},
            "backendAddressPool": {"id": net("loadBalancers/lb1/backendAddressPools/pool")},
            "probe": {"id": net("loadBalancers/lb1/probes/health")}}}]}},
    "vmss": {"location": "eastus", "sku": {"name": "Standard_D16s_v3", "tier": "Standard", "capacity": 3}, "properties": {
        "upgradePolicy": {"mode": "Manual"}, "overprovision": False,
        "virtualMachineProfile": {
            "storageProfile": {"imageReference": IMAGE, "osDisk": {
                "createOption": "FromImage", "managedDisk": {"storageAccountType": "Premium_LRS"}}},
            "osProfile": {"computerNamePrefix": "maif", "adminUsername": "maif", "linuxConfiguration": {
                "disablePasswordAuthentication": True,
                "ssh": {"publicKeys": [{"path": "/home/maif/.ssh/authorized_keys", "keyData": SSH_KEY}]}}},
            "networkProfile": {"networkInterfaceConfigurations": [{"name": "nic", "properties": {
                "primary": True, "ipConfigurations": [{"name": "ip", "properties": {
                    "subnet": {"id": net("virtualNetworks/vnet1/subnets/subnet1")},
                    "loadBalancerBackendAddressPools": [{"id": net("loadBalancers/lb1/backendAddressPools/pool")}]}}]}}]}}}},
    "autoscale": {"location": "eastus", "properties": {
        "enabled": True, "targetResourceUri": compute("virtualMachineScaleSets/vmss1"),
        "profiles": [{"name": "default", "capacity": {"minimum": "3", "maximum": "10", "default": "3"}, "rules": [
            {"metricTrigger": {"metricName": "Percentage CPU", "metricResourceUri": compute("virtualMachineScaleSets/vmss1"),
                               "timeGrain": "PT1M", "statistic": "Average", "timeWindow": "PT5M",
                               "timeAggregation": "Average", "operator": "GreaterThan", "threshold": 70},
             "scaleAction": {"direction": "Increase", "type": "ChangeCount", "value": "1", "cooldown": "PT5M"}},
            {"metricTrigger": {"metricName": "Percentage CPU", "metricResourceUri": compute("virtualMachineScaleSets/vmss1"),
                               "timeGrain": "PT1M", "statistic": "Average", "timeWindow": "PT10M",
                               "timeAggregation": "Average", "operator": "LessThan", "threshold": 30},
             "scaleAction": {"direction": "Decrease", "type": "ChangeCount", "value": "1", "cooldown": "PT10M"}}]}]}},
    "storage": {"location": "eastus", "sku": {"name": "Standard_GRS"}, "kind": "StorageV2", "properties": {
        "minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False, "supportsHttpsTrafficOnly": True,
        "encryption": {"keySource": "Microsoft.Storage", "services": {"blob": {"enabled": True}}}}},
    "blobservice": {"properties": {"isVersioningEnabled": True, "deleteRetentionPolicy": {"enabled": True, "days": 30}}},
    "container": {"properties": {"publicAccess": "None", "metadata": {"maif-stack": "demo"}}},
    "alert": {"location": "global", "properties": {
        "description": "MAIF node CPU", "severity": 2, "enabled": True,
        "scopes": [compute("virtualMachines/vm1")], "evaluationFrequency": "PT1M", "windowSize": "PT5M",
        "criteria": {"odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria", "allOf": [
            {"criterionType": "StaticThresholdCriterion", "name": "cpu", "metricName": "Percentage CPU",
             "metricNamespace": "Microsoft.Compute/virtualMachines", "operator": "GreaterThan", "threshold": 90,
             "timeAggregation": "Average"}]},
        "autoMitigate": True, "actions": []}},
    "tm": {"location": "global", "properties": {
        "profileStatus": "Enabled", "trafficRoutingMethod": "Geographic",
        "dnsConfig": {"relativeName": "maif-geo-demo", "ttl": 30},
        "monitorConfig": {"protocol": "HTTPS", "port": 443, "path": "/health", "intervalInSeconds": 30,
                          "timeoutInSeconds": 10, "toleratedNumberOfFailures": 3},
        "endpoints": [
            {"name": "aws", "type": "Microsoft.Network/trafficManagerProfiles/externalEndpoints",
             "properties": {"target": "aws.maif.example.com", "endpointStatus": "Enabled", "geoMapping": ["GEO-NA"]}},
            {"name": "azure", "type": "Microsoft.Network/trafficManagerProfiles/externalEndpoints",
             "properties": {"target": "azure.maif.example.com", "endpointStatus": "Enabled",
                            "geoMapping": ["GEO-EU", "WORLD"]}}]}},
}

PATHS = {
    "rg": (f"/subscriptions/{SUB}/resourcegroups/rg1", RES),
    "nsg": (net("networkSecurityGroups/nsg1"), NET),
    "rule": (net("networkSecurityGroups/nsg1/securityRules/allow-ssh"), NET),
    "vnet": (net("virtualNetworks/vnet1"), NET),
    "subnet": (net("virtualNetworks/vnet1/subnets/subnet1"), NET),
    "pip": (net("publicIPAddresses/pip1"), NET),
    "pip-lb": (net("publicIPAddresses/pip-lb"), NET),
    "nic": (net("networkInterfaces/nic1"), NET),
    "vm": (compute("virtualMachines/vm1"), COMPUTE),
    "lb": (net("loadBalancers/lb1"), NET),
    "vmss": (compute("virtualMachineScaleSets/vmss1"), COMPUTE),
    "autoscale": (f"/subscriptions/{SUB}/resourcegroups/rg1/providers/Microsoft.Insights/autoscalesettings/maif-scale", "2022-10-01"),
    "storage": (f"{rg_path()}/providers/Microsoft.Storage/storageAccounts/maifbackup1", STORAGE),
    "blobservice": (f"{rg_path()}/providers/Microsoft.Storage/storageAccounts/maifbackup1/blobServices/default", STORAGE),
    "container": (f"{rg_path()}/providers/Microsoft.Storage/storageAccounts/maifbackup1/blobServices/default/containers/backups", STORAGE),
    "alert": (f"{rg_path()}/providers/Microsoft.Insights/metricAlerts/maif-cpu", "2018-03-01"),
    "tm": (net("trafficmanagerprofiles/maif-geo"), "2022-04-01"),
}


def put(server, key, body=None, wait=True, expect=(200, 201, 202)):
    path, api = PATHS[key]
    body = BODIES["pip" if key == "pip-lb" else key] if body is None else body
    if key == "pip-lb":
        body = copy.deepcopy(body)
        body["properties"]["dnsSettings"]["domainNameLabel"] = "maif-lb"
    s, h, b = server.arm("PUT", path, body, api)
    assert s in expect, (key, s, b)
    if wait and "Azure-AsyncOperation" in h:
        server.wait(h)
    elif wait and s == 202 and "Location" in h:
        server.wait(h, "Location")
    return s, h, b


def build_all(server):
    for key in ["rg", "nsg", "rule", "vnet", "subnet", "pip", "pip-lb", "nic", "vm", "lb", "vmss", "autoscale",
                "storage", "blobservice", "container", "alert", "tm"]:
        put(server, key)


# ---- the spec lookup rejects what the spec rejects ------------------------------------------------

def test_unknown_api_version_is_rejected_with_the_supported_versions(server):
    put(server, "rg")
    s, _, b = server.arm("PUT", PATHS["vnet"][0], BODIES["vnet"], "2023-09-01")
    assert s == 400 and b["error"]["code"] == "InvalidApiVersionParameter"
    assert "2024-05-01" in b["error"]["message"]
    s, _, b = server.arm("GET", PATHS["vnet"][0])
    assert s == 400 and b["error"]["code"] == "MissingApiVersionParameter"


def test_misspelt_property_is_rejected_naming_its_path(server):
    put(server, "rg")
    body = copy.deepcopy(BODIES["vnet"])
    body["properties"]["adressSpace"] = body["properties"].pop("addressSpace")
    s, _, b = server.arm("PUT", PATHS["vnet"][0], body, NET)
    assert s == 400 and b["error"]["code"] == "InvalidRequestContent"
    assert [d["target"] for d in b["error"]["details"]] == ["properties.adressSpace"]
    # deep inside an allOf-inherited, discriminated type too (metric alert criteria)
    body = copy.deepcopy(BODIES["alert"])
    body["properties"]["criteria"]["allOf"][0]["treshold"] = 90
    s, _, b = server.arm("PUT", PATHS["alert"][0], body, "2018-03-01")
    assert s == 400 and "properties.criteria.allOf[0].treshold" in [d["target"] for d in b["error"]["details"]]
    s, _, _ = server.arm("GET", PATHS["vnet"][0], api=NET)
    assert s == 404


def test_wrong_enum_type_and_pattern_are_rejected(server):
    put(server, "rg")
    put(server, "storage")
    body = copy.deepcopy(BODIES["container"])
    body["properties"]["publicAccess"] = "Private"     # enum Container|Blob|None, modelAsString false
    s, _, b = server.arm("PUT", PATHS["container"][0], body, STORAGE)
    assert s == 400 and b["error"]["details"][0]["target"] == "properties.publicAccess"
    body = copy.deepcopy(BODIES["storage"])
    body["properties"]["accessTier"] = "Warm"
    s, _, b = server.arm("PUT", PATHS["storage"][0], body, STORAGE)
    assert s == 400 and "accessTier" in b["error"]["message"]
    body = copy.deepcopy(BODIES["tm"])
    body["properties"]["monitorConfig"]["port"] = "443"     # integer in the spec
    s, _, b = server.arm("PUT", PATHS["tm"][0], body, "2022-04-01")
    assert s == 400 and b["error"]["details"][0]["target"] == "properties.monitorConfig.port"
    body = copy.deepcopy(BODIES["alert"])
    body["properties"]["windowSize"] = "5 minutes"           # format: duration
    s, _, b = server.arm("PUT", PATHS["alert"][0], body, "2018-03-01")
    assert s == 400 and b["error"]["details"][0]["target"] == "properties.windowSize"
    # a path parameter's pattern: storage account names are lower-case letters and digits
    s, _, b = server.arm("PUT", f"{rg_path()}/providers/Microsoft.Storage/storageAccounts/Maif_Backup",
                         BODIES["storage"], STORAGE)
    assert s == 400 and b["error"]["code"] == "InvalidParameter" and "accountName" in b["error"]["message"]
    # x-ms-enum modelAsString: true accepts values the enum does not list, as the service does
    body = copy.deepcopy(BODIES["nsg"])
    body["properties"]["securityRules"][0]["properties"]["protocol"] = "Sctp"
    s, h, b = server.arm("PUT", PATHS["nsg"][0], body, NET)
    assert s == 201, b


def test_missing_required_property_is_rejected(server):
    put(server, "rg")
    body = copy.deepcopy(BODIES["rule"])
    del body["properties"]["protocol"]
    put(server, "nsg")
    s, _, b = server.arm("PUT", PATHS["rule"][0], body, NET)
    assert s == 400 and b["error"]["details"][0]["target"] == "properties.protocol"
    s, _, b = server.arm("PUT", PATHS["storage"][0], {"location": "eastus", "kind": "StorageV2"}, STORAGE)
    assert s == 400 and b["error"]["details"][0]["target"] == "sku"
    s, _, b = server.arm("PUT", PATHS["vnet"][0], {"properties": {}}, NET)
    assert s == 400 and b["error"]["code"] == "LocationRequired"


def test_unknown_paths_are_404(server):
    s, _, b = server.arm("GET", f"{rg_path()}/providers/Microsoft.Network/virtualNetwork/vnet1", api=NET)
    assert s == 404 and b["error"]["code"] == "InvalidResourceType"
    s, _, b = server.arm("GET", f"{rg_path()}/providers/Microsoft.Netwrk/virtualNetworks/vnet1", api=NET)
    assert s == 404 and b["error"]["code"] == "NoRegisteredProviderFound"
    s, _, b = server.arm("GET", f"/subscriptions/{uuid.uuid4()}/resourcegroups/rg1", api=RES)
    assert s == 404 and b["error"]["code"] == "SubscriptionNotFound"


def test_refs_into_spec_files_that_are_not_vendored_accept_any_value_and_say_so(server):
    put(server, "rg")
    body = copy.deepcopy(BODIES["pip"])
    body["properties"]["natGateway"] = {"id": net("natGateways/ngw"), "anything": ["goes"]}
    s, h, _ = server.arm("PUT", PATHS["pip"][0], body, NET)
    assert s == 201 and "properties.natGateway" in h["X-Standin-Unchecked"]


def test_arm_tag_rules_and_a_chunked_body(server):
    body = copy.deepcopy(BODIES["rg"])
    body["tags"] = {"maif/stack": "demo"}
    s, _, b = server.arm("PUT", PATHS["rg"][0], body, RES)
    assert s == 400 and b["error"]["code"] == "InvalidTagNameCharacters"
    import http.client
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=server.ctx, timeout=10)
    data = json.dumps(BODIES["rg"]).encode()
    conn.putrequest("PUT", PATHS["rg"][0] + "?api-version=" + RES)
    for k, v in {"Authorization": f"Bearer {server.token()}", "Content-Type": "application/json",
                 "Transfer-Encoding": "chunked"}.items():
        conn.putheader(k, v)
    conn.endheaders()
    for part in (data[:10], data[10:]):
        conn.send(b"%x\r\n%s\r\n" % (len(part), part))
    conn.send(b"0\r\n\r\n")
    r = conn.getresponse()
    assert r.status == 201 and json.loads(r.read())["tags"] == {"maif-stack": "demo"}
    # the connection is still usable (keep-alive) after a chunked request
    conn.request("GET", PATHS["rg"][0] + "?api-version=" + RES, headers={"Authorization": f"Bearer {server.token()}"})
    assert conn.getresponse().status == 200
    conn.close()


def test_content_type_and_readonly_values(server):
    s, _, b = server.arm("PUT", PATHS["rg"][0], json.dumps(BODIES["rg"]).encode(), RES,
                         headers={"Content-Type": "text/plain"})
    assert s == 415 and b["error"]["code"] == "UnsupportedMediaType"
    # read-only values a client sends back (read-modify-write) are ignored, not rejected
    s, _, rg = put(server, "rg")
    rg["properties"]["provisioningState"] = "Bogus"
    s, _, b = server.arm("PUT", PATHS["rg"][0], rg, RES)
    assert s == 200 and b["properties"]["provisioningState"] == "Succeeded"


# ---- every resource type the provider uses ---------------------------------------------------------

def test_every_resource_type_accepts_a_correct_body_and_answers_with_computed_properties(server):
    build_all(server)
    get = lambda k: server.arm("GET", PATHS[k][0], api=PATHS[k][1])
    s, _, rg = get("rg")
    assert s == 200 and rg["id"] == rg_path() and rg["type"] == "Microsoft.Resources/resourceGroups"
    s, _, vnet = get("vnet")
    assert vnet["properties"]["provisioningState"] == "Succeeded" and vnet["etag"].startswith('W/"')
    assert vnet["properties"]["resourceGuid"]
    subnet = vnet["properties"]["subnets"][0]
    assert subnet["id"] == PATHS["subnet"][0] and subnet["properties"]["ipConfigurations"] == [
        {"id": PATHS["nic"][0] + "/ipConfigurations/ipconfig1"}]
    s, _, nsg = get("nsg")
    assert {r["name"] for r in nsg["properties"]["securityRules"]} == {"allow-maif", "allow-ssh"}
    assert len(nsg["properties"]["defaultSecurityRules"]) == 6
    assert nsg["properties"]["subnets"] == [{"id": PATHS["subnet"][0]}]
    s, _, nic = get("nic")
    cfg = nic["properties"]["ipConfigurations"][0]
    assert cfg["id"] == PATHS["nic"][0] + "/ipConfigurations/ipconfig1"
    assert cfg["properties"]["privateIPAddress"].startswith("10.10.1.")
    assert nic["properties"]["virtualMachine"] == {"id": PATHS["vm"][0]}
    s, _, pip = get("pip")
    assert pip["properties"]["ipAddress"] and pip["properties"]["ipConfiguration"] == {"id": cfg["id"]}
    s, _, vm = get("vm")
    assert vm["properties"]["vmId"] and vm["properties"]["provisioningState"] == "Succeeded"
    assert vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"].startswith(
        f"{rg_path()}/providers/Microsoft.Compute/disks/vm1_OsDisk_1_")
    s, _, lb = get("lb")
    assert lb["properties"]["probes"][0]["id"] == PATHS["lb"][0] + "/probes/health"
    assert lb["properties"]["probes"][0]["properties"]["intervalInSeconds"] == 5
    s, _, vmss = get("vmss")
    assert vmss["properties"]["uniqueId"] and vmss["sku"]["capacity"] == 3
    s, _, scale = get("autoscale")
    assert scale["type"] == "Microsoft.Insights/autoscaleSettings"
    assert scale["properties"]["profiles"][0]["rules"][0]["scaleAction"]["cooldown"] == "PT5M"
    s, _, st = get("storage")
    assert st["properties"]["primaryEndpoints"]["blob"] == "https://maifbackup1.blob.core.windows.net/"
    s, _, bs = get("blobservice")
    assert bs["properties"]["isVersioningEnabled"] is True
    s, _, c = get("container")
    assert c["type"] == "Microsoft.Storage/storageAccounts/blobServices/containers" and c["etag"]
    s, _, alert = get("alert")
    assert alert["location"] == "global" and alert["properties"]["criteria"]["allOf"][0]["threshold"] == 90
    s, _, tm = get("tm")
    assert tm["properties"]["dnsConfig"]["fqdn"] == "maif-geo-demo.trafficmanager.net"
    assert tm["properties"]["endpoints"][0]["id"] == PATHS["tm"][0] + "/externalEndpoints/aws"
    s, _, keys = server.arm("POST", PATHS["storage"][0] + "/listKeys", api=STORAGE)
    assert s == 200 and [k["keyName"] for k in keys["keys"]] == ["key1", "key2"]
    # an x-ms-secret property is accepted, never stored, never returned
    body = copy.deepcopy(BODIES["vmss"])
    body["properties"]["virtualMachineProfile"]["osProfile"]["adminPassword"] = "Sup3r-secret-passw0rd"
    put(server, "vmss", body)
    s, _, vmss = get("vmss")
    assert s == 200 and "Sup3r-secret" not in json.dumps(vmss) and "adminPassword" not in json.dumps(vmss)
    s, _, everything = server.control("GET", "/resources")
    assert "Sup3r-secret" not in json.dumps(everything)
    # a Traffic Manager endpoint as a child resource of the profile
    s, _, ep = server.arm("PUT", PATHS["tm"][0] + "/ExternalEndpoints/gcp",
                          {"properties": {"target": "gcp.maif.example.com", "geoMapping": ["GEO-AS"]}}, "2022-04-01")
    assert s == 201 and ep["type"] == "Microsoft.Network/trafficManagerProfiles/externalEndpoints"
    s, _, b = server.arm("PUT", PATHS["tm"][0] + "/ExternalEndpoints/dup",
                         {"properties": {"target": "dup.maif.example.com", "geoMapping": ["GEO-AS"]}}, "2022-04-01")
    assert s == 400 and "GEO-AS" in b["error"]["message"]
    s, _, b = server.arm("PUT", PATHS["tm"][0] + "/FooEndpoints/x", {"properties": {"target": "x"}}, "2022-04-01")
    assert s == 400 and b["error"]["code"] == "InvalidParameter" and "endpointType" in b["error"]["message"]


def test_put_is_idempotent_create_or_update(server):
    s, _, _ = put(server, "rg")
    assert s == 201
    s, _, b = put(server, "rg")
    assert s == 200 and b["tags"] == {"maif-stack": "demo"}
    s, h, b = put(server, "nsg")
    assert s == 201
    s, h, b = put(server, "nsg")
    assert s == 200
    body = copy.deepcopy(BODIES["rg"])
    body["location"] = "westeurope"
    s, _, b = server.arm("PUT", PATHS["rg"][0], body, RES)
    assert s == 409 and b["error"]["code"] == "InvalidResourceGroupLocation"


def test_references_are_checked(server):
    put(server, "rg")
    put(server, "vnet")
    s, _, b = server.arm("PUT", PATHS["nic"][0], BODIES["nic"], NET)
    assert s == 400 and b["error"]["code"] == "InvalidResourceReference" and "subnet1" in b["error"]["message"]
    s, _, b = server.arm("PUT", PATHS["vm"][0], BODIES["vm"], COMPUTE)
    assert s == 400 and b["error"]["code"] == "InvalidResourceReference" and "nic1" in b["error"]["message"]
    s, _, b = server.arm("PUT", net("virtualNetworks/nope/subnets/s"), BODIES["subnet"], NET)
    assert s == 404 and b["error"]["code"] == "ParentResourceNotFound"
    s, _, b = server.arm("PUT", net("virtualNetworks/v", rg="no-such-rg"), BODIES["vnet"], NET)
    assert s == 404 and b["error"]["code"] == "ResourceGroupNotFound"


# ---- long-running operations -----------------------------------------------------------------------

def test_lro_through_azure_asyncoperation(server):
    put(server, "rg")
    s, h, b = server.arm("PUT", PATHS["vnet"][0], BODIES["vnet"], NET)
    assert s == 201 and "Azure-AsyncOperation" in h and h["Retry-After"] == "1"
    assert b["properties"]["provisioningState"] == "Creating"
    s, _, doc = server.raw("GET", h["Azure-AsyncOperation"], headers={"Authorization": f"Bearer {server.token()}"})
    assert s == 200 and doc["status"] == "InProgress"
    _, _, doc, states = server.wait(h)
    assert doc["status"] == "Succeeded" and states[0] == "InProgress"
    s, _, b = server.arm("GET", PATHS["vnet"][0], api=NET)
    assert b["properties"]["provisioningState"] == "Succeeded"
    # an update goes through Updating
    s, h, b = server.arm("PUT", PATHS["vnet"][0], BODIES["vnet"], NET)
    assert s == 200 and b["properties"]["provisioningState"] == "Updating"
    server.wait(h)


def test_lro_through_location(server):
    put(server, "rg")
    s, h, b = server.arm("PUT", PATHS["storage"][0], BODIES["storage"], STORAGE)
    assert s == 202 and b is None and "Location" in h and "Azure-AsyncOperation" not in h and "Retry-After" in h
    s, _, b, states = server.wait(h, "Location")
    assert states[0] == 202 and s == 200 and b["name"] == "maifbackup1"
    # deleting a resource group: 202 + Location, then 404 ResourceGroupNotFound
    s, h, _ = server.arm("DELETE", PATHS["rg"][0], api=RES)
    assert s == 202 and "Location" in h and "Azure-AsyncOperation" not in h
    s, _, _, _ = server.wait(h, "Location")
    assert s == 204
    s, _, b = server.arm("GET", PATHS["rg"][0], api=RES)
    assert s == 404 and b["error"]["code"] == "ResourceGroupNotFound"
    s, _, b = server.arm("GET", PATHS["storage"][0], api=STORAGE)
    assert s == 404 and b["error"]["code"] == "ResourceGroupNotFound"


def test_delete_then_404_and_deletes_per_spec(server):
    put(server, "rg")
    put(server, "nsg")
    s, h, _ = server.arm("DELETE", PATHS["nsg"][0], api=NET)
    assert s == 202 and "Location" in h and "Azure-AsyncOperation" in h
    server.wait(h)
    s, _, b = server.arm("GET", PATHS["nsg"][0], api=NET)
    assert s == 404 and b["error"]["code"] == "ResourceNotFound"
    s, _, _ = server.arm("DELETE", PATHS["nsg"][0], api=NET)
    assert s == 204
    put(server, "storage")
    put(server, "container")
    s, _, _ = server.arm("DELETE", PATHS["container"][0], api=STORAGE)
    assert s == 200
    s, _, _ = server.arm("DELETE", PATHS["container"][0], api=STORAGE)
    assert s == 204


def test_conflicts(server):
    put(server, "rg")
    s, h, _ = server.arm("PUT", PATHS["vnet"][0], BODIES["vnet"], NET)
    assert s == 201
    s, _, b = server.arm("PUT", PATHS["vnet"][0], BODIES["vnet"], NET)
    assert s == 409 and b["error"]["code"] == "AnotherOperationInProgress"
    server.wait(h)
    put(server, "nsg")
    put(server, "subnet")
    put(server, "pip")
    put(server, "nic")
    s, _, b = server.arm("DELETE", PATHS["subnet"][0], api=NET)
    assert s == 400 and b["error"]["code"] == "InUseSubnetCannotBeDeleted"
    s, _, b = server.arm("DELETE", PATHS["vnet"][0], api=NET)
    assert s == 400 and b["error"]["code"] == "InUseSubnetCannotBeDeleted"
    # a PUT of the virtual network without its subnets would delete the subnet in use
    s, _, b = server.arm("PUT", PATHS["vnet"][0], BODIES["vnet"], NET)
    assert s == 400 and b["error"]["code"] == "InUseSubnetCannotBeDeleted"
    s, _, b = server.arm("DELETE", PATHS["nsg"][0], api=NET)
    assert s == 400 and b["error"]["code"] == "InUseNetworkSecurityGroupCannotBeDeleted"
    put(server, "vm")
    s, _, b = server.arm("DELETE", PATHS["nic"][0], api=NET)
    assert s == 400 and b["error"]["code"] == "NicInUse"


def test_vm_actions_and_resize_rule(server):
    for k in ["rg", "nsg", "vnet", "subnet", "pip", "nic", "vm"]:
        put(server, k)
    body = copy.deepcopy(BODIES["vm"])
    body["properties"]["hardwareProfile"]["vmSize"] = "Standard_E8s_v3"
    s, _, b = server.arm("PUT", PATHS["vm"][0], body, COMPUTE)
    assert s == 409 and b["error"]["code"] == "OperationNotAllowed"
    s, h, _ = server.arm("POST", PATHS["vm"][0] + "/deallocate", api=COMPUTE)
    assert s == 202 and "Azure-AsyncOperation" in h and "Location" in h
    server.wait(h, "Location")
    s, _, iv = server.arm("GET", PATHS["vm"][0] + "/instanceView", api=COMPUTE)
    assert "PowerState/deallocated" in [x["code"] for x in iv["statuses"]]
    s, h, b = server.arm("PUT", PATHS["vm"][0], body, COMPUTE)
    assert s == 200
    server.wait(h)
    s, h, _ = server.arm("POST", PATHS["vm"][0] + "/start", api=COMPUTE)
    server.wait(h)
    s, _, vm = server.arm("GET", PATHS["vm"][0], api=COMPUTE, query={"$expand": "instanceView"})
    assert vm["properties"]["hardwareProfile"]["vmSize"] == "Standard_E8s_v3"
    assert "PowerState/running" in [x["code"] for x in vm["properties"]["instanceView"]["statuses"]]
    for action in ("powerOff", "restart"):
        s, h, _ = server.arm("POST", PATHS["vm"][0] + "/" + action, api=COMPUTE)
        assert s == 202
        server.wait(h)


def test_list_patch_and_filter(server):
    put(server, "rg")
    for i in range(5):
        s, h, _ = server.arm("PUT", net(f"networkSecurityGroups/nsg{i}"), {"location": "eastus", "tags": {"i": str(i)}}, NET)
        assert s == 201
    server.control("POST", "/config", {"page_size": 2})
    names, url = [], f"{rg_path()}/providers/Microsoft.Network/networkSecurityGroups?api-version={NET}"
    while url:
        s, _, b = server.raw("GET", url, headers={"Authorization": f"Bearer {server.token()}"})
        assert s == 200
        names += [x["name"] for x in b["value"]]
        url = b.get("nextLink")
    assert names == [f"nsg{i}" for i in range(5)]
    time.sleep(0.35)
    s, _, b = server.arm("PATCH", net("networkSecurityGroups/nsg3"), {"tags": {"maif-stack": "demo"}}, NET)
    assert s == 200 and b["tags"] == {"maif-stack": "demo"}
    server.control("POST", "/config", {"page_size": 100})
    s, _, b = server.arm("GET", f"/subscriptions/{SUB}/resources", api=RES,
                         query={"$filter": "tagName eq 'maif-stack' and tagValue eq 'demo'"})
    assert [x["name"] for x in b["value"]] == ["nsg3"]
    # a resource group's own list (Resources_ListByResourceGroup) holds what is in it, and only that
    s, _, b = server.arm("GET", rg_path() + "/resources", api=RES)
    assert s == 200 and sorted(x["name"] for x in b["value"]) == [f"nsg{i}" for i in range(5)]
    s, _, b = server.arm("GET", rg_path("rg-other") + "/resources", api=RES)
    assert s == 404 and b["error"]["code"] == "ResourceGroupNotFound"


# ---- fault injection --------------------------------------------------------------------------------

def test_injected_429_with_retry_after_then_recovery(server):
    s, _, f = server.control("POST", "/faults", {"method": "PUT", "path": "/resourcegroups/", "count": 2,
                                                 "status": 429, "retry_after": 3})
    assert s == 201
    for _ in range(2):
        s, h, b = server.arm("PUT", PATHS["rg"][0], BODIES["rg"], RES)
        assert s == 429 and h["Retry-After"] == "3" and b["error"]["code"] == "TooManyRequests"
    s, _, _ = server.arm("PUT", PATHS["rg"][0], BODIES["rg"], RES)
    assert s == 201
    s, _, log = server.control("GET", "/requests")
    assert log["counts"]["by_status"]["429"] == 2
    assert log["counts"]["by_operation"]["ResourceGroups_CreateOrUpdate"] == 1
    server.control("POST", "/faults", {"method": "GET", "path": "nsg", "status": 503})
    s, _, b = server.arm("GET", PATHS["nsg"][0], api=NET)
    assert s == 503 and b["error"]["code"] == "ServiceUnavailable"


def test_injected_failed_async_operation(server):
    put(server, "rg")
    server.control("POST", "/faults", {"kind": "async", "method": "PUT", "path": "virtualNetworks/vnet1$",
                                       "code": "InternalServerError", "message": "boom"})
    s, h, _ = server.arm("PUT", PATHS["vnet"][0], BODIES["vnet"], NET)
    assert s == 201
    _, _, doc, _ = server.wait(h)
    assert doc["status"] == "Failed" and doc["error"] == {"code": "InternalServerError", "message": "boom"}
    s, _, b = server.arm("GET", PATHS["vnet"][0], api=NET)
    assert b["properties"]["provisioningState"] == "Failed"
    # the next attempt succeeds (the fault fired once); Location polling reports a failure as an error
    server.control("POST", "/faults", {"kind": "async", "method": "DELETE", "path": "vnet1", "async_status": "Canceled",
                                       "code": "Canceled", "message": "stopped", "status": 409})
    s, h, _ = server.arm("PUT", PATHS["vnet"][0], BODIES["vnet"], NET)
    _, _, doc, _ = server.wait(h)
    assert doc["status"] == "Succeeded"
    s, h, _ = server.arm("DELETE", PATHS["vnet"][0], api=NET)
    s, _, b, _ = server.wait(h, "Location")
    assert s == 409 and b["error"]["code"] == "Canceled"


# ---- identity ---------------------------------------------------------------------------------------

def _assertion(server, key_file, aud=None, alg="RS256", cert_file="client-cert.pem", lifetime=600, **claims):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    cert = x509.load_pem_x509_certificate(open(os.path.join(server.dir, cert_file), "rb").read())
    der = cert.public_bytes(serialization.Encoding.DER)
    key = serialization.load_pem_private_key(open(os.path.join(server.dir, key_file), "rb").read(), None)
    enc = lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode()
    header = {"alg": alg, "typ": "JWT", "x5t": enc(hashlib.sha1(der).digest())}
    if alg == "PS256":
        header = {"alg": alg, "typ": "JWT", "x5t#S256": enc(hashlib.sha256(der).digest())}
    now = int(time.time())
    body = {"aud": aud or f"{server.base}/{TENANT}/oauth2/v2.0/token", "iss": CLIENT_ID, "sub": CLIENT_ID,
            "jti": str(uuid.uuid4()), "nbf": now, "exp": now + lifetime}
    body.update(claims)
    signing = f"{enc(json.dumps(header).encode())}.{enc(json.dumps(body).encode())}"
    pad = padding.PKCS1v15() if alg == "RS256" else padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    return signing + "." + enc(key.sign(signing.encode(), pad, hashes.SHA256()))


def _token_request(server, **fields):
    form = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "scope": "https://management.azure.com/.default"}
    form.update(fields)
    return server.raw("POST", f"/{TENANT}/oauth2/v2.0/token", form=form)


def test_client_secret_token(server):
    s, _, b = _token_request(server, client_secret=server.secret)
    assert s == 200 and b["token_type"] == "Bearer" and b["expires_in"] > 0
    s, _, _ = server.raw("GET", PATHS["rg"][0] + "?api-version=" + RES, headers={"Authorization": "Bearer " + b["access_token"]})
    assert s == 404   # authenticated; the group does not exist
    s, _, b = _token_request(server, client_secret="wrong")
    assert s == 401 and b["error"] == "invalid_client" and b["error_description"].startswith("AADSTS7000215")
    s, _, b = _token_request(server, client_secret=server.secret, scope="https://graph.microsoft.com/.default")
    assert s == 400 and b["error"] == "invalid_resource"
    s, _, b = _token_request(server, client_secret=server.secret, grant_type="password")
    assert s == 400 and b["error"] == "unsupported_grant_type"
    s, _, b = _token_request(server, client_secret=server.secret, client_id=str(uuid.uuid4()))
    assert s == 400 and b["error"] == "unauthorized_client"


def test_client_assertion_token(server):
    jwt_type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    for alg in ("RS256", "PS256"):
        s, _, b = _token_request(server, client_assertion_type=jwt_type,
                                 client_assertion=_assertion(server, "client-key.pem", alg=alg))
        assert s == 200 and b["access_token"], b
    # signed by a key that is not the registered certificate's, but claiming its thumbprint
    s, _, b = _token_request(server, client_assertion_type=jwt_type, client_assertion=_assertion(server, "other-key.pem"))
    assert s == 401 and b["error"] == "invalid_client" and "AADSTS700027" in b["error_description"]
    s, _, b = _token_request(server, client_assertion_type=jwt_type,
                             client_assertion=_assertion(server, "other-key.pem", cert_file="other-cert.pem"))
    assert s == 401 and "AADSTS700027" in b["error_description"]
    s, _, b = _token_request(server, client_assertion_type=jwt_type,
                             client_assertion=_assertion(server, "client-key.pem", aud="https://login.microsoftonline.com/x"))
    assert s == 401 and b["error"] == "invalid_client"
    s, _, b = _token_request(server, client_assertion_type=jwt_type,
                             client_assertion=_assertion(server, "client-key.pem", lifetime=-3600, nbf=int(time.time()) - 7200))
    assert s == 401 and "AADSTS700024" in b["error_description"]
    s, _, b = _token_request(server, client_assertion_type=jwt_type,
                             client_assertion=_assertion(server, "client-key.pem", sub="someone-else"))
    assert s == 401 and "AADSTS700021" in b["error_description"]


def test_arm_accepts_only_live_tokens_it_issued(server):
    s, h, b = server.raw("GET", PATHS["rg"][0] + "?api-version=" + RES)
    assert s == 401 and b["error"]["code"] == "AuthenticationFailed" and "WWW-Authenticate" in h
    s, _, b = server.raw("GET", PATHS["rg"][0] + "?api-version=" + RES, headers={"Authorization": "Bearer made-up"})
    assert s == 401 and b["error"]["code"] == "InvalidAuthenticationToken"
    server.control("POST", "/tokens/expire")
    s, _, b = server.raw("GET", PATHS["rg"][0] + "?api-version=" + RES, headers={"Authorization": f"Bearer {server.token()}"})
    assert s == 401 and b["error"]["code"] == "ExpiredAuthenticationToken"
    server._token = None


def test_imds_managed_identity(server):
    q = "api-version=2018-02-01&resource=" + urllib.parse.quote("https://management.azure.com/")
    s, _, b = server.raw("GET", "/metadata/identity/oauth2/token?" + q)
    assert s == 400 and b["error"] == "invalid_request"
    s, _, b = server.raw("GET", "/metadata/identity/oauth2/token?" + q, headers={"Metadata": "true"})
    assert s == 200 and b["token_type"] == "Bearer" and b["expires_in"].isdigit()
    s, _, _ = server.raw("GET", PATHS["rg"][0] + "?api-version=" + RES, headers={"Authorization": "Bearer " + b["access_token"]})
    assert s == 404
    s, _, b = server.raw("GET", "/metadata/identity/oauth2/token?" + q + "&client_id=" + str(uuid.uuid4()),
                         headers={"Metadata": "true"})
    assert s == 400 and b["error_description"] == "Identity not found"


# ---- a real client: the official Azure SDK for Python, unmodified ----------------------------------

def _sdk(server, monkeypatch):
    try:
        import azure.identity  # noqa: F401
        import azure.mgmt.network  # noqa: F401
        import azure.mgmt.resource.resources  # noqa: F401
    except ImportError as e:
        pytest.fail(f"the Azure SDK is not installed in .venv-azure ({e}); run: bash scripts/arm-standin.sh install")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", server.ca)
    monkeypatch.setenv("SSL_CERT_FILE", server.ca)


def test_azure_sdk_client_secret_and_certificate_against_the_stand_in(server, monkeypatch):
    _sdk(server, monkeypatch)
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
    from azure.identity import CertificateCredential, ClientSecretCredential
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient
    scopes = ["https://management.azure.com/.default"]
    secret_cred = ClientSecretCredential(TENANT, CLIENT_ID, server.secret, authority=server.base,
                                         disable_instance_discovery=True)
    cert_cred = CertificateCredential(TENANT, CLIENT_ID, os.path.join(server.dir, "client.pem"),
                                      authority=server.base, disable_instance_discovery=True)
    assert cert_cred.get_token(*scopes).token
    # the SDK's own default api-versions are newer than the vendored specs: the stand-in says so, as ARM
    # does for a version a resource type does not have; the SDK is then told the spec's version.
    latest = ResourceManagementClient(secret_cred, SUB, base_url=server.base, credential_scopes=scopes)
    with pytest.raises(HttpResponseError) as e:
        latest.resource_groups.create_or_update("sdk-rg", {"location": "westeurope"})
    assert e.value.error.code == "InvalidApiVersionParameter"
    resources = ResourceManagementClient(secret_cred, SUB, base_url=server.base, credential_scopes=scopes,
                                         api_version=RES)
    rg = resources.resource_groups.create_or_update("sdk-rg", {"location": "westeurope", "tags": {"maif-stack": "sdk"}})
    assert rg.id == f"/subscriptions/{SUB}/resourceGroups/sdk-rg" and rg.location == "westeurope"
    network = NetworkManagementClient(cert_cred, SUB, base_url=server.base, credential_scopes=scopes,
                                      polling_interval=0.1)
    poller = network.virtual_networks.begin_create_or_update("sdk-rg", "sdk-vnet", {
        "location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.20.0.0/16"]},
                                                 "subnets": [{"name": "default", "properties": {"addressPrefix": "10.20.0.0/24"}}]}},
        api_version=NET)
    vnet = poller.result(timeout=20)
    assert vnet.provisioning_state == "Succeeded" and vnet.subnets[0].name == "default"
    rule = network.security_rules  # the SDK's own model classes serialise what the spec defines
    nsg = network.network_security_groups.begin_create_or_update(
        "sdk-rg", "sdk-nsg", {"location": "westeurope"}, api_version=NET).result(timeout=20)
    assert len(nsg.default_security_rules) == 6
    r = rule.begin_create_or_update("sdk-rg", "sdk-nsg", "allow-maif", {"properties": {
        "protocol": "Tcp", "access": "Allow", "direction": "Inbound", "priority": 100, "sourceAddressPrefix": "*",
        "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "7700"}},
        api_version=NET).result(timeout=20)
    assert r.provisioning_state == "Succeeded"
    network.virtual_networks.begin_delete("sdk-rg", "sdk-vnet", api_version=NET).result(timeout=20)
    with pytest.raises(ResourceNotFoundError):
        network.virtual_networks.get("sdk-rg", "sdk-vnet", api_version=NET)
    # an error reaches the SDK as ARM's error document
    with pytest.raises(HttpResponseError) as e:
        resources.resource_groups.create_or_update("sdk-rg", {"location": "eastus"})
    assert e.value.error.code == "InvalidResourceGroupLocation"
    resources.resource_groups.begin_delete("sdk-rg").result(timeout=20)
    assert not resources.resource_groups.check_existence("sdk-rg")


def test_azure_sdk_managed_identity_through_imds(server, monkeypatch):
    _sdk(server, monkeypatch)
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", server.base)
    from azure.identity import ManagedIdentityCredential
    token = ManagedIdentityCredential().get_token("https://management.azure.com/.default")
    assert token.token and token.expires_on > time.time()
    s, _, _ = server.raw("GET", PATHS["rg"][0] + "?api-version=" + RES, headers={"Authorization": "Bearer " + token.token})
    assert s == 404
