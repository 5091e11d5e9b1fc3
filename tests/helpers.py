from rest_framework.test import APIClient


def client_for(user) -> APIClient:
    """An API client authenticated with the user's token, as a pipeline or script would be."""
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def error_code(response) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message", "fields"} <= set(body["error"]), body
    return body["error"]["code"]


def http_call(url: str, *, token=None, method="GET", body=None, headers=None) -> tuple[int, dict, bytes]:
    """One HTTP request to a server the test started (live server, gunicorn, runserver):
    (status, headers, body bytes), error statuses included."""
    import json
    import urllib.error
    import urllib.request

    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310
    if token:
        request.add_header("Authorization", f"Token {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 — a local test server
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def http_json(url: str, **options) -> tuple[int, dict, object]:
    """:func:`http_call` with the body parsed as JSON (None when empty)."""
    import json

    status, headers, body = http_call(url, **options)
    return status, headers, json.loads(body or b"null")


def agreement_run_now(project):
    """Compute an agreement run of the project in this process and return it, finished."""
    from consistency.models import AgreementRun
    from consistency.services.agreement_runs import agreement_run_compute

    run = AgreementRun.objects.create(project=project, schema_version=project.schema_version)
    agreement_run_compute(run_id=run.id)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    return run


def phone_defects_merged():
    """The demo's "Phone defects" with deep and shallow scratch merged into "scratch" (v2):
    (project, manager, reviewer)."""
    from django.contrib.auth import get_user_model

    from consistency.services.schema_changes import schema_change_apply
    from demo.services import demo_load
    from labeling.models import Project

    demo_load()
    project = Project.objects.get(name="Phone defects")
    users = get_user_model().objects
    manager, reviewer = users.get(username="manager"), users.get(username="reviewer")
    schema_change_apply(
        project=project,
        op="merge",
        params={"classes": ["deep scratch", "shallow scratch"], "into": "scratch", "keep_instructions": True},
        note="people cannot tell them apart",
        actor=manager,
        dry_run=False,
    )
    return project, manager, reviewer
