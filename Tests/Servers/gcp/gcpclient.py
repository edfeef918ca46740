"""A client that is not maifctl, for the gcp provider's tests: Google's own Python libraries (google-api-python-client,
built from the discovery documents, and google-cloud-storage) pointed at the local servers, with the service-account
key `start` made. Prints JSON.

  python gcpclient.py call API VERSION RESOURCE METHOD [JSON_ARGS [JSON_BODY]]
      e.g. call compute v1 instances list '{"project": "p", "zone": "us-central1-a"}'
           call monitoring v3 projects.alertPolicies list '{"name": "projects/p"}'
      (list methods are followed page by page; every answer is printed as one JSON document)
  python gcpclient.py bucket get NAME            the bucket's metadata as google-cloud-storage reads it
  python gcpclient.py bucket versioning NAME on|off
  python gcpclient.py bucket list PROJECT        names of the project's buckets
  python gcpclient.py batch < CALLS.json         [["call", API, …], ["bucket", …], …] → a JSON list of the answers

GCP_SERVERS_DIR names the servers' directory (scripts/gcp-servers.sh start DIR).
"""

import json
import os
import sys

DIR = os.environ.get("GCP_SERVERS_DIR")
if not DIR or not os.path.exists(os.path.join(DIR, "servers.json")):
    sys.exit("the GCP servers are not running: scripts/gcp-servers.sh start DIR, then GCP_SERVERS_DIR=DIR")
S = json.load(open(os.path.join(DIR, "servers.json")))

import google.oauth2.service_account  # noqa: E402

# google-api-python-client and google-cloud-storage are imported when first used: each takes a while to load.

SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
PATHS = {"compute": "/compute/v1/", "dns": "/", "monitoring": "/", "storage": "/storage/v1/"}


_cache = {}


def credentials():
    # One token for the whole batch, as any long-lived client would keep it.
    if "creds" not in _cache:
        _cache["creds"] = google.oauth2.service_account.Credentials.from_service_account_file(
            S["files"]["service_account_key"], scopes=SCOPES)
    return _cache["creds"]


def service(api, version):
    # Building a client from its discovery document takes a while (compute's is 2 MB): once per API in a batch.
    from googleapiclient import discovery
    key = (api, version)
    if key not in _cache:
        _cache[key] = discovery.build(api, version, credentials=credentials(), cache_discovery=False,
                                      client_options={"api_endpoint": S["front"] + PATHS[api]})
    return _cache[key]


def call(api, version, resource, method, args="{}", body=None):
    from googleapiclient.errors import HttpError
    service_ = service(api, version)
    target = service_
    for part in resource.split("."):
        target = getattr(target, part)()
    kwargs = json.loads(args)
    if body is not None:
        kwargs["body"] = json.loads(body)
    request = getattr(target, method)(**kwargs)
    try:
        if method == "list" or method == "aggregatedList":
            pages = []
            while request is not None:
                answer = request.execute()
                pages.append(answer)
                request = getattr(target, method + "_next")(request, answer) if hasattr(target, method + "_next") else None
            return pages[0] if len(pages) == 1 else {"pages": pages}
        return request.execute()
    except HttpError as e:
        return {"httpError": e.resp.status, "body": json.loads(e.content or b"{}")}


def bucket(verb, *args):
    from google.cloud import storage
    if "storage" not in _cache:
        _cache["storage"] = storage.Client(project=S["project"], credentials=credentials(), client_options={"api_endpoint": S["front"]})
    client = _cache["storage"]
    if verb == "list":
        return [b.name for b in client.list_buckets(project=args[0])]
    name = args[0]
    if verb == "get":
        b = client.lookup_bucket(name)
        return None if b is None else b._properties
    if verb == "versioning":
        b = client.get_bucket(name)
        b.versioning_enabled = args[1] == "on"
        b.patch()
        return b._properties
    sys.exit(f"unknown bucket verb {verb}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    commands = {"call": call, "bucket": bucket}
    if sys.argv[1] == "batch":
        print(json.dumps([commands[c[0]](*c[1:]) for c in json.load(sys.stdin)]))
    elif sys.argv[1] in commands:
        print(json.dumps(commands[sys.argv[1]](*sys.argv[2:])))
    else:
        sys.exit(__doc__)
