#!/usr/bin/env python3
"""Evaluates a Rego policy against JSON documents, as `conftest test` would: prints each
`deny` and `warn` message of the policy's package for every file, exits 1 when any file has a
`deny`, 2 on a usage or load error.

    scripts/rego-eval.py examples/policy/virtsync.rego plan.json report.json

The engine is rego-cpp's Python binding (`regopy`, from PyPI), which scripts/install-deps.sh
puts in /opt/virtsync-tools (run this script with /opt/virtsync-tools/bin/python3). The tests
use it to check examples/policy against plans and validate reports the real CLI wrote; with
conftest or opa installed, the same policy runs there unchanged.
"""
import json
import re
import sys

try:
    from regopy import Interpreter
except ImportError:
    print("rego-eval: the regopy package is missing (scripts/install-deps.sh installs it into /opt/virtsync-tools)", file=sys.stderr)
    sys.exit(2)


def rule(interpreter, package, name):
    output = json.loads(str(interpreter.query(f"data.{package}.{name}")))
    expressions = output.get("expressions") or [[]]
    values = expressions[0]
    if isinstance(values, dict) and "error" in output:
        raise RuntimeError(output["error"])
    return sorted(values or [])


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print("usage: rego-eval.py POLICY.rego FILE.json...", file=sys.stderr)
        return 2
    policy_path, files = argv[1], argv[2:]
    policy = open(policy_path, encoding="utf-8").read()
    match = re.search(r"^package\s+([A-Za-z0-9_.]+)", policy, re.MULTILINE)
    if not match:
        print(f"rego-eval: {policy_path}: no package line", file=sys.stderr)
        return 2
    package = match.group(1)
    denied = False
    for path in files:
        try:
            document = json.load(open(path, encoding="utf-8"))
        except (OSError, ValueError) as error:
            print(f"rego-eval: {path}: {error}", file=sys.stderr)
            return 2
        try:
            interpreter = Interpreter()
            interpreter.add_module(policy_path, policy)
            interpreter.set_input(document)
            deny, warn = rule(interpreter, package, "deny"), rule(interpreter, package, "warn")
        except Exception as error:  # regopy raises RegoError (a syntax or type error) and others
            print(f"rego-eval: {policy_path} on {path}: {' '.join(str(error).split())[:400] or type(error).__name__}",
                  file=sys.stderr)
            return 2
        for message in deny:
            print(f"FAIL - {path} - {package} - {message}")
        for message in warn:
            print(f"WARN - {path} - {package} - {message}")
        denied = denied or bool(deny)
        print(f"{path}: {len(deny)} failure(s), {len(warn)} warning(s)")
    return 1 if denied else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
