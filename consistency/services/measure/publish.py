"""Writing a run's per-item results: columns in, one table per run out.

On PostgreSQL ``consistency_itemresult`` is partitioned by run (migration 0008). A run's rows
go into a fresh table, joined to their few distinct values in one INSERT (``result_rows``;
``COPY`` of CSV when they are many), its indexes are built once after the load (a sort each,
against one b-tree insertion per row and index before), and the table is attached as the
run's partition. A CHECK on ``run_id`` added before the load lets the attach skip its scan. All of
it runs in the caller's transaction: readers see the whole run or none of it.
"""

import json
import threading
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection, transaction

from consistency.models import ItemResult
from consistency.services.measure.result_rows import (
    DEFAULTS,
    JSON_COLUMNS,
    MAX_JOINED_TAILS,
    RESULT_COLUMNS,
    TEXT_COLUMNS,
    csv_chunks,
    tails_insert,
    tails_of,
)

__all__ = ["JSON_COLUMNS", "RESULT_COLUMNS"]  # read here by the run's other modules

# The partition's indexes are the parent's (the model's Meta, migrations 0008 and 0011), read
# from the catalog: ATTACH adopts an index only where columns and predicate match exactly, and
# silently builds its own otherwise (seconds at 1M rows).
PARENT_INDEXES = """
    SELECT c.relname, pg_get_indexdef(x.indexrelid), con.conname, pg_get_constraintdef(con.oid)
    FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
    LEFT JOIN pg_constraint con ON con.conindid = x.indexrelid AND con.conrelid = x.indrelid
    WHERE x.indrelid = 'consistency_itemresult'::regclass AND x.indexrelid <> ALL (
        SELECT conindid FROM pg_constraint WHERE contype = 'p' AND conrelid = x.indrelid)
    ORDER BY c.relname
"""


def _partition_indexes(cursor, table: str) -> list[str]:
    """The statements that give ``table`` the parent's unique constraints and indexes."""
    cursor.execute(PARENT_INDEXES)
    statements = []
    for name, definition, constraint, constraint_definition in cursor.fetchall():
        own = f"{table}_{name.removeprefix('itemresult_')}"
        if constraint is not None:
            statements.append(f"ALTER TABLE {table} ADD CONSTRAINT {own} {constraint_definition}")
        else:
            # "CREATE INDEX name ON ONLY public.consistency_itemresult USING btree (...) WHERE ..."
            statements.append(f"CREATE INDEX {own} ON {table} USING {definition.split(' USING ', 1)[1]}")
    return statements


def partition_table(run_id: int) -> str:
    """The name of a run's own partition (the retention rule drops it by this name)."""
    return f"consistency_itemresult_run_{int(run_id)}"


