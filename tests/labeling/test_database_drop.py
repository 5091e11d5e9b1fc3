"""A database connection that drops in the middle of a request: a clean 503, nothing stored.

The request runs in the live server (its own PostgreSQL connection). The test holds a lock on a
table the request writes last, waits until the request's backend is blocked on it, and
terminates that backend with `pg_terminate_backend`, as a failover or a restarted PostgreSQL
would. Everything the request wrote before that point was in the same transaction.
"""

import json
import threading
import time

import psycopg
import pytest
from django.db.models import Sum
from django.test import Client
from rest_framework.authtoken.models import Token

from consistency.models import AgreementRun, SchemaChange
from core.audit.models import AuditEvent
from labeling.models import Item, LabelSchemaVersion
from tests.consistency.services.test_agreement_runs import ANSWERS, label
from tests.helpers import http_call
from tests.worker import live_database_url

pytestmark = pytest.mark.django_db(transaction=True)


def _drop_connection_while_blocked_on(table: str, call) -> tuple[int, dict, bytes]:
    """Run ``call`` in a thread; terminate its database backend once it waits on ``table``."""
    url = live_database_url()
    holder = psycopg.connect(url)
    killer = psycopg.connect(url, autocommit=True)
    holder.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("response", call()))
    thread.start()
    try:
        deadline = time.monotonic() + 20
        pid = None
        while pid is None and time.monotonic() < deadline:
            row = killer.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid NOT IN (pg_backend_pid(), %s)",
                [holder.info.backend_pid],
            ).fetchone()
            pid = row[0] if row else None
            time.sleep(0.02)
        assert pid is not None, "the request never reached the locked table"
        assert killer.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
    finally:
        holder.rollback()
        holder.close()
        killer.close()
        thread.join(timeout=30)
    return outcome["response"]


def test_a_schema_change_cut_off_mid_transaction_is_503_and_stores_nothing(live_server, project, staff):
    label(project, ANSWERS)
    targets_before = Item.objects.filter(project=project).aggregate(total=Sum("target"))["total"]
    token = Token.objects.create(user=staff).key
    merge = {
        "op": "merge",
        "classes": ["deep scratch", "shallow scratch"],
        "into": "scratch",
        "keep_instructions": True,
        "note": "SMEs cannot tell depth",
        "dry_run": False,
    }

    def apply():
        return http_call(
            f"{live_server.url}/api/projects/{project.id}/schema-changes/",
            method="POST",
            body=merge,
            headers={"Authorization": f"Token {token}"},
        )

    # The audit row is the last write of the change: version, classes, re-queued items and
    # the SchemaChange row are already written (uncommitted) when the connection drops.
    status, headers, body = _drop_connection_while_blocked_on("labeling_auditevent", apply)

    assert status == 503, body
    error = json.loads(body)["error"]
    assert error["code"] == "database_unavailable" and "nothing was saved" in error["message"]
    assert headers["Retry-After"] == "5"
    assert LabelSchemaVersion.objects.filter(project=project).count() == 1
    assert not SchemaChange.objects.filter(project=project).exists()
    assert not AuditEvent.objects.filter(project=project, action="schema.merge").exists()
    assert not AgreementRun.objects.filter(project=project).exists()
    assert Item.objects.filter(project=project).aggregate(total=Sum("target"))["total"] == targets_before

    # The same server thread reconnects: the retry goes through, once.
    status, _, body = apply()
    assert status == 201, body
    assert json.loads(body)["schema_version"] == 2
    assert SchemaChange.objects.filter(project=project).count() == 1
    assert AuditEvent.objects.filter(project=project, action="schema.merge").count() == 1


def test_a_page_whose_connection_drops_shows_a_503_page_and_the_next_load_works(live_server, project, staff):
    browser = Client()
    browser.force_login(staff)
    cookie = {"Cookie": f"sessionid={browser.cookies['sessionid'].value}"}
    page = f"{live_server.url}/projects/{project.id}/"

    status, headers, body = _drop_connection_while_blocked_on(
        "labeling_project", lambda: http_call(page, headers=cookie)
    )

    assert status == 503
    assert headers["Retry-After"] == "5"
    assert "nothing was saved" in body.decode()
    status, _, body = http_call(page, headers=cookie)
    assert status == 200 and project.name in body.decode()
