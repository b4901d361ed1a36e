#!/usr/bin/env python3
"""Checks specs/plan.schema.json and specs/validate.schema.json: each is a valid draft 2020-12
schema, is what generate_output_schemas.py writes, and takes what virtsync writes.

Usage: python3 specs/tools/check_output_schemas.py [--plan FILE]... [--report FILE]...
(needs the jsonschema package). Without files it checks the golden plans of the tests
(Tests/VirtsyncCoreTests/Golden/plans/*/plan.json); `OutputSchemaTests` passes it plans and
validate reports the real CLI just wrote. Exits 1 with the file and the failing key path on
the first problem of each file.
"""
import argparse
import importlib.util
import json
import pathlib
import sys

import jsonschema

ROOT = pathlib.Path(__file__).resolve().parents[1].parent


def generated():
    spec = importlib.util.spec_from_file_location("generator", ROOT / "specs/tools/generate_output_schemas.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {"plan.schema.json": module.PLAN, "validate.schema.json": module.VALIDATE}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plan", action="append", default=[])
    parser.add_argument("--report", action="append", default=[])
    args = parser.parse_args()
    failures = 0
    validators = {}
    for name, expected in generated().items():
        path = ROOT / "specs" / name
        schema = json.loads(path.read_text())
        if schema != expected:
            print(f"specs/{name}: not what generate_output_schemas.py writes; run it")
            failures += 1
        jsonschema.Draft202012Validator.check_schema(schema)
        validators[name] = jsonschema.Draft202012Validator(schema)
    plans = [pathlib.Path(p) for p in args.plan]
    if not args.plan and not args.report:
        plans = sorted((ROOT / "Tests/VirtsyncCoreTests/Golden/plans").glob("*/plan.json"))
    checked = 0
    for files, name in ((plans, "plan.schema.json"), ([pathlib.Path(p) for p in args.report], "validate.schema.json")):
        for path in files:
            document = json.loads(path.read_text())
            errors = sorted(validators[name].iter_errors(document), key=lambda e: list(e.absolute_path))
            for error in errors[:1]:
                where = "/".join(str(p) for p in error.absolute_path) or "(top)"
                print(f"{path}: {where}: {error.message[:300]}")
                failures += 1
            checked += 1
    if failures:
        return 1
    print(f"specs/plan.schema.json, specs/validate.schema.json: valid; {checked} file(s) conform")
    return 0


if __name__ == "__main__":
    sys.exit(main())
