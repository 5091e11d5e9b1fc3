"""A project's current answers read from PostgreSQL with ``COPY``, a block of answers per COPY
row, into numpy columns (``annotations.annotations_frame`` decodes and maps their values).

A COPY row per answer cost more than the rest of the read (psycopg hands over one message at a
time: 2.4-2.7 s of Python for 3M answers, and 1 s more of PostgreSQL's own COPY work). So the
tab-separated line of each answer is joined, a block of annotation ids at a time, in PostgreSQL;
a block is one message, parsed a chunk at a time by pandas' C reader. jsonb's text never holds a
raw tab or newline (it escapes them), so the value needs no quoting.

A large project whose items hold every id of their range is read as two halves of that range on
two connections at once (PostgreSQL's aggregate is one core's work, and it answers only once it
has read every answer): 1M × 3 answers, 1.4-1.6 s of PostgreSQL's time → about 1.0 s.
"""

import csv
import io
import struct
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from django.db import connection, transaction

from core.beside import Beside


@dataclass
class AnswerColumns:
    items: np.ndarray  # int32 when every id fits, else int64 (as labelers)
    labelers: np.ndarray
    skipped: np.ndarray
    keys: np.ndarray  # int32: the index of the answer's (version id, value text) in ``pairs``
    pairs: list  # distinct (schema version id, JSON text of the value or None for SQL NULL)


ANSWER_BLOCKS = (
    "COPY (SELECT string_agg(concat_ws(E'\\t', a.item_id, a.labeler_id, (a.skip_reason <> '')::int, "
    "a.schema_version_id, coalesce(a.value::text, '')), E'\\n') "
    "FROM labeling_annotation a {where} AND a.is_current GROUP BY a.id >> {shift}) TO STDOUT (FORMAT binary)"
)
BY_PROJECT = "JOIN labeling_item i ON i.id = a.item_id WHERE i.project_id = %s"
BY_ITEM_RANGE = "WHERE a.item_id BETWEEN %s AND %s"
# The blocks' texts stay in the aggregate's hash table until the last answer is read (about
# 20 bytes an answer): with the default 4 MB they spilled to disk, a second pass over them all.
ANSWER_BLOCKS_WORK_MEM = "64MB"
ANSWER_BLOCK_SHIFT = 16  # up to 65,536 answers (about 1.3 MB) a block, however many an item has
COPY_CHUNK_BYTES = 32 << 20
# From this many items in one id range, its two halves are read side by side.
SPLIT_FROM_ITEMS = 200_000
_BINARY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_FIELDS = ["item", "labeler", "skipped", "version", "value"]
# The values straight into categories: pandas' C reader makes no Python text per answer.
_DTYPES = {
    "item": np.int64,
    "labeler": np.int64,
    "skipped": np.int8,
    "version": np.int64,
    "value": "category",
}


def ids_narrow(values: np.ndarray) -> np.ndarray:
    """Ids as int32 when they fit (half the memory), else as they are: chunks of both widths
    concatenate to int64."""
    if len(values) and values.min() >= -(2**31) and values.max() < 2**31:
        return values.astype(np.int32)
    return values


def block_text(message: memoryview) -> bytes | None:
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


def answers_parts(cursor, project_id: int) -> list[tuple[str, list[int]]]:
    """Which answers are the project's, as one or two parts to read: those of its item id range
    when its items hold every id in it (the common case: items are imported in batches), else a
    join with its items. The join with 1M items was half of PostgreSQL's time for the read
    (2.6 → 1.4 s at 1M × 3)."""
    cursor.execute("SELECT min(id), max(id), count(*) FROM labeling_item WHERE project_id = %s", [project_id])
    low, high, count = cursor.fetchone()
    if not count or high - low + 1 != count:
        return [(BY_PROJECT, [project_id])]
    if count < SPLIT_FROM_ITEMS:
        return [(BY_ITEM_RANGE, [low, high])]
    middle = low + count // 2
    return [(BY_ITEM_RANGE, [low, middle - 1]), (BY_ITEM_RANGE, [middle, high])]


def answers_copy(*, project_id: int) -> AnswerColumns:
    """The project's current answers (PostgreSQL), in a bounded memory: ids as int32 where they
    fit, each answer's schema version and value as one int32 code into their distinct pairs. The
    parts come in their order, each part's blocks in PostgreSQL's."""
    with transaction.atomic(), connection.cursor() as cursor:
        parts = answers_parts(cursor, project_id)
    # The second half on a connection of its own (in place inside a caller's transaction).
    later = [
        Beside(partial(_part_read, *part), name=f"answers of project {project_id}, part {n}")
        for n, part in enumerate(parts[1:], start=2)
    ]
    read = [_part_read(*parts[0]), *(part.result() for part in later)]
    pair_codes: dict = {}
    columns: dict[str, list] = {"items": [], "labelers": [], "skipped": [], "keys": []}
    for part in read:
        if len(part.items) == 0:  # an empty half would widen the other's ids to int64
            continue
        lookup = np.asarray(
            [pair_codes.setdefault(pair, len(pair_codes)) for pair in part.pairs] or [0], dtype=np.int32
        )
        columns["keys"].append(lookup[part.keys])
        for name in ("items", "labelers", "skipped"):
            columns[name].append(getattr(part, name))
    read.clear()
    return _whole(columns, list(pair_codes))


def _part_read(where: str, params: list[int]) -> AnswerColumns:
    parts: dict[str, list] = {"items": [], "labelers": [], "skipped": [], "keys": []}
    pair_codes: dict = {}

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
        parts["items"].append(ids_narrow(frame["item"].to_numpy()))
        parts["labelers"].append(ids_narrow(frame["labeler"].to_numpy()))
        parts["skipped"].append(frame["skipped"].to_numpy().astype(bool))

    blocks: list[bytes] = []
    size = 0
    statement = ANSWER_BLOCKS.format(where=where, shift=int(ANSWER_BLOCK_SHIFT))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('work_mem'), set_config('work_mem', %s, true)", [ANSWER_BLOCKS_WORK_MEM]
        )
        work_mem = cursor.fetchone()[0]
        with cursor.cursor.copy(statement, params) as copy:
            for message in copy:
                text = block_text(message)
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
    return _whole(parts, list(pair_codes))


def _whole(parts: dict[str, list], pairs: list) -> AnswerColumns:
    """The columns' chunks as whole columns, one column at a time: each column's chunks are let
    go as soon as it is whole."""
    if not parts["items"]:
        empty = np.zeros(0, dtype=np.int64)
        return AnswerColumns(empty, empty, np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int32), [])
    whole = {}
    for name in ("items", "labelers", "skipped", "keys"):
        whole[name] = np.concatenate(parts[name])
        parts[name].clear()
    return AnswerColumns(**whole, pairs=pairs)
