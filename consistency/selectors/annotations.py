"""Annotations as a frame for the metrics core, streamed from the database.

Answers given under older schema versions are mapped to the run's version here, at read
time (annotations themselves are never rewritten).
"""

import csv
import io
import json
import struct
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models.fields.json import KeyTextTransform
from psycopg import sql

from consistency.metrics.frames import narrow
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


@dataclass
class _AnswerColumns:
    items: np.ndarray  # int32 when every id fits, else int64 (as labelers)
    labelers: np.ndarray
    skipped: np.ndarray
    keys: np.ndarray  # int32: the index of the answer's (version id, value text) in ``pairs``
    pairs: list  # distinct (schema version id, JSON text of the value or None for SQL NULL)


COPY_CHUNK_BYTES = 32 << 20


def _orm_answers(*, project_id: int) -> _AnswerColumns:
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
    return _AnswerColumns(
        items=np.asarray([r[0] for r in rows], dtype=np.int64),
        labelers=np.asarray([r[1] for r in rows], dtype=np.int64),
        skipped=np.asarray([bool(r[2]) for r in rows], dtype=bool),
        keys=np.asarray(keys, dtype=np.int32),
        pairs=list(pair_codes),
    )


def _ids(values: np.ndarray) -> np.ndarray:
    """Ids as int32 when they fit (half the memory), else as they are: chunks of both widths
    concatenate to int64."""
    if len(values) and values.min() >= -(2**31) and values.max() < 2**31:
        return values.astype(np.int32)
    return values


# The answers go out a block of annotation ids per COPY row: one tab-separated line per answer,
# the lines of a block joined in PostgreSQL. A COPY row per answer cost more than the rest of the
# read (psycopg hands over one message at a time: 2.4-2.7 s of Python for 3M answers, and 1 s more
# of PostgreSQL's own COPY work); a block is one message, parsed a chunk at a time by pandas' C reader.
# jsonb's text never holds a raw tab or newline (it escapes them), so the value needs no quoting.
ANSWER_BLOCKS = (
    "COPY (SELECT string_agg(concat_ws(E'\\t', a.item_id, a.labeler_id, (a.skip_reason <> '')::int, "
    "a.schema_version_id, coalesce(a.value::text, '')), E'\\n') "
    "FROM labeling_annotation a {where} AND a.is_current GROUP BY a.id >> {shift}) TO STDOUT (FORMAT binary)"
)
_BY_PROJECT = "JOIN labeling_item i ON i.id = a.item_id WHERE i.project_id = %s"
_BY_ITEM_RANGE = "WHERE a.item_id BETWEEN %s AND %s"
# The blocks' texts stay in the aggregate's hash table until the last answer is read (about
# 20 bytes an answer): with the default 4 MB they spilled to disk, a second pass over them all.
ANSWER_BLOCKS_WORK_MEM = "64MB"
ANSWER_BLOCK_SHIFT = 16  # up to 65,536 answers (about 1.3 MB) a block, however many an item has
_BINARY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_FIELDS = ["item", "labeler", "skipped", "version", "value"]
_DTYPES = {"item": np.int64, "labeler": np.int64, "skipped": np.int8, "version": np.int64, "value": "category"}


def _block_text(message: memoryview) -> bytes | None:
    """The text of one binary COPY row (one field), or None for the stream's header and
    trailer. The header may share a message with the first row."""
    data = bytes(message)
    if data.startswith(_BINARY_SIGNATURE):
        extension = int.from_bytes(data[15:19], "big")
        data = data[19 + extension :]
    if len(data) < 6:  # the trailer (-1 fields) or an empty remainder of the header
        return None
    (length,) = struct.unpack_from(">i", data, 2)
    return data[6 : 6 + length] if length >= 0 else None


