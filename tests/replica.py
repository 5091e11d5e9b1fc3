"""A real streaming replica for the tests: a temporary primary cluster and a hot standby made by
``pg_basebackup -R``, from the machine's PostgreSQL binaries, on two free ports in a temp dir
(trust auth, loopback only), stopped and removed afterwards. The system cluster on 5432 has no
replication entry in pg_hba.conf, so it is not the primary here; its test database lends its
schema (a dump is ~1 s, migrating from scratch ~20 s)."""

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from tests.objectstore import free_port, wait_for_port

DATABASE = "concord"


def _bin(name: str) -> str:
    """The newest installed PostgreSQL's tool (``pg_dump``/``psql`` are on PATH as wrappers)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError(f"No PostgreSQL {name} under /usr/lib/postgresql (apt-get install postgresql).")
    return found[-1]


def _as_postgres(args: list[str]) -> list[str]:
    """initdb and pg_ctl refuse to run as root (CI runs as root)."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class ReplicaPair:
    def __init__(self, folder: Path):
        self.folder = folder
        self.primary_port, self.standby_port = free_port(), free_port()
        self.starting: Future | None = None  # the fixture starts the clusters in the background

    def started(self) -> "ReplicaPair":
        """Waits until both clusters run (gunicorn can import Django meanwhile)."""
        if self.starting is not None:
            self.starting.result()
        return self

    def _ctl(self, node: str, action: str, port: int, *extra: str) -> None:
        options = f"-p {port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        command = [_bin("pg_ctl"), "-D", str(self.folder / node), "-l", str(self.folder / f"{node}.log")]
        subprocess.run(
            _as_postgres([*command, "-o", options, "-w", "-t", "30", *extra, action]),
            check=True,
            capture_output=True,
        )

    def start(self, schema_from: dict) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        self.folder.chmod(0o755)
        initdb = [_bin("initdb"), "-D", str(self.folder / "primary"), "-A", "trust", "-U", "postgres"]
        subprocess.run(_as_postgres([*initdb, "-E", "UTF8", "--no-sync"]), check=True, capture_output=True)
        # initdb's pg_hba.conf already trusts replication connections from 127.0.0.1.
        self._ctl("primary", "start", self.primary_port)
        wait_for_port(self.primary_port)
        self._copy_schema(schema_from)
        backup = [_bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres"]
        subprocess.run(
            _as_postgres([*backup, "-D", str(self.folder / "standby"), "-R", "-X", "stream", "-c", "fast"]),
            check=True,
            capture_output=True,
        )
        self.start_standby()

    def _copy_schema(self, db: dict) -> None:
        """The migrated schema and Django's own rows (migrations, content types, permissions)."""
        source = [
            "-h",
            db["HOST"] or "localhost",
            "-p",
            str(db["PORT"] or 5432),
            "-U",
            db["USER"] or "postgres",
        ]
        target = ["-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres"]
        subprocess.run([_bin("createdb"), *target, DATABASE], check=True, capture_output=True)
        tables = ["-t", "django_migrations", "-t", "django_content_type", "-t", "auth_permission"]
        for part in (["--schema-only"], ["--data-only", *tables]):
            dump = subprocess.run(
                [_bin("pg_dump"), *source, "--no-owner", "--no-privileges", *part, db["NAME"]],
                check=True,
                capture_output=True,
            ).stdout
            subprocess.run(
                [_bin("psql"), *target, "-q", "-v", "ON_ERROR_STOP=1", "-d", DATABASE],
                input=dump,
                check=True,
                capture_output=True,
            )

    def start_standby(self) -> None:
        self._ctl("standby", "start", self.standby_port)
        wait_for_port(self.standby_port)

    def stop_standby(self) -> None:
        """Immediate: as a crashed or unreachable replica."""
        self._ctl("standby", "stop", self.standby_port, "-m", "immediate")

    def stop(self) -> None:
        for node, port in (("standby", self.standby_port), ("primary", self.primary_port)):
            if (self.folder / node / "postmaster.pid").exists():
                self._ctl(node, "stop", port, "-m", "immediate")

    def url(self, node: str) -> str:
        port = self.primary_port if node == "primary" else self.standby_port
        return f"postgres://postgres@127.0.0.1:{port}/{DATABASE}"

    def sql(self, node: str, query: str) -> list[tuple]:
        with psycopg.connect(self.url(node).replace("postgres://", "postgresql://"), autocommit=True) as conn:
            cursor = conn.execute(query)
            return cursor.fetchall() if cursor.description else []

    def pause_replay(self, timeout: float = 10) -> None:
        """Until the standby has stopped replaying: the primary's next commits stay off it."""
        self.sql("standby", "SELECT pg_wal_replay_pause()")
        deadline = time.monotonic() + timeout
        while self.sql("standby", "SELECT pg_get_wal_replay_pause_state()")[0][0] != "paused":
            if time.monotonic() > deadline:
                raise RuntimeError("the standby did not pause")
            time.sleep(0.05)

    def resume_replay(self) -> None:
        self.sql("standby", "SELECT pg_wal_replay_resume()")

    def wait_caught_up(self, timeout: float = 10) -> None:
        """Until the standby has replayed everything the primary has written."""
        (target,) = self.sql("primary", "SELECT pg_current_wal_lsn()::text")[0]
        deadline = time.monotonic() + timeout
        while not self.sql("standby", f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")[0][0]:
            if time.monotonic() > deadline:
                raise RuntimeError("the standby did not catch up")
            time.sleep(0.05)

    def seed_start(self) -> subprocess.Popen:
        """A Django process pointed at the primary that builds a project (tests.factories); it
        imports Django at once and touches the database once ``seed`` tells it the clusters run."""
        env = {
            **os.environ,
            "DATABASE_URL": self.url("primary"),
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
        }
        code = "import django; django.setup(); from tests.replica import _seed; input(); _seed()"
        return subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=Path(__file__).parent.parent,
        )

    def seed(self, process: subprocess.Popen) -> dict:
        """The seeded project's id and its manager's token, once the clusters run."""
        self.started()
        out, _ = process.communicate(b"go\n", timeout=120)
        if process.returncode:
            raise RuntimeError("seeding the primary failed")
        return json.loads(out.decode().strip().splitlines()[-1])


SEED_ITEMS = 40


def _seed() -> None:
    """Run inside the seeding process: a manager with a token, 40 items with a finished run's
    consensus (20 "yes", 20 "no"), printed as JSON."""
    from rest_framework.authtoken.models import Token

    from labeling.models import DataType
    from tests.factories import ItemFactory, ProjectFactory, UserFactory, finished_run

    manager = UserFactory(is_staff=True)
    project = ProjectFactory(created_by=manager, data_type=DataType.RECORD, classes=["yes", "no"])
    items = [
        ItemFactory(project=project, external_id=f"row-{i:02d}", data={"n": i}) for i in range(SEED_ITEMS)
    ]
    finished_run(
        project, [{"item": item, "consensus": "yes" if i % 2 else "no"} for i, item in enumerate(items)]
    )
    token = Token.objects.create(user=manager).key
    print(json.dumps({"project": project.id, "token": token}))  # read by ReplicaPair.seed


@pytest.fixture(scope="module")
def replica_pair(django_db_setup, django_db_blocker):
    from django.db import connection

    with django_db_blocker.unblock():
        schema_from = dict(connection.settings_dict)
    # Not under pytest's tmp_path: that is private to root, and the clusters run as postgres.
    folder = Path(tempfile.mkdtemp(prefix="concord-replica-"))
    pair = ReplicaPair(folder)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pair.starting = pool.submit(pair.start, schema_from)
        try:
            yield pair
        finally:
            pair.starting.exception()  # a start still running ends before the clusters stop
            pair.stop()
            shutil.rmtree(folder, ignore_errors=True)