def results_frame_from_rows(rows: Iterable[dict]) -> pd.DataFrame:
    """Per-item result dicts (the shape and transcription kinds) as a results frame: JSON
    columns as JSON text, the rest as plain values."""
    table: dict[str, list[Any]] = {name: [] for name in RESULT_COLUMNS}
    for row in rows:
        for name in RESULT_COLUMNS:
            value = row.get(name, DEFAULTS.get(name))
            if name in JSON_COLUMNS:
                value = None if value is None else json.dumps(value)
            elif name in TEXT_COLUMNS:
                value = value or ""
            elif hasattr(value, "item"):
                value = value.item()
            table[name].append(value)
    frame = pd.DataFrame(table, columns=list(RESULT_COLUMNS))
    for name in ("item_id", "n_answers", "n_skipped"):
        frame[name] = frame[name].astype(np.int64)
    for name in ("confidence", "agreement", "disagreement", "label_quality"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(np.float64)
    frame["is_tie"] = frame["is_tie"].astype(bool)
    return frame


def results_publish(
    *, run_id: int, results: pd.DataFrame | None, staged: "StagedResults | None" = None
) -> None:
    """Replace the run's per-item results with ``results`` (a results frame: RESULT_COLUMNS,
    JSON columns as text), or with the partition ``staged`` loaded for them (``results`` is
    then not read). Call inside the transaction that marks the run succeeded."""
    if connection.vendor == "postgresql":
        # Publishers take the parent table first, one at a time: the DELETE below locks every
        # partition (the default one too) and ATTACH then wants the default partition alone.
        # Two runs of different projects publishing at once deadlocked on exactly that (A held
        # the parent for its ATTACH, B the default partition from its DELETE; seen with two
        # workers). Readers and labeling do not take this lock mode and are not held.
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE ONLY consistency_itemresult IN SHARE UPDATE EXCLUSIVE MODE")
    ItemResult.objects.filter(run_id=run_id).delete()  # a redelivered run may have left rows
    if staged is None and results is None:
        raise ValueError("results_publish needs the results or their staged load")
    if connection.vendor != "postgresql":
        assert results is not None  # staged loads are PostgreSQL's
        _bulk_create(run_id, results)
        return
    run_id = int(run_id)
    with connection.cursor() as cursor:
        if staged is not None:
            staged.wait()
        else:
            assert results is not None
            _partition_load(cursor, run_id, [results])
        cursor.execute(
            f"ALTER TABLE consistency_itemresult ATTACH PARTITION {partition_table(run_id)} "
            f"FOR VALUES IN ({run_id})"
        )


def _partition_load(cursor, run_id: int, held: list[pd.DataFrame]) -> None:
    """The run's partition, loaded, indexed and analyzed, not yet attached. ``held``: the
    results frame, in a list this empties once its tails are known (the rows need only them and
    the item ids): with no other holder, the frame goes before the rows are written."""
    results = held[0]
    table = partition_table(run_id)
    columns = ", ".join(("id", "run_id", *RESULT_COLUMNS))
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    cursor.execute(f"DROP TABLE IF EXISTS {table}")  # left by an attempt that died
    cursor.execute(
        f"CREATE TABLE {table} (LIKE consistency_itemresult INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
    )
    cursor.execute(
        f"ALTER TABLE {table} ALTER COLUMN id SET DEFAULT "
        "nextval(pg_get_serial_sequence('consistency_itemresult', 'id')), "
        f"ADD CONSTRAINT {table}_run CHECK (run_id = {run_id})"
    )
    first_id = _ids_reserve(cursor, len(results))
    tails = tails_of(results)
    item_ids = [results["item_id"].to_numpy(dtype=np.int64, copy=True)]  # not a view into the frame
    held.clear()
    del results
    if tails is not None and len(tails) <= MAX_JOINED_TAILS:
        tails_insert(cursor, table, run_id, first_id, item_ids, tails)
    elif tails is not None:
        with cursor.cursor.copy(
            f"COPY {table} ({columns}) FROM STDIN "
            "(FORMAT csv, NULL '\\N', FORCE_NOT_NULL (method, first_class, second_class))"
        ) as copy:
            for chunk in csv_chunks(run_id, first_id, item_ids.pop(), tails):
                copy.write(chunk)
    # The tails (on the COPY path, their codes: four bytes per row and column) go before the index
    # builds, which last while the report's sections, HLP and its memory peak, are computed;
    # the joined INSERT let go of its codes before it ran (``tails_insert``).
    del tails
    for statement in _partition_indexes(cursor, table):
        cursor.execute(statement)
    # The pages' plans read these rows right away. by_method is only ever displayed: its
    # statistics (about a third of ANALYZE's time at 1M rows) would serve no plan.
    analyzed = ", ".join(("id", "run_id", *(c for c in RESULT_COLUMNS if c != "by_method")))
    cursor.execute(f"ANALYZE {table} ({analyzed})")


class StagedResults:
    """A run's partition loaded on a connection of its own (a thread) while the worker
    computes the rest of the report: the load is PostgreSQL's work (the rows, five index builds,
    ANALYZE: about 9 s at 1M items), the report's sections are Python's (about 6 s), and the
    machine has two cores. The table is committed detached: no reader sees it until
    ``results_publish`` attaches it in the transaction that marks the run succeeded. A run
    that fails calls ``discard``; one whose worker died leaves a detached table that its
    next attempt replaces (``_partition_load``) and ``run_retention`` sweeps."""

    def __init__(self, *, run_id: int, results: pd.DataFrame) -> None:
        self.run_id = int(run_id)
        self._error: Exception | None = None
        # The load's own hold on the results (the run lets go of them: ``measure_categorical``),
        # emptied as soon as the rows no longer need them.
        self._held = [results]
        self._thread = threading.Thread(target=self._load, name=f"stage run {self.run_id}", daemon=True)
        self._thread.start()

    def _load(self) -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                _partition_load(cursor, self.run_id, self._held)
        except Exception as exc:  # noqa: BLE001 (re-raised in the worker's thread by wait())
            self._error = exc
        finally:
            connection.close()  # this thread's own connection

    def wait(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error

    def discard(self) -> None:
        """Drop the loaded table unless it was attached (the run failed after the load)."""
        self._thread.join()
        partition_detached_drop(run_id=self.run_id)


def results_stage(*, run_id: int, results: pd.DataFrame) -> StagedResults | None:
    """Start loading the run's partition now (PostgreSQL); None where there is nothing to
    overlap (SQLite writes its rows at publish time)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        # Inside a transaction (tests' django_db) a second connection would commit a table
        # the caller's transaction then attaches: keep the load in that transaction.
        return None
    return StagedResults(run_id=run_id, results=results)


def partition_detached_drop(*, run_id: int) -> bool:
    """Drop the run's partition table if it exists and is not attached; True if dropped.
    The table is locked before the check, so an attach cannot slip in between."""
    table = partition_table(run_id)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [table])
        if cursor.fetchone()[0] is None:
            return False
        cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        cursor.execute("SELECT 1 FROM pg_inherits WHERE inhrelid = %s::regclass", [table])
        if cursor.fetchone() is not None:
            return False
        cursor.execute(f"DROP TABLE {table}")
    return True


def partitions_unattached() -> list[int]:
    """Runs whose loaded partition was never attached (the run failed or its worker died
    between the load and the publish)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relkind = 'r' AND c.relname LIKE %s "
            "AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)",
            ["consistency\\_itemresult\\_run\\_%"],  # partition_table's names
        )
        names = [row[0] for row in cursor.fetchall()]
    suffixes = (name.rsplit("_", 1)[1] for name in names)
    return sorted(int(suffix) for suffix in suffixes if suffix.isdigit())


def _ids_reserve(cursor, n: int) -> int:
    """The first of ``n`` consecutive row ids, taken from the table's identity sequence in
    one step. A ``nextval`` per row (the column's default) cost more than half of the COPY
    (5.5 of 9.9 s for 1M rows). Publishers reserve one at a time (the parent lock above);
    rows inserted through the ORM (tests, SQLite) draw from the same sequence."""
    if n == 0:
        return 0
    cursor.execute(
        "SELECT setval(seq, nextval(seq) + %s - 1) FROM "
        "(SELECT pg_get_serial_sequence('consistency_itemresult', 'id')::regclass AS seq) s",
        [n],
    )
    return int(cursor.fetchone()[0]) - n + 1


def _bulk_create(run_id: int, results: pd.DataFrame) -> None:
    objects = []
    for row in results.to_dict("records"):
        for name in JSON_COLUMNS:
            row[name] = None if pd.isna(row[name]) else json.loads(row[name])
        for name in ("confidence", "agreement", "label_quality"):
            if row[name] is not None and np.isnan(row[name]):
                row[name] = None
        objects.append(ItemResult(run_id=run_id, **row))
    ItemResult.objects.bulk_create(objects, batch_size=5_000)
