"""Which database an export's rows are read from: the read replica (``DATABASE_REPLICA_URL``,
the ``replica`` alias) when it is reachable and fresh enough, else the primary.

Explicit, not a database router: only the export's bulk reads (``exports.rows``, ``exports.fast``,
the snapshot job's rows) are handed the alias chosen here, through ``LabelContext.db``. Permission
checks, audit events, job and snapshot rows, and every other read stay on the primary, where a
request always sees its own writes; a global router would send any read to a replica that may
not have the write just made.

Freshness, by default: the product reads decisions live (a reviewer resolves an item, the next
export has it). So before an export reads the replica, the replica must have replayed the WAL up
to where the primary's was when the export began (``pg_current_wal_lsn()`` on the primary,
``pg_last_wal_replay_lsn()`` on the replica, the check GitLab's database load balancing makes
for the same reason): then the replica holds every commit the primary had, and the export is as
live as one read on the primary. A replica behind gets ``CONCORD_REPLICA_WAIT_SECONDS`` to
catch up (streaming replicas are usually well under a second behind), then the primary serves
the export. ``CONCORD_REPLICA_MAX_LAG_SECONDS`` > 0 accepts a replica that much behind (the age
of its last replayed commit, ``pg_last_xact_replay_timestamp()``), for teams that prefer
sparing the primary to the last seconds of answers.

A replica unreachable (or not a standby at all) never fails an export: the primary serves it, as
it would without a replica, and the response says so (``ExportSource.headers``).
"""

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class ExportSource:
    alias: str  # the database alias the export reads
    lag_seconds: float | None = None  # from the replica: at most this far behind the primary (0: caught up)
    skipped: str = ""  # why a configured replica was not read: "unreachable", "behind", "not_a_standby"

    @property
    def from_replica(self) -> bool:
        return self.alias == REPLICA

    def headers(self) -> dict[str, str]:
        """What the response says about it; nothing when no replica is configured."""
        if not replica_configured():
            return {}
        if self.from_replica:
            return {"X-Concord-Read-From": "replica", "X-Concord-Replica-Lag": f"{self.lag_seconds:.3f}"}
        return {"X-Concord-Read-From": "primary", "X-Concord-Replica-Skipped": self.skipped}

    def as_dict(self) -> dict:
        """For a job's result: where a snapshot's rows were read."""
        return {
            "read_from": "replica" if self.from_replica else "primary",
            "replica_lag_seconds": self.lag_seconds,
            "replica_skipped": self.skipped or None,
        }


PRIMARY = ExportSource(alias=DEFAULT_DB_ALIAS)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def _primary_position() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        return cursor.fetchone()[0]


def _replica_state(target: str) -> tuple[bool, bool, float | None]:
    """(is a standby, has replayed up to ``target``, age in seconds of its last replayed commit)."""
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(
            "SELECT pg_is_in_recovery(), coalesce(pg_last_wal_replay_lsn() >= %s::pg_lsn, false), "
            "extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8",
            [target],
        )
        standby, caught_up, age = cursor.fetchone()
    return standby, caught_up, age


def _unreachable(exc: Exception) -> ExportSource:
    logger.warning("read replica unreachable, the export reads the primary: %s", exc)
    # A half-open connection would fail the next export the same way: open a fresh one then.
    connections[REPLICA].close_if_unusable_or_obsolete()
    return ExportSource(alias=DEFAULT_DB_ALIAS, skipped="unreachable")


def source_verdict(
    *, standby: bool, caught_up: bool, age: float | None, max_lag: float, waited_out: bool
) -> ExportSource | None:
    """The source after one look at the replica (``_replica_state``); None: look again soon."""
    if not standby:  # promoted, or pointed at a primary: its data may have parted from ours
        return ExportSource(alias=DEFAULT_DB_ALIAS, skipped="not_a_standby")
    if caught_up:
        return ExportSource(alias=REPLICA, lag_seconds=0.0)
    if max_lag > 0 and age is not None and age <= max_lag:
        return ExportSource(alias=REPLICA, lag_seconds=max(age, 0.0))
    if waited_out:
        return ExportSource(alias=DEFAULT_DB_ALIAS, skipped="behind")
    return None


def export_source_get() -> ExportSource:
    """The database this export reads (see the module's docstring)."""
    if not replica_configured():
        return PRIMARY
    target = _primary_position()
    deadline = time.monotonic() + settings.CONCORD_REPLICA_WAIT_SECONDS
    while True:
        try:
            standby, caught_up, age = _replica_state(target)
        except DatabaseError as exc:
            return _unreachable(exc)
        source = source_verdict(
            standby=standby,
            caught_up=caught_up,
            age=age,
            max_lag=settings.CONCORD_REPLICA_MAX_LAG_SECONDS,
            waited_out=time.monotonic() >= deadline,
        )
        if source is not None:
            if not source.from_replica:
                logger.warning("exports read the primary: the read replica is %s", source.skipped)
            return source
        time.sleep(POLL_SECONDS)
