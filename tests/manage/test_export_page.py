"""The Export page: permissions, preview per split equal to the downloaded file, bad parameters
answered with a reason, snapshots frozen and downloaded from the page, the curl line."""

import json

import pytest

from consistency.models import DatasetSnapshot
from labeling.models import Role
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, finished_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def exported(staff):
    project = ProjectFactory(created_by=staff, data_type="record", classes=["1", "0"])
    items = [ItemFactory(project=project, external_id=f"r{i:02d}") for i in range(40)]
    finished_run(
        project, [{"item": it, "consensus": "1" if i % 4 == 0 else "0"} for i, it in enumerate(items)]
    )
    return project


def _lines(response) -> list[dict]:
    return [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]


@pytest.mark.parametrize("role", [Role.LABELER, Role.REVIEWER])
def test_only_managers_and_pipelines_export(client, exported, role):
    client.force_login(MembershipFactory(project=exported, role=role).user)
    for url in ("", "download/"):
        assert client.get(f"/projects/{exported.id}/export/{url}").status_code == 403
    assert client.post(f"/projects/{exported.id}/export/snapshots/", {"query": ""}).status_code == 403


def test_pipeline_downloads_but_cannot_freeze(client, exported):
    client.force_login(MembershipFactory(project=exported, role=Role.PIPELINE).user)
    page = client.get(f"/projects/{exported.id}/export/").content.decode()
    assert "Download" in page and "Freeze as snapshot" not in page
    assert len(_lines(client.get(f"/projects/{exported.id}/export/download/"))) == 40
    assert client.post(f"/projects/{exported.id}/export/snapshots/", {"query": ""}).status_code == 403


def test_preview_counts_equal_the_downloaded_file(client, exported, staff):
    client.force_login(staff)
    query = "format=jsonl&split=train:50,test:50&seed=3&exclude=ties&min_agreement="
    html = client.get(f"/projects/{exported.id}/export/?{query}&preview=1").content.decode()
    rows = _lines(client.get(f"/projects/{exported.id}/export/download/?{query}"))
    assert "Preview: 40 rows" in html
    for split in ("train", "test"):
        mine = [r for r in rows if r["split"] == split]
        assert f"<strong>{split}</strong>: {len(mine)} rows" in html
        ones = sum(r["consensus"] == "1" for r in mine)
        assert f'<tr><td>1</td><td class="num">{ones}</td>' in html
    assert "min_agreement" not in html.split('id="curl-export">')[1].split("</code>")[0]
    assert "split=train%3A50%2Ctest%3A50" in html.split('id="curl-export">')[1]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("split=train:90", "sum to 100"),
        ("format=xlsx", "Unknown format"),
        ("format=coco", "COCO export is for box projects."),
        ("min_agreement=much", "min_agreement must be a number"),
        ("exclude=everything", "Unknown exclude"),
    ],
)
def test_bad_parameters_say_what_is_wrong(client, exported, staff, query, message):
    client.force_login(staff)
    response = client.get(f"/projects/{exported.id}/export/?{query}&preview=1")
    assert response.status_code == 400
    assert message in response.content.decode()
    download = client.get(f"/projects/{exported.id}/export/download/?{query}", follow=True)
    assert message in download.content.decode()


def test_without_a_run_the_preview_counts_live_and_a_snapshot_asks_for_one(client, staff):
    """The export never waits for a run (issue 13); a snapshot records its run, so it needs one."""
    project = ProjectFactory(created_by=staff)
    ItemFactory.create_batch(3, project=project)
    client.force_login(staff)
    response = client.get(f"/projects/{project.id}/export/?preview=1")
    page = response.content.decode()
    exported = client.get(f"/projects/{project.id}/export/download/")
    rows = len(b"".join(exported.streaming_content).splitlines())
    assert response.status_code == 200 and "No agreement run yet" in page and f"Preview: {rows} rows" in page
    frozen = client.post(f"/projects/{project.id}/export/snapshots/", {"query": "format=jsonl"}, follow=True)
    assert "start one first" in frozen.content.decode()
    assert not DatasetSnapshot.objects.filter(project=project).exists()


def test_freeze_a_snapshot_and_download_its_split(
    client, exported, staff, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/projects/{exported.id}/export/snapshots/",
            {"query": "format=csv&split=train:50,test:50&seed=1"},
        )
    assert response.status_code == 302
    snapshot = DatasetSnapshot.objects.get(project=exported)
    assert snapshot.params["split"] == "train:50,test:50" and snapshot.params["format"] == "csv"
    page = client.get(response["Location"]).content.decode()
    assert snapshot.content_hash[:10] in page and "Freezing the snapshot" in page  # on commit, here
    download = client.get(f"/projects/{exported.id}/export/snapshots/{snapshot.id}/?split=test")
    text = b"".join(download.streaming_content).decode().splitlines()
    assert len(text) == 21 and download["X-Content-SHA256"] == snapshot.files["test"]["sha256"]


def test_snapshot_of_another_project_is_404(client, exported, staff):
    other = ProjectFactory(created_by=staff)
    client.force_login(staff)
    snapshot_id = 999_999
    assert client.get(f"/projects/{other.id}/export/snapshots/{snapshot_id}/").status_code == 404


def test_bad_snapshot_parameters_freeze_nothing(client, exported, staff):
    client.force_login(staff)
    page = client.post(f"/projects/{exported.id}/export/snapshots/", {"query": "split=train:10"}, follow=True)
    assert "sum to 100" in page.content.decode()
    assert not DatasetSnapshot.objects.exists()
