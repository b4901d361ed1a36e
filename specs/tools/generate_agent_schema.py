#!/usr/bin/env python3
"""Generates specs/agent-config.schema.json, the JSON Schema (draft 2020-12) of the agent's
configuration file (`kind: AgentConfig`). Edit this file, not the JSON, then run:

    python3 specs/tools/generate_agent_schema.py && python3 specs/tools/check_agent_schema.py

The shape (keys, types, ranges) is written below, in step with the loader
(Sources/VirtsyncAgent/AgentConfig); each key's description is its "meaning" column in the
fields table of specs/agent-config.md, so the schema says what the reference says.
`AgentConfigSchemaTests` checks that the schema has exactly the keys the loader accepts.
"""
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1].parent
REFERENCE = ROOT / "specs/agent-config.md"
OUTPUT = ROOT / "specs/agent-config.schema.json"


def fields_table(markdown):
    """`key path` -> (default, range, meaning) from the "## Fields" table."""
    rows = {}
    in_fields = False
    for line in markdown.splitlines():
        if line.startswith("## "):
            in_fields = line == "## Fields"
            continue
        if not in_fields or not line.startswith("| `"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        rows[cells[0].strip("`")] = tuple(cells[1:4])
    return rows


# The kinds of values, as the loader reads them.
duration_pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h|d))+$"
absolute_path = {"type": "string", "pattern": r"^/(?!.*(^|/)\.\.?(/|$))", "minLength": 1}
name_pattern = r"^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


def duration(low, high, low_text, high_text):
    return {"type": "string", "pattern": duration_pattern,
            "x-range": f"{low_text} to {high_text}", "x-rangeSeconds": [low, high]}


def boolean(default):
    return {"type": "boolean", "default": default}


def obj(props, required=()):
    d = {"type": "object", "additionalProperties": False, "properties": props}
    if required:
        d["required"] = list(required)
    return d


