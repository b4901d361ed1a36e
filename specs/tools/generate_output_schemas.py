#!/usr/bin/env python3
"""Generates the JSON Schemas (draft 2020-12) of what virtsync writes for programs:

    specs/plan.schema.json       `virtsync plan --format json` (and `--out`, `show --format json`)
    specs/validate.schema.json   `virtsync validate --format json`

Edit this file, not the JSON, then run:

    python3 specs/tools/generate_output_schemas.py && python3 specs/tools/check_output_schemas.py

The reference is specs/output-json.md (keys, meaning, the versioning rule). The enums below are
Swift's (`StepAction`, `Disruption`, `ResourceKind`, `PlanNote.Severity`, `Severity`);
`OutputSchemaTests` checks they stay equal and that every plan and report virtsync writes in
the tests validates.
"""
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1].parent

ACTIONS = ["create", "update", "replace", "start", "stop", "restart", "migrate", "delete", "adopt", "suspend", "resume"]
DISRUPTIONS = ["none", "live", "next-boot", "restart", "stop", "replace", "data-loss"]
KINDS = ["pool", "volume", "network", "domain", "secret"]
NOTE_SEVERITIES = ["info", "warning", "error"]
DIAGNOSTIC_SEVERITIES = ["error", "warning"]
PAYLOADS = ["network", "pool", "volume", "secret_object", "domain", "migration", "adopted"]

PLAN_FORMAT_VERSION = 1
VALIDATE_FORMAT_VERSION = 1


def obj(props, required=(), description=None, additional=False):
    d = {"type": "object", "additionalProperties": additional, "properties": props}
    if required:
        d["required"] = list(required)
    if description:
        d["description"] = description
    return d


def text(description):
    return {"type": "string", "description": description}


def counts(keys, description):
    return obj({k: {"type": "integer", "minimum": 0} for k in keys}, required=keys, description=description)


value = {"description": "The typed value: an integer (bytes when unit is bytes), a boolean or a string.",
         "type": ["string", "integer", "boolean"]}

resource = obj({
    "kind": {"enum": KINDS},
    "host": text("The host's name, as in the spec."),
    "name": text("The resource's name; pool/volume for a volume."),
}, required=["kind", "host", "name"], description="The resource a step or note is about.")

change = obj({
    "field": text("A key path in spec terms: memory, disks[0], interfaces[1].link."),
    "before": text("The value now, for people (absent when the field is new)."),
    "after": text("The value after the step, for people (absent when the field goes away)."),
    "before_value": value | {"description": "before, typed for programs."},
    "after_value": value | {"description": "after, typed for programs."},
    "unit": {"enum": ["bytes"], "description": "What before_value and after_value count, when not a plain number."},
    "disruption": {"enum": DISRUPTIONS},
}, required=["field", "disruption"], description="One changed field.")

step = obj({
    "id": {"type": "string", "pattern": r"^[a-z]+:[a-z]+:[^/]+/.+$", "description": "action:kind:host/name, unique in the plan."},
    "action": {"enum": ACTIONS},
    "resource": resource,
    "changes": {"type": "array", "items": change},
    "disruption": {"enum": DISRUPTIONS, "description": "The step's class: the most disruptive of its changes and its action."},
    "reason": text("Why the step exists, for people; never stable text."),
    "depends_on": {"type": "array", "items": {"type": "string"}, "description": "Ids of the steps that must succeed first."},
    "wave": {"type": "integer", "minimum": 1, "description": "Migrations: the wave, from 1."},
    "payload": {"type": "object", "maxProperties": 1, "propertyNames": {"enum": PAYLOADS},
                "description": "What apply carries out: the desired state of the resource, under one key naming its "
                               "kind; empty for start, stop, restart and delete. Internal: its inside is not covered by "
                               "format_version and may change in any release; read changes instead."},
}, required=["id", "action", "resource", "changes", "disruption", "reason", "depends_on", "payload"])

