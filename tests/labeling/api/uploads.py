"""Uploading items to a project in the API tests: the endpoint, a multipart upload, an upload
that becomes a job (run at commit), and what the per-job upload folders still hold."""

from pathlib import Path

from tests.labeling.imports.samples import named


def items_url(project) -> str:
    return f"/api/projects/{project.id}/items/"


def upload(client, project, *files, **fields):
    body = {"file": [named(name, content) for name, content in files], **fields}
    return client.post(items_url(project), body, format="multipart")


def job_upload(client, project, captured, *files, **fields):
    with captured(execute=True):
        response = upload(client, project, *files, **fields)
    assert response.status_code == 202, response.content
    assert response["Location"].endswith(f"/api/jobs/{response.json()['id']}/")
    return client.get(response["Location"]).json()


def stored_uploads(root: Path) -> list[Path]:
    return list((root / "imports").rglob("*")) if (root / "imports").exists() else []
