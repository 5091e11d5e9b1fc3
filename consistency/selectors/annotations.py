"""Annotations as a frame for the metrics core, streamed from the database.

Answers given under older schema versions are mapped to the run's version here, at read
time (annotations themselves are never rewritten).
"""

import io
import json

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models.fields.json import KeyTextTransform
from psycopg import sql

from consistency.metrics.frames import narrow
from consistency.selectors.answer_blocks import AnswerColumns, answers_copy
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
    by_id = {v.id: v for v in versions}
    result: dict[int, dict] = {to_version.id: {}}
    # Walk each version up to the target, composing mappings top-down.
    for version in by_id.values():
        chain = []
        current = by_id.get(to_version.id)
        while current is not None and current.id != version.id:
            chain.append(current.mapping or {})
            current = by_id.get(current.parent_id) if current.parent_id is not None else None
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


def annotations_frame(
    *, project: Project, schema_version: LabelSchemaVersion, categorical: bool = False
) -> pd.DataFrame:
    """Current answers: columns item, labeler, value, skipped (bool), needs_relabel (bool) and
    schema_version (the number the answer was given under).

    ``categorical``: ``value`` as a pandas Categorical (classes and ratings: a few distinct
    hashable values; missing values are NaN), so the metrics group and count class codes
    instead of a Python object per answer.

    Values are mapped to ``schema_version``; answers whose class no longer exists (a split
    class) come back with value None and ``needs_relabel`` True.

    Read with ``COPY`` in chunks into numpy columns; each distinct (version, value) pair is
    decoded and mapped once, so a categorical project costs a few Python objects per class,
    not per answer (answers with the same value share one object).
    """
    mappings = version_mappings(project=project, to_version=schema_version)
    numbers = dict(LabelSchemaVersion.objects.filter(project=project).values_list("id", "number"))
    columns = _copy_answers(project_id=project.id)
    inverse = columns.keys  # the code of each answer's (version, value text) pair
    decoded: dict = {None: None}
    mapped_values = np.empty(len(columns.pairs), dtype=object)
    relabel_of_key = np.zeros(len(columns.pairs), dtype=bool)
    number_of_key = np.zeros(len(columns.pairs), dtype=np.int64)
    for k, (version_id, text) in enumerate(columns.pairs):
        if text not in decoded:
            decoded[text] = json.loads(text)
        value = decoded[text]
        mapped = _map_value(value, mappings.get(version_id, {}))
        mapped_values[k] = mapped
        relabel_of_key[k] = value is not None and mapped is None
        number_of_key[k] = numbers[version_id]
    if categorical:
        # Versions can map different texts to one class: one category per distinct value.
        category_of_key, categories = pd.factorize(mapped_values, use_na_sentinel=True)
        codes = narrow(category_of_key, len(categories))[inverse]  # a byte an answer, not eight
        values = pd.Series(pd.Categorical.from_codes(codes, categories))
    else:
        values = pd.Series(mapped_values[inverse], dtype=object)
    return pd.DataFrame(
        {
            "item": columns.items,
            "labeler": columns.labelers,
            "value": values,
            "skipped": columns.skipped,
            "needs_relabel": relabel_of_key[inverse],
            "schema_version": narrow(number_of_key, int(number_of_key.max(initial=0)) + 1)[inverse],
        },
        copy=False,  # fresh arrays: neither copied nor consolidated into one block
    )


def _orm_answers(*, project_id: int) -> AnswerColumns:
    rows = list(
        Annotation.objects.filter(item__project_id=project_id, is_current=True)
        .order_by()
        .values_list("item_id", "labeler_id", "skip_reason", "schema_version_id", "value")
        .iterator(chunk_size=CHUNK)
    )
    pair_codes: dict = {}
    keys = [
        pair_codes.setdefault((r[3], None if r[4] is None else json.dumps(r[4])), len(pair_codes))
        for r in rows
    ]
    return AnswerColumns(
        items=np.asarray([r[0] for r in rows], dtype=np.int64),
        labelers=np.asarray([r[1] for r in rows], dtype=np.int64),
        skipped=np.asarray([bool(r[2]) for r in rows], dtype=bool),
        keys=np.asarray(keys, dtype=np.int32),
        pairs=list(pair_codes),
    )