note = obj({
    "severity": {"enum": NOTE_SEVERITIES},
    "resource": resource,
    "message": text("What happened, for people."),
}, required=["severity", "message"], description="Something the plan reports that is not a step.")

basis = obj({
    "spec_digest": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    "commit": text("The git commit the spec was read from."),
    "base_commit": text("Review plans: the commit assumed to run; such a plan read no host and cannot be applied."),
    "signer": text("Who signed commit, when signatures were verified."),
    "repository": text("The repository (without credentials)."),
    "observed_fingerprint": text("Digest of the hosts' state the plan was computed from."),
    "source": text("The spec directory."),
    "options": obj({}, additional={"type": "string"}, description="The options that shaped the plan, as strings "
                   "(prune, allow_mass_delete, connect)."),
    "owner": text("The spec source's owner, written into every marker the plan makes."),
    "connections": obj({}, additional={"type": "string"}, description="Host name to the libvirt URI it was read through."),
}, required=["spec_digest", "observed_fingerprint", "options"], description="What the plan was computed from.")

summary = obj({
    "steps": {"type": "integer", "minimum": 0},
    "by_action": counts(ACTIONS, "Steps per action, every action present."),
    "by_disruption": counts(DISRUPTIONS, "Steps per disruption class, every class present."),
    "max_disruption": {"enum": DISRUPTIONS, "description": "The most disruptive step's class; absent without steps."},
    "notes": counts(NOTE_SEVERITIES, "Notes per severity."),
    "has_errors": {"type": "boolean", "description": "Whether any note is an error: the plan does not do all the spec asks."},
}, required=["steps", "by_action", "by_disruption", "notes", "has_errors"],
    description="Counts computed from steps and notes (written, never read back).")

PLAN = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://virtsync.dev/schemas/plan.schema.json",
    "title": "virtsync plan",
    "description": "What `virtsync plan --format json` writes. Reference and versioning rule: specs/output-json.md.",
} | obj({
    "format_version": {"const": PLAN_FORMAT_VERSION},
    "basis": basis,
    "steps": {"type": "array", "items": step, "description": "In a valid order of execution (dependencies first)."},
    "notes": {"type": "array", "items": note},
    "summary": summary,
}, required=["format_version", "basis", "steps", "notes", "summary"])

diagnostic = obj({
    "file": text("The file, relative to the spec directory; the spec's path for a problem of the whole spec."),
    "line": {"type": "integer", "minimum": 1, "description": "Absent for a problem of the whole spec (placement)."},
    "column": {"type": "integer", "minimum": 1, "description": "Absent exactly when line is."},
    "path": text("The key path of the field; empty for a whole document or the whole spec."),
    "severity": {"enum": DIAGNOSTIC_SEVERITIES},
    "message": text("What is wrong and, where one helps, what to write instead."),
}, required=["file", "path", "severity", "message"]) | {"dependentRequired": {"line": ["column"], "column": ["line"]}}

VALIDATE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://virtsync.dev/schemas/validate.schema.json",
    "title": "virtsync validate report",
    "description": "What `virtsync validate --format json` writes. Reference and versioning rule: specs/output-json.md.",
} | obj({
    "format_version": {"const": VALIDATE_FORMAT_VERSION},
    "valid": {"type": "boolean", "description": "No error (warnings allowed); the exit status is 0 exactly then."},
    "path": text("The spec directory or file validated."),
    "diagnostics": {"type": "array", "items": diagnostic, "description": "By file, line and column."},
    "summary": obj({
        "errors": {"type": "integer", "minimum": 0},
        "warnings": {"type": "integer", "minimum": 0},
    }, required=["errors", "warnings"]),
}, required=["format_version", "valid", "path", "diagnostics", "summary"])


def main():
    for name, schema in (("plan.schema.json", PLAN), ("validate.schema.json", VALIDATE)):
        path = ROOT / "specs" / name
        path.write_text(json.dumps(schema, indent=2, sort_keys=False) + "\n")
        print(f"wrote specs/{name}")


if __name__ == "__main__":
    main()