STRUCTURE = obj({
    "apiVersion": {"const": "virtsync/v1"},
    "kind": {"const": "AgentConfig"},
    "host": {"type": "string", "anyOf": [{"const": "local"}, {"pattern": name_pattern}]},
    "source": obj({
        "repo": {"type": "string", "pattern": r"^(ssh|https|file)://", "minLength": 1},
        "ref": {"type": "string", "minLength": 1, "pattern": r"^(?!-)(?!/)(?!.*\.\.)(?!.*//)(?!.*/$)(?!.*\.lock$)[^\x00-\x20\x7f~^:?*\[\\]+$"},
        "path": {"type": "string", "minLength": 1, "pattern": r"^(?!/)(?!(.*/)?\.\.(/|$))[^\x00-\x1f\x7f]*$", "default": "."},
        "allowedSigners": absolute_path,
        "sshKey": absolute_path,
        "knownHosts": absolute_path,
        "httpsUser": {"type": "string", "pattern": r"^[^:]*$"},
        "tokenFile": absolute_path,
        "tokenEnv": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
        "caFile": absolute_path,
        "fetchTimeout": duration(1, 600, "1s", "10m") | {"default": "60s"},
    }, required=["repo"]) | {"not": {"required": ["tokenFile", "tokenEnv"]}},
    "libvirt": obj({
        "uri": {"type": "string", "minLength": 1, "default": "qemu:///system"},
        "callTimeout": duration(1, 600, "1s", "10m") | {"default": "30s"},
        "shutdownTimeout": duration(0, 3600, "0s", "1h") | {"default": "60s"},
    }),
    "reconcile": obj({
        "interval": duration(5, 86400, "5s", "1d") | {"default": "60s"},
        "jitter": {"type": "string", "pattern": r"^ *([0-9]|[1-4][0-9]|50)(\.[0-9]+)?% *$", "default": "10%"},
        "debounce": duration(0, 60, "0s", "1m") | {"default": "2s"},
        "resync": duration(0, 86400, "0s", "1d") | {"default": "5m"},
        "backoff": obj({
            "initial": duration(1, 3600, "1s", "1h") | {"default": "5s"},
            "max": duration(1, 86400, "1s", "1d") | {"default": "5m"},
        }),
        "prune": boolean(False),
        "allowMassDelete": boolean(False),
        "allowHistoryRewrite": boolean(False),
        "parallel": {"type": "integer", "minimum": 1, "maximum": 64, "default": 4},
    }),
    "stateDir": absolute_path | {"default": "/var/lib/virtsync"},
    "hostsDir": absolute_path,
    "imageCache": absolute_path,
    "http": obj({
        "listen": {"type": "string", "anyOf": [
            {"const": "off"},
            {"pattern": r"^[^\s\[\]:]+:[0-9]{1,5}$"},
            {"pattern": r"^\[[0-9A-Fa-f:.]+\]:[0-9]{1,5}$"},
        ], "default": "127.0.0.1:9479"},
        "webhookSecretFile": absolute_path,
        "tokenFile": absolute_path,
        "writeTokenFile": absolute_path,
        "tls": obj({"certificateFile": absolute_path, "keyFile": absolute_path},
                   required=["certificateFile", "keyFile"]),
    }),
    "ha": obj({
        "etcd": obj({
            "endpoints": {"type": "array", "minItems": 1,
                          "items": {"type": "string", "pattern": r"^([^\s\[\]:]+|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}$"}},
            "prefix": {"type": "string", "pattern": r"^/[^\s]*[^/\s]$", "default": "/virtsync"},
            "caFile": absolute_path,
            "certificateFile": absolute_path,
            "keyFile": absolute_path,
            "electionTimeout": duration(0.01, 50, "10ms", "50s") | {"default": "1s"},
        }, required=["endpoints"]) | {"dependentRequired": {"certificateFile": ["keyFile"], "keyFile": ["certificateFile"]}},
        "leaseTTL": duration(2, 600, "2s", "10m") | {"default": "10s"},
        "margin": duration(0.1, 300, "100ms", "5m") | {"default": "2s"},
        "guard": duration(0, 60, "0s", "1m") | {"default": "1s"},
        "watchdog": obj({
            "device": {"type": "string", "anyOf": [{"const": "off"}, absolute_path], "default": "/dev/watchdog"},
            "timeout": duration(1, 600, "1s", "10m"),
        }),
        "failback": boolean(True),
        "failbackSettle": duration(0, 86400, "0s", "1d") | {"default": "1m"},
        "hypervisorHang": duration(0, 3600, "0s", "1h") | {"default": "1m"},
    }, required=["etcd"]),
    "secrets": obj({
        "directory": absolute_path | {"default": "/etc/virtsync/secrets"},
        "ageIdentity": absolute_path,
        "digestKey": absolute_path | {"default": "/etc/virtsync/secret-digest.key"},
    }),
    "log": obj({
        "level": {"enum": ["trace", "debug", "info", "notice", "warning", "error"], "default": "info"},
        "format": {"enum": ["logfmt", "json"], "default": "logfmt"},
    }),
}, required=["apiVersion", "kind", "host", "source"])


def describe(node, prefix, table, missing):
    """Puts each key's meaning from the reference into its schema, depth first."""
    for key, child in node.get("properties", {}).items():
        path = f"{prefix}.{key}" if prefix else key
        if path not in table:
            missing.append(path)
            continue
        default, values, meaning = table[path]
        text = meaning
        if default and default not in ("required",):
            text += f" Default: {default}."
        # A copy: the structure shares nodes (every path is one `absolute_path`), and the same
        # node must not carry the last description written to it everywhere.
        child = dict(child)
        node["properties"][key] = child
        child["description"] = text
        describe(child, path, table, missing)


def key_paths(node, prefix=""):
    for key, child in node.get("properties", {}).items():
        path = f"{prefix}.{key}" if prefix else key
        yield path
        yield from key_paths(child, path)


def main():
    table = fields_table(REFERENCE.read_text())
    missing = []
    describe(STRUCTURE, "", table, missing)
    extra = sorted(set(table) - set(key_paths(STRUCTURE)))
    if missing or extra:
        sys.exit(f"schema and specs/agent-config.md disagree: not documented {missing}, documented but not in the schema {extra}")
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://virtsync.dev/schemas/agent-config.schema.json",
        "title": "virtsync agent configuration (kind: AgentConfig)",
        "description": "The file `virtsync agent --config` reads (/etc/virtsync/agent.yaml). Reference: specs/agent-config.md. "
                       "Generated by specs/tools/generate_agent_schema.py; do not edit by hand. Durations are a number and a "
                       "unit (500ms, 30s, 5m, 1h30m, 2d); their ranges are in x-range (JSON Schema cannot compare durations); "
                       "whether files exist is checked by `virtsync agent --check` on the host, not here.",
    } | STRUCTURE
    OUTPUT.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(list(key_paths(STRUCTURE)))} keys)")


if __name__ == "__main__":
    main()