def _copy_answers(*, project_id: int) -> AnswerColumns:
    """The project's current answers as numpy columns: COPY in blocks on PostgreSQL
    (``answer_blocks``), the ORM on SQLite (`make run`)."""
    if connection.vendor != "postgresql":
        return _orm_answers(project_id=project_id)
    return answers_copy(project_id=project_id)


def slice_fields(*, project: Project, max_fields: int = 20) -> list[str]:
    """The metadata fields items are sliced by: scalar fields seen in a sample of items."""
    found: set[str] = set()
    for metadata in (
        Item.objects.filter(project=project).exclude(metadata={}).values_list("metadata", flat=True)[:1000]
    ):
        if isinstance(metadata, dict):
            # Keys starting with "_" are private (e.g. generated truth in the demo), not slices.
            found |= {
                k
                for k, v in metadata.items()
                if isinstance(v, str | int | float | bool) and not k.startswith("_")
            }
    return sorted(found)[:max_fields]


def item_slices(*, project: Project, max_fields: int = 20) -> pd.DataFrame:
    """Item metadata as a frame indexed by item id, one column per metadata field (as text;
    None where an item lacks the field)."""
    keys = slice_fields(project=project, max_fields=max_fields)
    if not keys:
        return pd.DataFrame(index=pd.Index([], name="item", dtype=np.int64))
    if connection.vendor == "postgresql":
        return _copy_slices(project_id=project.id, keys=keys)
    return _orm_slices(project_id=project.id, keys=keys)


def _orm_slices(*, project_id: int, keys: list[str]) -> pd.DataFrame:
    annotations = {f"m{i}": KeyTextTransform(key, "metadata") for i, key in enumerate(keys)}
    rows = (
        Item.objects.filter(project_id=project_id)
        .annotate(**annotations)
        .values_list("id", *annotations)
        .iterator(chunk_size=CHUNK)
    )
    frame = pd.DataFrame.from_records(rows, columns=["item", *keys])
    return frame.set_index("item")


def _copy_slices(*, project_id: int, keys: list[str]) -> pd.DataFrame:
    """:func:`item_slices` through ``COPY`` (1M items: a Python tuple per item was most of the
    time). Each field is its text and a flag for SQL NULL, so that an empty text, or a text
    that reads like a NULL marker, stays the text it is."""
    fields = sql.SQL(", ").join(
        sql.SQL("metadata ->> {key}, (metadata ->> {key}) IS NULL").format(key=sql.Literal(key))
        for key in keys
    )
    statement = sql.SQL(
        "COPY (SELECT id, {fields} FROM labeling_item WHERE project_id = {project}) TO STDOUT (FORMAT csv)"
    ).format(fields=fields, project=sql.Literal(int(project_id)))
    names = ["item"] + [name for i in range(len(keys)) for name in (f"v{i}", f"n{i}")]
    buffer = io.BytesIO()
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for data in copy:
            buffer.write(data)
    buffer.seek(0)
    raw = pd.read_csv(  # slice values repeat: as categories, one Python text per distinct value
        buffer,
        header=None,
        names=names,
        dtype={name: (np.int64 if name == "item" else "category") for name in names},
        keep_default_na=False,
    )
    frame = pd.DataFrame(index=pd.Index(raw["item"].to_numpy(), name="item"))
    for i, key in enumerate(keys):
        texts, nulls = raw[f"v{i}"].cat, raw[f"n{i}"].cat
        lookup = np.asarray([*texts.categories, None], dtype=object)  # the last: code -1 (none here)
        values = lookup[texts.codes.to_numpy()]
        values[np.asarray(nulls.categories == "t")[nulls.codes.to_numpy()]] = None
        frame[key] = values
    return frame


def prelabel_exposures_frame(*, project: Project) -> pd.DataFrame:
    """What labelers were shown with pre-labels on: item, labeler, shown, model_version, suggestion."""
    rows = PrelabelExposure.objects.filter(assignment__project=project).values_list(
        "assignment__item_id", "assignment__labeler_id", "shown", "model_version", "suggestion"
    )
    columns = ["item", "labeler", "shown", "model_version", "suggestion"]
    return pd.DataFrame.from_records(list(rows.iterator(chunk_size=20_000)), columns=columns)
