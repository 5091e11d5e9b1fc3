"""Schema changes: merge classes, add a class (e.g. "borderline"), rename, split, new
instructions, standardize transcripts. Each applied change publishes a new immutable schema
version with the mapping from its parent; old annotations are never rewritten.

A dry run computes agreement on the existing answers before and after the change (exact for
merge, rename and standardization: the same answers, re-read) and how many items would be
re-queued; nothing is written.
"""

from dataclasses import dataclass, field

import numpy as np
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q

from consistency.metrics.stats.counts import value_counts
from consistency.metrics.transcripts.agreement import normalize, transcript_agreement
from consistency.metrics.transcripts.rules import compile_rules
from consistency.models import ItemResult, RunTrigger, SchemaChange
from consistency.selectors.annotations import annotations_frame
from consistency.selectors.runs import run_latest
from consistency.selectors.schema import class_names
from consistency.services.agreement_runs import agreement_run_request
from consistency.services.autorun import agreement_run_soon_on_commit
from consistency.services.measure.common import report_alpha, report_alpha_interval
from core.errors import Conflict, Invalid
from labeling.models import LabelKind, LabelSchemaVersion, Project
from labeling.selectors.schema_versions import schema_version_current
from labeling.services.pool import items_answers_wanted_add
from labeling.services.schema_versions import schema_version_publish

OPS = ("merge", "add_class", "rename", "split", "edit_instructions", "standardize_transcripts")
PREVIEW_BOOTSTRAP = 400
MAX_PATTERN = 200
MAX_SPLIT = 20  # new classes from one split
RULE_FIELDS = ("pattern", "replacement", "regex", "case_sensitive")


@dataclass
class Plan:
    op: str
    classes: list[dict]
    mapping: dict = field(default_factory=dict)
    instructions: str | None = None
    transcript_rules: list | None = None
    requeue: dict = field(default_factory=dict)  # item id → extra answers wanted
    summary: str = ""
    base_version_id: int | None = None  # the version planned against (publishing checks it)


def _class_rows(version) -> list[dict]:
    return [
        {"name": c.name, "description": c.description, "color": c.color, "hotkey": c.hotkey}
        for c in version.classes.all()
    ]


def _check_name(name, existing: list[str], field_name: str) -> str:
    name = str(name or "").strip()
    if not name or len(name) > 100:
        raise Invalid("A class name needs 1 to 100 characters.", fields={field_name: ["Bad name."]})
    if name in existing:
        raise Invalid(f"A class named {name!r} already exists.", fields={field_name: ["Already exists."]})
    return name


def check_rules(rules) -> list[dict]:
    if not isinstance(rules, list) or not rules:
        raise Invalid("Give a list of rules {pattern, replacement, regex}.", fields={"rules": ["Empty."]})
    clean = []
    for index, rule in enumerate(rules, start=1):
        if not isinstance(rule, dict) or set(rule) - set(RULE_FIELDS):
            raise Invalid(
                f"Rule {index} must be an object with {', '.join(RULE_FIELDS)}.",
                fields={"rules": [f"Rule {index}."]},
            )
        pattern, replacement = rule.get("pattern", ""), rule.get("replacement", "")
        if not isinstance(pattern, str) or not isinstance(replacement, str):
            raise Invalid(
                f"Rule {index}: pattern and replacement are text.", fields={"rules": [f"Rule {index}."]}
            )
        if len(pattern) > MAX_PATTERN or len(replacement) > MAX_PATTERN:
            raise Invalid(
                f"Rule {index}: patterns and replacements are at most {MAX_PATTERN} characters.",
                fields={"rules": [pattern[:40]]},
            )
        # Regexes run on RE2 (linear time), so no pattern can be catastrophic; what RE2 cannot
        # run (backreferences, lookaround) is refused by compile_rules below.
        clean.append(
            {
                "pattern": pattern,
                "replacement": replacement,
                "regex": bool(rule.get("regex")),
                "case_sensitive": bool(rule.get("case_sensitive")),
            }
        )
    try:
        compile_rules(clean)
    except ValueError as exc:
        message = str(exc)
        raise Invalid(message[:1].upper() + message[1:] + ".", fields={"rules": [message]}) from exc
    return clean


REWORDING_OPS = ("merge", "split")


def _instructions_for(op: str, params: dict, *, applying: bool) -> str | None:
    """A merge or split changes what the classes mean: it comes with new instructions, or with
    an explicit choice to keep them (``keep_instructions``); previews need neither."""
    if op not in REWORDING_OPS:
        return None
    text = params.get("instructions")
    if text is not None and (not isinstance(text, str) or len(text) > 100_000):
        raise Invalid("Give the new instructions as text (markdown).", fields={"instructions": ["Text."]})
    if text is None and params.get("keep_instructions") is not True and applying:
        raise Invalid(
            f"A {op} changes what the classes mean: give the new instructions (instructions) or "
            'say to keep the current ones ("keep_instructions": true).',
            fields={"instructions": ["Required, or keep_instructions: true."]},
        )
    return text


