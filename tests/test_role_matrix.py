"""Who may call what: every (route, method, role) of the URLconf has its expected outcome in one
table (ROUTES). A route added to the URLconf without a row fails `test_every_route_is_in_the_table`;
a row whose outcome changes fails `test_each_role_gets_the_expected_outcome`.

Outcomes: ``ok`` (authorized: any answer below 500 except 401/403/404 and the login page; a
400 for the empty body sent is fine), ``403``, ``404`` (a project you are not in does not
exist for you), ``login`` (anonymous: 401 from the API, a redirect to the login page from pages).
"""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from consistency.models import AgreementRun, DatasetSnapshot, ItemResult
from core.jobs.models import Job
from labeling.models import Annotation, Assignment, Role
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

ROLES = ("anonymous", "outsider", "labeler", "pipeline", "reviewer", "manager")
MEMBERS = ("labeler", "pipeline", "reviewer", "manager")


def members(*allowed: str, anonymous: str = "login") -> dict[str, str]:
    """A project route: anonymous → login page/401, outsiders → 404, members with one of
    ``allowed`` roles → ok, other members → 403."""
    return {
        "anonymous": anonymous,
        "outsider": "404",
        **{role: "ok" if role in allowed else "403" for role in MEMBERS},
    }


def everyone(outcome: str = "ok", anonymous: str = "ok") -> dict[str, str]:
    return {role: anonymous if role == "anonymous" else outcome for role in ROLES}


SIGNED_IN = everyone("ok", anonymous="login")
ALL = ("labeler", "pipeline", "reviewer", "manager")
LABELING = ("labeler", "reviewer", "manager")
REVIEW = ("reviewer", "manager")
MANAGER = ("manager",)
EXPORT = ("manager", "pipeline")

# route name → method → role → outcome. The one table.
ROUTES: dict[str, dict[str, dict[str, str]]] = {
    "healthz": {"GET": everyone("ok", anonymous="ok")},
    "readyz": {"GET": everyone("ok", anonymous="ok")},
    "metrics": {"GET": everyone("404", anonymous="404")},
    "login": {"GET": everyone("ok", anonymous="ok"), "POST": everyone("ok", anonymous="ok")},
    "logout": {"POST": everyone("login", anonymous="login")},  # signs out: then the login page
    "password_reset": {"GET": everyone("ok", anonymous="ok"), "POST": everyone("ok", anonymous="ok")},
    "password_reset_done": {"GET": everyone("ok", anonymous="ok")},
    "password_reset_confirm": {"GET": everyone("ok", anonymous="ok"), "POST": everyone("ok", anonymous="ok")},
    "password_reset_complete": {"GET": everyone("ok", anonymous="ok")},
    "password_change": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "password_change_done": {"GET": SIGNED_IN},
    "api-schema": {"GET": everyone("ok", anonymous="ok")},
    "api-docs": {"GET": everyone("ok", anonymous="ok")},
    "api-projects": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "api-project": {"GET": members(*ALL), "PATCH": members(*MANAGER)},
    "api-project-members": {"GET": members(*REVIEW), "POST": members(*MANAGER)},
    "api-project-stats": {"POST": members(*REVIEW)},
    "api-next-item": {"GET": members(*LABELING)},
    "api-my-progress": {"GET": members(*ALL)},
    "api-item-annotations": {"POST": members(*LABELING)},
    "api-my-answer": {"GET": members(*ALL)},  # one"s own earlier answer, whatever the role now
    "api-project-items": {"GET": members(*REVIEW), "POST": members(*MANAGER)},
    "api-annotation-import": {"POST": members(*MANAGER)},
    "api-items-overlap": {"POST": members(*REVIEW)},
    "api-item-gold": {"PUT": members(*REVIEW), "DELETE": members(*REVIEW)},
    "api-users": {"POST": everyone("403", anonymous="login")},
    "api-me": {"GET": SIGNED_IN},
    "api-me-token": {"POST": SIGNED_IN, "DELETE": SIGNED_IN},
    # A statistics job: read by those who may start one now (core/jobs/api.py JOB_READERS).
    "api-job": {"GET": {**members(*REVIEW), "labeler": "404", "pipeline": "404"}},
    "api-agreement-runs": {"GET": members(*REVIEW), "POST": members(*REVIEW)},
    "api-agreement-run": {"GET": members(*REVIEW)},
    "api-predictions": {"POST": members(*MANAGER)},
    "api-disagreements": {"GET": members(*REVIEW)},
    "api-item-review": {"GET": members(*REVIEW), "POST": members(*REVIEW)},
    "api-item-comments": {"POST": members(*REVIEW)},
    "api-schema-changes": {"GET": members(*REVIEW), "POST": members(*MANAGER)},
    "api-audit": {"GET": members(*MANAGER)},
    "api-export": {"GET": members(*EXPORT)},
    "api-snapshots": {"GET": members(*EXPORT), "POST": members(*MANAGER)},
    "api-snapshot": {"GET": members(*EXPORT)},
    "api-snapshot-download": {"GET": members(*EXPORT)},
    "projects": {"GET": SIGNED_IN},
    "account": {"GET": SIGNED_IN},
    "account-token-rotate": {"POST": SIGNED_IN},
    "account-token-revoke": {"POST": SIGNED_IN},
    "project-detail": {"GET": members(*ALL)},
    "project-stats-refresh": {"POST": members(*REVIEW)},
    "workspace": {"GET": members(*LABELING)},
    "data": {"GET": members(*REVIEW)},
    "item-media": {"GET": members(*ALL)},
    "agreement-help": {"GET": SIGNED_IN},
    "agreement-dashboard": {"GET": members(*REVIEW)},
    "agreement-run-start": {"POST": members(*REVIEW)},
    "agreement-items": {"GET": members(*REVIEW)},
    "review-item": {"GET": members(*REVIEW), "POST": members(*REVIEW)},
    # A reviewer"s POST is turned away with a message and a redirect (only managers change it).
    "definitions": {"GET": members(*REVIEW), "POST": members(*REVIEW)},
    "labelers": {"GET": members(*REVIEW)},
    "model": {"GET": members(*REVIEW)},
    "prelabel-settings": {"POST": members(*MANAGER)},
    "operations": {"GET": members(*MANAGER)},
    # Manager pages (issue 16). A page form's refusal of an empty body is a message and a redirect.
    "project-new": {"GET": everyone("403", anonymous="login"), "POST": everyone("403", anonymous="login")},
    "markdown-preview": {"POST": SIGNED_IN},
    "project-settings": {"GET": members(*MANAGER), "POST": members(*MANAGER)},
    "class-details": {"POST": members(*MANAGER)},
    "project-people": {"GET": members(*MANAGER)},
    "people-add": {"POST": members(*MANAGER)},
    "people-role": {"POST": members(*MANAGER)},
    "people-remove": {"POST": members(*MANAGER)},
    "people-create": {"POST": members(*MANAGER)},
    "people-token": {"POST": members(*MANAGER)},
    "items": {"GET": members(*REVIEW)},
    "items-bulk": {"POST": members(*MANAGER)},
    "alarms-update": {"POST": members(*MANAGER)},
    "export": {"GET": members(*EXPORT)},
    "export-download": {"GET": members(*EXPORT)},
    "snapshot-freeze": {"POST": members(*MANAGER)},
    "snapshot-download": {"GET": members(*EXPORT)},
}

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


