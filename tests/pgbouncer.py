"""PgBouncer (the Debian package) in transaction pooling mode in front of the test database,
started on a free port with an ini of its own; restartable mid-test."""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.objectstore import free_port, wait_for_port

BINARY = "/usr/sbin/pgbouncer"


def _installed() -> str:
    """The pgbouncer binary, installed with apt-get when absent (as .ci/run does)."""
    found = shutil.which("pgbouncer") or (BINARY if Path(BINARY).exists() else None)
    if found:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "pgbouncer"], check=True, env=env, capture_output=True)
    return BINARY


class PgBouncer:
    def __init__(self, folder: Path, upstream_host: str, upstream_port: int):
        self.binary = _installed()
        self.folder = folder
        self.port = free_port()
        (folder / "users.txt").write_text('"postgres" ""\n')
        (folder / "pgbouncer.ini").write_text(
            "\n".join(
                [
                    "[databases]",
                    f"* = host={upstream_host} port={upstream_port}",
                    "[pgbouncer]",
                    "listen_addr = 127.0.0.1",
                    f"listen_port = {self.port}",
                    "unix_socket_dir =",
                    "auth_type = trust",
                    f"auth_file = {folder / 'users.txt'}",
                    "pool_mode = transaction",
                    "max_client_conn = 200",
                    "default_pool_size = 8",
                    # psycopg sends these at connect; PgBouncer must not refuse the client for them.
                    "ignore_startup_parameters = extra_float_digits,options",
                    f"logfile = {folder / 'pgbouncer.log'}",
                    "",
                ]
            )
        )
        # PgBouncer refuses to run as root: as the postgres user then (CI runs as root).
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres")
            for path in folder.iterdir():
                shutil.chown(path, "postgres")
            folder.chmod(0o755)
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [self.binary, str(self.folder / "pgbouncer.ini")]
        if os.geteuid() == 0:
            command[1:1] = ["-u", "postgres"]  # it drops root itself
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stop(self) -> None:
        """SIGTERM: PgBouncer 1.18 exits at once (immediate shutdown), cutting every client and
        server connection, as a crash or a restart by the host would."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def restart(self, pause: float = 0.5) -> None:
        self.stop()
        time.sleep(pause)
        self.start()

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def django_env(self) -> dict[str, str]:
        """The environment that points a Django process at the test database through PgBouncer."""
        from django.db import connection

        return {"DATABASE_URL": self.url(connection.settings_dict["NAME"]), "DATABASE_POOLER": "pgbouncer"}


@pytest.fixture
def pgbouncer():
    from django.db import connection

    db = connection.settings_dict
    # Not under pytest's tmp_path: that is private to root, and PgBouncer runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="concord-pgbouncer-"))
    bouncer = PgBouncer(folder, db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    bouncer.start()
    try:
        yield bouncer
    finally:
        bouncer.stop()
        shutil.rmtree(folder, ignore_errors=True)
