"""DATABASE_REPLICA_URL adds the ``replica`` alias and nothing else changes without it
(config/settings/database.py); the exports' use of it runs against a real replica in
tests/test_read_replica.py."""

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings.database import database_settings
from tests.factories import ProjectFactory
from tests.helpers import client_for

PRIMARY = "postgres://concord@db:5432/concord"
REPLICA = "postgres://concord@db-replica:5432/concord"


def test_without_a_replica_url_there_is_only_the_default_database():
    values = database_settings({"DATABASE_URL": PRIMARY}, Path("/var"))
    assert list(values["DATABASES"]) == ["default"]
    local = database_settings({}, Path("/srv/var"))["DATABASES"]
    assert list(local) == ["default"]
    assert local["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert local["default"]["NAME"] == "/srv/var/concord.sqlite3"
    assert values["CONCORD_REPLICA_MAX_LAG_SECONDS"] == 0


def test_a_replica_url_adds_a_replica_that_tests_mirror_and_that_fails_fast():
    environ = {
        "DATABASE_URL": PRIMARY,
        "DATABASE_REPLICA_URL": REPLICA,
        "DATABASE_POOLER": "pgbouncer",
        "CONCORD_REPLICA_MAX_LAG_SECONDS": "5",
    }
    values = database_settings(environ, Path("/var"))
    replica = values["DATABASES"]["replica"]
    assert replica["HOST"] == "db-replica" and replica["NAME"] == "concord"
    assert replica["OPTIONS"]["connect_timeout"] == 2
    assert replica["TEST"] == {"MIRROR": "default"}  # no test database created on a read-only server
    # Behind PgBouncer the replica gets the primary's settings for transaction pooling.
    assert replica["DISABLE_SERVER_SIDE_CURSORS"] and replica["OPTIONS"]["prepare_threshold"] is None
    assert values["CONCORD_REPLICA_MAX_LAG_SECONDS"] == 5


@pytest.mark.parametrize(
    "environ",
    [
        {"DATABASE_REPLICA_URL": REPLICA},  # the primary is SQLite (`make run`)
        {"DATABASE_URL": PRIMARY, "DATABASE_REPLICA_URL": "sqlite:///x.sqlite3"},
        {"DATABASE_URL": PRIMARY, "DATABASE_REPLICA_URL": REPLICA, "CONCORD_REPLICA_MAX_LAG_SECONDS": "-1"},
        {"DATABASE_URL": PRIMARY, "DATABASE_REPLICA_URL": REPLICA, "CONCORD_REPLICA_WAIT_SECONDS": "soon"},
    ],
)
def test_a_replica_setting_that_cannot_work_stops_the_start(environ):
    with pytest.raises(ImproperlyConfigured):
        database_settings(environ, Path("/var"))


@pytest.mark.django_db
def test_without_a_replica_the_export_says_nothing_of_one(staff):
    project = ProjectFactory(created_by=staff)
    response = client_for(staff).get(f"/api/projects/{project.id}/export/")
    assert response.status_code == 200
    assert "X-Concord-Read-From" not in response.headers
    assert "X-Concord-Run" in response.headers
