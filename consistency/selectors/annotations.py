"""Annotations as a frame for the metrics core, streamed from the database.

Answers given under older schema versions are mapped to the run's version here, at read
time (annotations themselves are never rewritten).
"""

import numpy as np
import pandas as pd
from django.db.models.fields.json import KeyTextTransform

from labeling.models import Annotation, Item, LabelSchemaVersion, PrelabelExposure, Project

CHUNK = 20_000


def version_mappings(
    *, project: Project, to_version: LabelSchemaVersion, versions: list[LabelSchemaVersion] | None = None
) -> dict[int, dict]:
    """For each ancestor version id: how its class names read under ``to_version``.

    Each version stores the mapping from its parent; the chain is composed here. A name
    mapped to None means the answer must be given again under the new version.
    """
    if versions is None:
        versions = list(LabelSchemaVersion.objects.filter(project=project))
    versions = {v.id: v for v in versions}
    result: dict[int, dict] = {to_version.id: {}}
    # Walk each version up to the target, composing mappings top-down.
    for version in versions.values():
        chain = []
        current = versions.get(to_version.id)
        while current is not None and current.id != version.id:
            chain.append(current.mapping or {})
            current = versions.get(current.parent_id)
        if current is None:
            continue  # not an ancestor of the target (a sibling branch): no mapping
        result[version.id] = _compose(list(reversed(chain)))
    return result


def _compose(mappings: list[dict]) -> dict:
    composed: dict = {}
    names: set = set()
    for mapping in mappings:
        names |= set(mapping)
    for name in names:
        value = name
        for mapping in mappings:
            if value is None:
                break
            value = mapping.get(value, value)
        if value != name:
            composed[name] = value
    return composed


def _map_value(value, mapping: dict):
    if not mapping or value is None:
        return value
    if isinstance(value, str):
        return mapping.get(value, value)
    if isinstance(value, list):
        if value and isinstance(value[0], dict):  # boxes
            return [
                {**box, "class": mapping.get(box.get("class"), box.get("class"))}
                for box in value
                if mapping.get(box.get("class"), box.get("class")) is not None
            ]
        mapped = [mapping.get(v, v) for v in value]
        return sorted({v for v in mapped if v is not None})
    return value


def annotations_frame(*, project: Project, schema_version: LabelSchemaVersion) -> pd.DataFrame:
    """Current answers: columns item, labeler, value, skipped (bool), needs_relabel (bool) and
    schema_version (the number the answer was given under).

    Values are mapped to ``schema_version``; answers whose class no longer exists (a split
    class) come back with value None and ``needs_relabel`` True.
    """
    mappings = version_mappings(project=project, to_version=schema_version)
    numbers = dict(LabelSchemaVersion.objects.filter(project=project).values_list("id", "number"))
    items, labelers, values, skipped, relabel, versions = [], [], [], [], [], []
    rows = (
        Annotation.objects.filter(item__project=project, is_current=True)
        .order_by()
        .values_list("item_id", "labeler_id", "value", "skip_reason", "schema_version_id")
        .iterator(chunk_size=CHUNK)
    )
    for item_id, labeler_id, value, skip_reason, version_id in rows:
        mapping = mappings.get(version_id, {})
        mapped = _map_value(value, mapping)
        items.append(item_id)
        labelers.append(labeler_id)
        values.append(mapped)
        skipped.append(bool(skip_reason))
        relabel.append(value is not None and mapped is None)
        versions.append(numbers[version_id])
    return pd.DataFrame(
        {
            "item": np.asarray(items, dtype=np.int64),
            "labeler": np.asarray(labelers, dtype=np.int64),
            "value": pd.Series(values, dtype=object),
            "skipped": np.asarray(skipped, dtype=bool),
            "needs_relabel": np.asarray(relabel, dtype=bool),
            "schema_version": np.asarray(versions, dtype=np.int64),
        }
    )


def item_slices(*, project: Project, max_fields: int = 20) -> pd.DataFrame:
    """Item metadata as a frame indexed by item id, one column per metadata field (as text)."""
    keys = set()
    for metadata in (
        Item.objects.filter(project=project).exclude(metadata={}).values_list("metadata", flat=True)[:1000]
    ):
        if isinstance(metadata, dict):
            # Keys starting with "_" are private (e.g. generated truth in the demo), not slices.
            keys |= {
                k
                for k, v in metadata.items()
                if isinstance(v, str | int | float | bool) and not k.startswith("_")
            }
    keys = sorted(keys)[:max_fields]
    if not keys:
        return pd.DataFrame(index=pd.Index([], name="item", dtype=np.int64))
    annotations = {f"m{i}": KeyTextTransform(key, "metadata") for i, key in enumerate(keys)}
    rows = (
        Item.objects.filter(project=project)
        .annotate(**annotations)
        .values_list("id", *annotations)
        .iterator(chunk_size=CHUNK)
    )
    frame = pd.DataFrame.from_records(rows, columns=["item", *keys])
    return frame.set_index("item")


def prelabel_exposures_frame(*, project: Project) -> pd.DataFrame:
    """What labelers were shown with pre-labels on: item, labeler, shown, model_version, suggestion."""
    rows = PrelabelExposure.objects.filter(assignment__project=project).values_list(
        "assignment__item_id", "assignment__labeler_id", "shown", "model_version", "suggestion"
    )
    columns = ["item", "labeler", "shown", "model_version", "suggestion"]
    return pd.DataFrame.from_records(list(rows.iterator(chunk_size=20_000)), columns=columns)