def _answers_where(cursor, project_id: int) -> tuple[str, list[int]]:
    """Which answers are the project's: those of its item id range when its items hold every id
    in it (the common case: items are imported in batches), else a join with its items. The
    join with 1M items was half of PostgreSQL's time for the read (2.6 → 1.4 s at 1M × 3)."""
    cursor.execute("SELECT min(id), max(id), count(*) FROM labeling_item WHERE project_id = %s", [project_id])
    low, high, count = cursor.fetchone()
    if count and high - low + 1 == count:
        return _BY_ITEM_RANGE, [low, high]
    return _BY_PROJECT, [project_id]


def _copy_answers(*, project_id: int) -> _AnswerColumns:
    """The project's current answers through ``COPY`` a block at a time (bounded memory): ids
    as int32 where they fit, each answer's schema version and value as one int32 code into
    their distinct pairs."""
    parts: dict[str, list] = {"items": [], "labelers": [], "skipped": [], "keys": []}
    pair_codes: dict = {}
    if connection.vendor != "postgresql":  # SQLite (`make run`): the same columns through the ORM
        return _orm_answers(project_id=project_id)

    def parse(data: bytes) -> None:
        frame = pd.read_csv(
            io.BytesIO(data),
            sep="\t",
            quoting=csv.QUOTE_NONE,  # jsonb's text has no raw tab or newline: nothing is quoted
            header=None,
            names=_FIELDS,
            dtype=_DTYPES,
            keep_default_na=False,
            na_values={"value": [""]},  # SQL NULL; JSON null is the text null
        )
        # The chunk's distinct (version, text) pairs, numbered in the order they first appear.
        text_code, texts = pd.factorize(frame["value"], use_na_sentinel=True)
        version_code, versions = pd.factorize(frame["version"])
        width = len(texts) + 1
        pair_code, local_pairs = pd.factorize(version_code * width + (text_code + 1))
        names = [None, *texts.tolist()]
        lookup = np.empty(len(local_pairs), dtype=np.int32)
        for j, pair in enumerate(local_pairs.tolist()):
            version, text = divmod(pair, width)
            lookup[j] = pair_codes.setdefault((int(versions[version]), names[text]), len(pair_codes))
        parts["keys"].append(lookup[pair_code])
        parts["items"].append(_ids(frame["item"].to_numpy()))
        parts["labelers"].append(_ids(frame["labeler"].to_numpy()))
        parts["skipped"].append(frame["skipped"].to_numpy().astype(bool))

    blocks: list[bytes] = []
    size = 0
    with transaction.atomic(), connection.cursor() as cursor:
        where, params = _answers_where(cursor, project_id)
        statement = ANSWER_BLOCKS.format(where=where, shift=int(ANSWER_BLOCK_SHIFT))
        cursor.execute(
            "SELECT current_setting('work_mem'), set_config('work_mem', %s, true)", [ANSWER_BLOCKS_WORK_MEM]
        )
        work_mem = cursor.fetchone()[0]
        with cursor.cursor.copy(statement, params) as copy:
            for message in copy:
                text = _block_text(message)
                if text is None:
                    continue
                blocks.append(text)
                size += len(text)
                if size >= COPY_CHUNK_BYTES:
                    parse(b"\n".join(blocks))
                    blocks, size = [], 0
        cursor.execute("SELECT set_config('work_mem', %s, true)", [work_mem])  # the caller's, if any
    if blocks:
        parse(b"\n".join(blocks))
    blocks.clear()
    if not parts["items"]:
        empty = np.zeros(0, dtype=np.int64)
        return _AnswerColumns(empty, empty, np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int32), [])
    # One column at a time, its chunks let go as soon as it is whole.
    whole = {name: _concatenate(parts, name) for name in ("items", "labelers", "skipped", "keys")}
    return _AnswerColumns(**whole, pairs=list(pair_codes))


def _concatenate(parts: dict[str, list], name: str) -> np.ndarray:
    out = np.concatenate(parts[name])
    parts[name].clear()
    return out


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
