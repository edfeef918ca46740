"""Objects of kinds a CRD brings, which kubernetes-validate has no schema for ("Couldn't find schema for kind ..."):
each is checked against <group>_<version>_<kind>.json in this folder; a kind with no schema here fails, so nothing
passes unchecked. Reads kubernetes-validate's output on stdin; the manifests are the arguments."""
import json
import os
import re
import sys

import jsonschema
import yaml

here = os.path.dirname(os.path.abspath(__file__))
unknown = set()
for line in sys.stdin:
    m = re.match(r"WARN (.+?) Couldn't find schema for kind", line)
    if m:
        unknown.add(m.group(1))
failed = False
for path in sys.argv[1:]:
    if path not in unknown:
        continue
    with open(path) as f:
        documents = [d for d in yaml.safe_load_all(f) if d is not None]
    for doc in documents:
        api, kind = doc.get("apiVersion", ""), doc.get("kind", "")
        group, _, version = api.rpartition("/")
        schema_file = os.path.join(here, f"{group or 'core'}_{version}_{kind.lower()}.json")
        name = (doc.get("metadata") or {}).get("name", "?")
        if not os.path.exists(schema_file):
            print(f"ERROR {path}: no schema for kind {kind} in {api}, neither kubernetes-validate's nor {os.path.relpath(schema_file)}")
            failed = True
            continue
        with open(schema_file) as f:
            schema = json.load(f)
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
        if errors:
            failed = True
            for e in errors:
                print(f"ERROR {path}: {kind}/{name} at {'.'.join(map(str, e.path)) or '(root)'}: {e.message}")
        else:
            print(f"INFO {path} passed for resource {kind}/{name} against {os.path.relpath(schema_file, os.path.dirname(here))}")
sys.exit(1 if failed else 0)