def urlconf_routes(patterns=None, prefix: str = ""):
    """(name, route) of every URL pattern, Django's admin aside (its own permission system)."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if not route.startswith("admin/"):
                yield from urlconf_routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield entry.name, route


def url_for(route: str, ids: dict) -> str:
    return "/" + PARAM.sub(lambda m: str(ids[m.group(1)]), route)


def outcome(response) -> str:
    status = response.status_code
    if status >= 500:
        return f"error {status}"
    if status == 401 or (status in (301, 302) and "/login/" in response.get("Location", "")):
        return "login"
    if status in (403, 404, 405):
        return str(status)
    return "ok"


@pytest.fixture
def world(db, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    from django.core.files.base import ContentFile

    staff = UserFactory(is_staff=True)
    project = ProjectFactory(created_by=staff)
    item = ItemFactory(project=project)
    item.media.save("a.png", ContentFile(b"png"))
    run = AgreementRun.objects.create(
        project=project,
        schema_version=project.schema_version,
        status="succeeded",
        report={"overall": {"alpha": 0.5}},
        finished_at=timezone.now(),
    )
    ItemResult.objects.create(run=run, item=item, n_answers=3, consensus="dent", method="majority")
    job = Job.objects.create(kind="project_stats", project=project, created_by=staff)
    snapshot = DatasetSnapshot.objects.create(
        project=project,
        run=run,
        schema_version=project.schema_version,
        job=job,
        params={},
        files={},
        content_hash="0" * 64,
        row_count=1,
        manifest={},
        created_by=staff,
    )
    users = {"outsider": MembershipFactory(project=ProjectFactory(), role=Role.MANAGER).user}
    for role in MEMBERS:  # each has answered the item (my-answer), e.g. before a change of role
        users[role] = MembershipFactory(project=project, role=role).user
        assignment = Assignment.objects.create(
            project=project, item=item, labeler=users[role], status="submitted"
        )
        Annotation.objects.create(
            assignment=assignment,
            item=item,
            labeler=users[role],
            schema_version=project.schema_version,
            value="dent",
        )
    ids = {
        "project_id": project.id,
        "item_id": item.id,
        "run_id": run.id,
        "job_id": job.id,
        "snapshot_id": snapshot.id,
        "variant": "media",
        "uidb64": urlsafe_base64_encode(force_bytes(staff.pk)),
        "token": "set-password",
    }
    return {"ids": ids, "users": users}


def _clients(world) -> dict[str, Client]:
    clients = {}
    for role in ROLES:
        clients[role] = Client()
        if role != "anonymous":
            clients[role].force_login(world["users"][role])
    return clients


def test_every_route_is_in_the_table():
    names = {name for name, _ in urlconf_routes()}
    assert not names - set(ROUTES), f"routes without a row in ROUTES: {sorted(names - set(ROUTES))}"
    assert not set(ROUTES) - names, f"rows for routes that no longer exist: {sorted(set(ROUTES) - names)}"
    for name, methods in ROUTES.items():
        for method, outcomes in methods.items():
            assert method in METHODS and set(outcomes) == set(ROLES), (name, method)


@pytest.mark.django_db
def test_each_role_gets_the_expected_outcome(world):
    clients = _clients(world)
    wrong = []
    for name, route in urlconf_routes():
        url = url_for(route, world["ids"])
        for method, expected in ROUTES[name].items():
            for role in ROLES:
                client = clients[role]
                if name == "logout":  # signs the client out: a client of its own
                    client = _clients(world)[role]
                response = client.generic(method, url, "{}", content_type="application/json")
                if outcome(response) != expected[role]:
                    wrong.append(
                        f"{method} {url} as {role}: {outcome(response)}, table says {expected[role]}"
                    )
    assert not wrong, "\n".join(wrong)
