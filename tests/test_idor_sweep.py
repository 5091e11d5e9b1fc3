"""Every route with an id, called by the wrong people with every method, gives no data.

Generated from the URLconf, so a new route is covered the day it is added: as a member of
another project, anonymously, and (for everything but the labeling loop) as a labeler of the
same project. Each call must answer 401/403/404/405 (pages: a redirect to the login page) and
its body must not contain the project's data.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from consistency.models import AgreementRun, DatasetSnapshot, ItemResult
from core.jobs.models import Job
from labeling.models import Role
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory
from tests.helpers import client_for

SECRET = "TOPSECRET"
METHODS = ["get", "post", "put", "patch", "delete"]
# What a labeler of the project may do: the labeling loop, their project and their media.
LABELER_ALLOWED = {
    "api-project",
    "api-next-item",
    "api-my-progress",
    "api-item-annotations",
    "project-detail",
    "workspace",
    "item-media",
}
DENIED = {401, 403, 404, 405}
# Public by design: a password-reset link is opened logged out. It must still show no data.
PUBLIC = {"password_reset_confirm"}


def _routes(patterns=None, prefix=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith("admin/"):
                continue  # Django admin: staff only, its own permission system
            yield from _routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and "<" in route:
            yield entry.name, route


def _url(route: str, ids: dict) -> str:
    def sub(match):
        return str(ids[match.group(2)])

    return "/" + re.sub(r"<(\w+:)?(\w+)>", sub, route).replace("^", "").replace("$", "")


@pytest.fixture
def world(db, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    manager = UserFactory(is_staff=True)
    project = ProjectFactory(created_by=manager)
    item = ItemFactory(project=project, external_id=f"{SECRET}-item", data={"note": SECRET})
    from django.core.files.base import ContentFile

    item.media.save("secret.png", ContentFile(SECRET.encode()))
    run = AgreementRun.objects.create(
        project=project,
        schema_version=project.schema_version,
        status="succeeded",
        report={"overall": {"alpha": 0.5}, "note": SECRET},
        finished_at=timezone.now(),
    )
    ItemResult.objects.create(
        run=run, item=item, n_answers=3, consensus=SECRET, method="majority", disagreement=0.5
    )
    job = Job.objects.create(kind="project_stats", project=project, created_by=manager, result={"x": SECRET})
    snapshot = DatasetSnapshot.objects.create(
        project=project,
        run=run,
        schema_version=project.schema_version,
        job=job,
        params={},
        files={},
        content_hash="0" * 64,
        row_count=1,
        manifest={"x": SECRET},
        created_by=manager,
    )
    other = ProjectFactory()
    outsider = MembershipFactory(project=other, role=Role.MANAGER).user
    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    ids = {
        "project_id": project.id,
        "item_id": item.id,
        "run_id": run.id,
        "job_id": job.id,
        "snapshot_id": snapshot.id,
        "variant": "media",
        "uidb64": urlsafe_base64_encode(force_bytes(manager.pk)),
        "token": "set-password",
    }
    return {"ids": ids, "outsider": outsider, "labeler": labeler, "manager": manager}


def _check(response, who, name, method, url):
    status = response.status_code
    body = b"" if getattr(response, "streaming", False) else response.content
    if name in PUBLIC:
        assert status < 500 and SECRET.encode() not in body, (who, name, method, url, status)
        return
    if status in (301, 302):
        assert "/login/" in response["Location"], (who, name, method, url, status)
        return
    assert status in DENIED, (who, name, method, url, status)
    assert SECRET.encode() not in body, (who, name, method, url)


def test_routes_are_discovered():
    names = {name for name, _ in _routes()}
    assert {"api-project", "api-export", "api-item-review", "review-item", "item-media"} <= names


@pytest.mark.django_db
def test_no_route_leaks_to_other_projects_anonymous_users_or_labelers(world, client):
    routes = list(_routes())
    assert len(routes) > 20
    outsider = client_for(world["outsider"])
    labeler = client_for(world["labeler"])
    for name, route in routes:
        url = _url(route, world["ids"])
        for method in METHODS:
            _check(getattr(outsider, method)(url, {}, format="json"), "outsider", name, method, url)
            _check(getattr(client, method)(url), "anonymous", name, method, url)
            if name not in LABELER_ALLOWED:
                _check(getattr(labeler, method)(url, {}, format="json"), "labeler", name, method, url)


# Lookups through relations a client names, and orderings on private fields: a view either
# refuses them (400) or ignores them (the same answer as without); it never filters by them.
PROBES = ["ordering=user__password", "labeler__password__startswith=a", "created_by__password__gt=", "o=-x"]


def _content(response) -> bytes:
    return b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content


@pytest.mark.django_db
def test_no_get_route_filters_or_orders_by_what_a_client_names(world):
    manager = client_for(world["manager"])
    routes = [(name, _url(route, world["ids"])) for name, route in _routes() if route.startswith("api/")]
    routes += [("api-projects", "/api/projects/"), ("api-me", "/api/me/")]
    checked = 0
    for name, url in routes:
        plain = manager.get(url)
        if plain.status_code != 200:
            continue  # POST-only or needs parameters
        baseline = _content(plain)
        for probe in PROBES:
            probed = manager.get(f"{url}?{probe}")
            assert probed.status_code in (200, 400), (name, probe, probed.status_code)
            if probed.status_code == 200:
                assert _content(probed) == baseline, (name, probe)
            checked += 1
    assert checked >= 40  # the sweep really walked the read routes