def schema_change_plan(*, project: Project, op: str, params: dict, applying: bool = False) -> Plan:
    """Validate a change against the current version and describe it (nothing is written)."""
    version = schema_version_current(project=project, with_classes=True)
    plan = _plan(project=project, version=version, op=op, params=params)
    plan.base_version_id = version.id
    instructions = _instructions_for(op, params, applying=applying)
    if instructions is not None:
        plan.instructions = instructions
    return plan


def _plan(*, project: Project, version: LabelSchemaVersion, op: str, params: dict) -> Plan:
    if op not in OPS:
        raise Invalid(f"Unknown op {op!r}.", fields={"op": [f"One of: {', '.join(OPS)}."]})
    names = class_names(version)
    classes = _class_rows(version)
    categorical = project.label_kind != LabelKind.TRANSCRIPTION
    if op in ("merge", "add_class", "rename", "split") and not categorical:
        raise Invalid(f"{op} applies to projects with classes.", fields={"op": ["Not for transcription."]})
    if op == "merge":
        merged = params.get("classes")
        if not isinstance(merged, list) or not all(isinstance(m, str) for m in merged):
            raise Invalid("Name the classes to merge as a list of texts.", fields={"classes": ["Texts."]})
        if len(merged) < 2 or len(set(merged)) != len(merged):
            raise Invalid(
                "Merge at least two different classes.", fields={"classes": ["Two or more, distinct."]}
            )
        missing = [m for m in merged if m not in names]
        if missing:
            raise Invalid(
                f"Not classes of schema v{version.number}: {', '.join(map(str, missing))}.",
                fields={"classes": [f"Unknown: {', '.join(map(str, missing))}"]},
            )
        into = str(params.get("into") or "").strip()
        if not into:
            raise Invalid("Name the merged class (into).", fields={"into": ["Required."]})
        if into in names and into not in merged:
            raise Invalid(
                f"{into!r} is another existing class; merge it in too or pick a new name.",
                fields={"into": ["Existing class outside the merge."]},
            )
        first = min(names.index(m) for m in merged)
        kept = [c for c in classes if c["name"] not in merged]
        kept.insert(  # the merged class keeps the first merged class's colour and hotkey
            first,
            {
                "name": into,
                "description": " / ".join(merged),
                "color": classes[first]["color"],
                "hotkey": classes[first]["hotkey"],
            },
        )
        return Plan(
            op, kept, {m: into for m in merged if m != into}, summary=f"merge {', '.join(merged)} → {into}"
        )
    if op == "add_class":
        name = _check_name(params.get("name"), names, "name")
        plan = Plan(
            op,
            [*classes, {"name": name, "description": str(params.get("description", "")), "color": "#868e96"}],
            summary=f"add class {name}",
        )
        if params.get("requeue_split"):
            run = run_latest(project=project)
            if run is not None:
                measured = ItemResult.objects.of_run(run)
                split = measured.filter(Q(is_tie=True) | Q(disagreement__gt=0))
                plan.requeue = dict.fromkeys(split.values_list("item_id", flat=True), 1)
        return plan
    if op == "rename":
        old = params.get("from")
        if old not in names:
            raise Invalid(f"No class named {old!r}.", fields={"from": ["Unknown class."]})
        new = _check_name(params.get("to"), names, "to")
        renamed = [{**c, "name": new} if c["name"] == old else c for c in classes]
        return Plan(op, renamed, {old: new}, summary=f"rename {old} → {new}")
    if op == "split":
        old = params.get("class")
        parts = params.get("into")
        if old not in names:
            raise Invalid(f"No class named {old!r}.", fields={"class": ["Unknown class."]})
        if not isinstance(parts, list) or len(parts) < 2:
            raise Invalid("Split into at least two new classes.", fields={"into": ["Two or more names."]})
        if len(parts) > MAX_SPLIT or not all(isinstance(n, str) for n in parts):
            raise Invalid(
                f"Split into 2 to {MAX_SPLIT} new classes, each named by a text.",
                fields={"into": [f"Texts, at most {MAX_SPLIT}."]},
            )
        others = [n for n in names if n != old]
        new_names = [_check_name(n, others, "into") for n in parts]
        if len(set(new_names)) != len(new_names):
            raise Invalid("The new classes must differ.", fields={"into": ["Duplicates."]})
        position = names.index(old)
        rows = [c for c in classes if c["name"] != old]
        for offset, n in enumerate(new_names):
            rows.insert(
                position + offset, {"name": n, "description": "", "color": classes[position]["color"]}
            )
        frame = annotations_frame(project=project, schema_version=version)
        hit = frame[frame["value"] == old].groupby("item").size()
        return Plan(
            op,
            rows,
            {old: None},
            requeue={int(k): int(v) for k, v in hit.items()},
            summary=f"split {old} → {', '.join(new_names)}",
        )
    if op == "edit_instructions":
        text = params.get("instructions")
        if not isinstance(text, str) or len(text) > 100_000:
            raise Invalid(
                "Give the new instructions as text (markdown).", fields={"instructions": ["Required."]}
            )
        return Plan(op, classes, instructions=text, summary="new label definitions")
    if project.label_kind != LabelKind.TRANSCRIPTION:
        raise Invalid(
            "Transcript rules apply to transcription projects.", fields={"op": ["Not for classes."]}
        )
    rules = check_rules(params.get("rules"))
    return Plan(
        op,
        classes,
        transcript_rules=[*(version.transcript_rules or []), *rules],
        summary=f"standardize transcripts ({len(rules)} rules)",
    )


