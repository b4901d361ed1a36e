#!/usr/bin/env python3
"""Checks specs/agent-config.schema.json: a valid draft 2020-12 schema that is what
generate_agent_schema.py writes, accepts examples/agent/agent.yaml and every `yaml` example of
specs/agent-config.md, and refuses typical mistakes.

Usage: python3 specs/tools/check_agent_schema.py   (needs the jsonschema and PyYAML packages)
"""
import json
import pathlib
import subprocess
import sys

import jsonschema
import yaml

from check_schema import Loader, yaml_blocks

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "specs/agent-config.schema.json"
EXAMPLE = ROOT / "examples/agent/agent.yaml"
SCHEMA_LINE = "# yaml-language-server: $schema=../../specs/agent-config.schema.json"

MINIMAL = {"apiVersion": "virtsync/v1", "kind": "AgentConfig", "host": "local",
           "source": {"repo": "https://git.example.com/infra/cluster.git"}}


def with_change(path, value):
    """MINIMAL with `value` at the dotted `path` (None removes the key)."""
    doc = json.loads(json.dumps(MINIMAL))
    *parents, last = path.split(".")
    node = doc
    for key in parents:
        node = node.setdefault(key, {})
    if value is None:
        node.pop(last, None)
    else:
        node[last] = value
    return doc


# Each must be refused: (what, document).
BAD = [
    ("a typo of a key", with_change("reconcile.intervall", "60s")),
    ("an unknown top-level key", with_change("hosts", "node-1")),
    ("no host", with_change("host", None)),
    ("no source.repo", with_change("source", {"ref": "main"})),
    ("another kind", with_change("kind", "VirtualMachine")),
    ("another apiVersion", with_change("apiVersion", "virtsync/v2")),
    ("a bare number as a duration", with_change("reconcile.interval", 60)),
    ("a duration without a unit", with_change("libvirt.callTimeout", "30")),
    ("jitter without %", with_change("reconcile.jitter", "0.1")),
    ("jitter over 50%", with_change("reconcile.jitter", "60%")),
    ("parallel 0", with_change("reconcile.parallel", 0)),
    ("parallel as a string", with_change("reconcile.parallel", "4")),
    ("prune as yes", with_change("reconcile.prune", "yes")),
    ("a relative stateDir", with_change("stateDir", "var/lib/virtsync")),
    ("a stateDir with ..", with_change("stateDir", "/var/lib/../etc")),
    ("an absolute source.path", with_change("source.path", "/clusters/prod")),
    ("source.path leaving the repository", with_change("source.path", "../other")),
    ("a repository over ftp", with_change("source.repo", "ftp://example.com/repo.git")),
    ("tokenFile and tokenEnv together", with_change("source", {"repo": "https://x.example/r.git",
                                                                "tokenFile": "/etc/t", "tokenEnv": "T"})),
    ("http.tls without its key", with_change("http.tls", {"certificateFile": "/etc/virtsync/tls/agent.pem"})),
    ("a log level syslog does not have", with_change("log.level", "verbose")),
    ("a listen address without a port", with_change("http.listen", "127.0.0.1")),
    ("ha without etcd", with_change("ha", {"leaseTTL": "10s"})),
    ("an etcd certificate without its key", with_change("ha", {"etcd": {"endpoints": ["10.0.0.1:2379"],
                                                                         "certificateFile": "/etc/c.pem"}})),
    ("a host name with a slash", with_change("host", "node/1")),
]


def main():
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    failures = []

    generated = subprocess.run([sys.executable, str(ROOT / "specs/tools/generate_agent_schema.py")],
                               capture_output=True, text=True)
    if generated.returncode != 0:
        failures.append(f"generate_agent_schema.py failed: {generated.stderr}")
    elif json.loads(SCHEMA_PATH.read_text()) != schema:
        failures.append("specs/agent-config.schema.json was not what generate_agent_schema.py writes (now regenerated: commit it)")

    example_text = EXAMPLE.read_text()
    if example_text.splitlines()[0] != SCHEMA_LINE:
        failures.append(f"{EXAMPLE.relative_to(ROOT)}: the first line must be {SCHEMA_LINE}")
    goods = [(str(EXAMPLE.relative_to(ROOT)), yaml.load(example_text, Loader=Loader))]
    for index, block in enumerate(yaml_blocks((ROOT / "specs/agent-config.md").read_text())):
        goods.append((f"specs/agent-config.md, yaml example {index + 1}", yaml.load(block, Loader=Loader)))
    goods.append(("the smallest file", MINIMAL))
    for name, doc in goods:
        for error in validator.iter_errors(doc):
            failures.append(f"{name}: refused at {'.'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}")

    for what, doc in BAD:
        if validator.is_valid(doc):
            failures.append(f"accepted, but must be refused: {what}")

    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print(f"{SCHEMA_PATH.relative_to(ROOT)}: valid; accepts {len(goods)} good files, refuses {len(BAD)} bad ones")


if __name__ == "__main__":
    main()
