#!/usr/bin/env python3
"""Checks JSON answers of the REST API against a schema of its OpenAPI document
(specs/api/openapi.yaml) with Python's jsonschema, as a client generated from the document would
read them. schemathesis (scripts/api-check.sh) tests a running server; this checks values a test
built with every optional field filled, which a server's live data may never show.

    python3 specs/tools/check_api_schema.py SCHEMA FILE...     e.g. ClusterView view.json

Exits 1 when a file does not conform (each error printed with its path), 0 when all do.
"""
import json
import pathlib
import sys

import jsonschema
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    document = yaml.safe_load((ROOT / "specs/api/openapi.yaml").read_text())
    name = sys.argv[1]
    if name not in document["components"]["schemas"]:
        sys.exit(f"no schema {name} in specs/api/openapi.yaml")
    # OpenAPI 3.0's schema objects are JSON Schema draft 4 with a few keywords of their own;
    # the document itself is the root, so its #/components references resolve.
    root = dict(document)
    root["$ref"] = f"#/components/schemas/{name}"
    validator = jsonschema.Draft4Validator(root, format_checker=jsonschema.FormatChecker())
    failed = 0
    for path in sys.argv[2:]:
        instance = json.loads(pathlib.Path(path).read_text())
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        for error in errors:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            print(f"{path}: {where}: {error.message}")
        failed += bool(errors)
    if failed:
        sys.exit(1)
    print(f"{len(sys.argv) - 2} file(s) conform to {name}")


if __name__ == "__main__":
    main()