def _categorical_agreement(frame, classes: list[str], seed: int = 0) -> dict:
    answered = frame[~frame["skipped"] & ~frame["needs_relabel"] & frame["value"].isin(classes)]
    if answered.empty:
        return {"alpha": None, "alpha_ci": [None, None], "answers": 0}
    _, counts = value_counts(answered, classes, min_labelers=1)
    try:
        value = report_alpha(counts)
    except ValueError:
        return {"alpha": None, "alpha_ci": [None, None], "answers": len(answered)}
    low, high = report_alpha_interval(counts, n_boot=PREVIEW_BOOTSTRAP, seed=seed)
    return {"alpha": value, "alpha_ci": [low, high], "answers": len(answered)}


def _clean(number):
    return None if number is None or not np.isfinite(number) else round(float(number), 4)


def schema_change_preview(*, project: Project, plan: Plan) -> dict:
    """Agreement before and after on the same existing answers; items re-queued."""
    version = schema_version_current(project=project, with_classes=True)
    frame = annotations_frame(project=project, schema_version=version)
    if project.label_kind == LabelKind.TRANSCRIPTION:
        answered = frame[~frame["skipped"]]
        before_rules = version.transcript_rules or []
        after_rules = plan.transcript_rules if plan.transcript_rules is not None else before_rules

        def measure(rules):
            try:
                return {
                    "alpha": transcript_agreement(answered, rules)["alpha"],
                    "alpha_ci": [None, None],
                    "answers": len(answered),
                }
            except ValueError:
                return {"alpha": None, "alpha_ci": [None, None], "answers": len(answered)}

        before, after = measure(before_rules), measure(after_rules)
        compiled_before, compiled_after = compile_rules(before_rules), compile_rules(after_rules)
        changed = [
            {"before": str(v), "after": normalize(str(v), compiled_after)}
            for v in answered["value"]
            if normalize(str(v), compiled_before) != normalize(str(v), compiled_after)
        ]
        extra = {"changed_answers": len(changed), "examples": changed[:10]}
    else:
        old = class_names(version)
        new = [c["name"] for c in plan.classes]
        before = _categorical_agreement(frame, old)
        mapped = frame.copy()
        mapped["value"] = [plan.mapping.get(v, v) if isinstance(v, str) else v for v in frame["value"]]
        mapped["needs_relabel"] = frame["needs_relabel"] | mapped["value"].isna()
        after = _categorical_agreement(mapped, new)
        # Skips have no value (None): None != None is True in pandas, and they read the same.
        changed = (mapped["value"] != frame["value"]) & frame["value"].notna()
        extra = {"changed_answers": int(changed.sum())}
    return {
        "before": {
            **before,
            "alpha": _clean(before["alpha"]),
            "alpha_ci": [_clean(x) for x in before["alpha_ci"]],
        },
        "after": {
            **after,
            "alpha": _clean(after["alpha"]),
            "alpha_ci": [_clean(x) for x in after["alpha_ci"]],
        },
        "requeued_items": len(plan.requeue),
        "summary": plan.summary,
        **extra,
    }


def schema_change_apply(
    *, project: Project, op: str, params: dict, note: str, actor: User, dry_run: bool
) -> dict:
    """Preview, or publish the new version, re-queue items and start an agreement run."""
    plan = schema_change_plan(project=project, op=op, params=params, applying=not dry_run)
    preview = schema_change_preview(project=project, plan=plan)
    if dry_run:
        return {"dry_run": True, **preview}
    note = (note or "").strip()
    if not note:
        raise Invalid("Say why (note) before changing the schema.", fields={"note": ["Required."]})
    with transaction.atomic():
        current, version = schema_version_publish(
            project=project,
            classes=plan.classes,
            mapping=plan.mapping,
            instructions=plan.instructions,
            transcript_rules=plan.transcript_rules,
            note=note,
            actor=actor,
            action=f"schema.{op}",
            expected_parent_id=plan.base_version_id,
            audit_after={"classes": [c["name"] for c in plan.classes], "note": note},
        )
        items_answers_wanted_add(project=project, extra=plan.requeue)
        SchemaChange.objects.create(
            project=project,
            from_version=current,
            to_version=version,
            op=op,
            params=params,
            note=note,
            before=preview["before"],
            after=preview["after"],
            requeued_items=len(plan.requeue),
            created_by=actor,
        )
        try:
            run_id = agreement_run_request(
                project=project, requested_by=actor, trigger=RunTrigger.SCHEMA_CHANGE
            ).id
        except Conflict:
            run_id = None  # a run is in flight: the next one, once it lands, measures the new version
            agreement_run_soon_on_commit(project_id=project.id)
    return {"dry_run": False, "schema_version": version.number, "agreement_run": run_id, **preview}
