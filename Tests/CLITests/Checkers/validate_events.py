"""Validates every line of a `maifctl apply --json` stream against the published JSON Schema
(docs/apply-events.schema.json, draft 2020-12, formats checked) and prints, as JSON: the number of lines, each
line's event type, and every validation error with its line number. Lines that are not JSON are errors too."""
import json
import sys

from jsonschema import Draft202012Validator, FormatChecker


def main(schema_path, events_path):
    schema = json.load(open(schema_path, encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    out = {"lines": 0, "types": [], "errors": []}
    for number, line in enumerate(open(events_path, encoding="utf-8"), start=1):
        out["lines"] += 1
        try:
            event = json.loads(line)
        except ValueError as error:
            out["errors"].append(f"line {number}: not JSON ({error}): {line[:200]!r}")
            out["types"].append(None)
            continue
        out["types"].append(event.get("type"))
        for error in validator.iter_errors(event):
            out["errors"].append(f"line {number} ({event.get('type')}): {error.message} at {list(error.absolute_path)}")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
