# A review policy for virtsync's JSON output, for conftest, opa or any Rego engine.
#
#   virtsync plan ./spec --format json > plan.json
#   conftest test --namespace virtsync --policy examples/policy plan.json
#   virtsync validate ./spec --format json > report.json
#   conftest test --namespace virtsync --policy examples/policy report.json
#   opa eval --data examples/policy --input plan.json --format pretty 'data.virtsync.deny'
#
# One policy takes both documents: a plan has "steps" (specs/plan.schema.json), a validate
# report has "diagnostics" (specs/validate.schema.json). Both carry format_version 1; the
# policy refuses any other, so a new format is read on purpose, not by accident.
# `deny` fails the check, `warn` only reports. Adapt the limits below to your site.
package virtsync

import rego.v1

# The largest memory a VM may be given through a pull request without a second look.
max_memory_gib := 64

max_memory_bytes := ((max_memory_gib * 1024) * 1024) * 1024

is_plan if input.steps
is_report if input.diagnostics

deny contains msg if {
	not input.format_version == 1
	msg := sprintf("format_version %v: this policy reads format_version 1", [input.format_version])
}

# --- plans --------------------------------------------------------------------------------

deny contains msg if {
	is_plan
	input.summary.has_errors
	msg := sprintf("the plan has %d error note(s): it does not do all the spec asks", [input.summary.notes.error])
}

deny contains msg if {
	some step in input.steps
	step.disruption == "data-loss"
	msg := sprintf("%s: %s would lose data", [step.id, step.resource.name])
}

deny contains msg if {
	some step in input.steps
	step.action == "delete"
	step.resource.kind == "domain"
	msg := sprintf("%s: deleting a VM needs a separate, reviewed change", [step.id])
}

deny contains msg if {
	some step in input.steps
	some change in step.changes
	change.field == "memory"
	change.unit == "bytes"
	change.after_value > max_memory_bytes
	msg := sprintf("%s: memory %s is above the %d GiB limit", [step.id, change.after, max_memory_gib])
}

warn contains msg if {
	is_plan
	input.summary.by_disruption.restart + input.summary.by_disruption.stop > 0
	msg := sprintf("%d step(s) restart or stop a running VM", [input.summary.by_disruption.restart + input.summary.by_disruption.stop])
}

warn contains msg if {
	some step in input.steps
	some change in step.changes
	change.field == "autostart"
	change.after_value == false
	msg := sprintf("%s: autostart turned off", [step.id])
}

# --- validate reports ---------------------------------------------------------------------

deny contains msg if {
	some d in input.diagnostics
	d.severity == "error"
	msg := sprintf("%s: %s", [place(d), d.message])
}

warn contains msg if {
	some d in input.diagnostics
	d.severity == "warning"
	msg := sprintf("%s: %s", [place(d), d.message])
}

place(d) := sprintf("%s:%d:%d: %s", [d.file, d.line, d.column, d.path]) if d.line
place(d) := d.file if not d.line
