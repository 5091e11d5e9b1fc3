import pytest

from consistency.models import AgreementRun
from labeling.models import Role
from tests.consistency.services.test_agreement_runs import ANSWERS, label
from tests.factories import MembershipFactory, UserFactory
from tests.helpers import client_for, error_code

pytestmark = pytest.mark.django_db


def test_manager_starts_a_run_and_reads_its_report(project, staff, django_capture_on_commit_callbacks):
    label(project, ANSWERS)
    client = client_for(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/projects/{project.id}/agreement-runs/", {"level": "nominal"}, format="json"
        )
    assert response.status_code == 202
    assert response["Location"].endswith(f"/api/agreement-runs/{response.json()['id']}/")
    detail = client.get(response["Location"]).json()
    assert detail["status"] == "succeeded"
    assert detail["report"]["overall"]["alpha"] == pytest.approx(detail["headline_alpha"])
    listing = client.get(f"/api/projects/{project.id}/agreement-runs/").json()
    assert listing["count"] == 1 and "report" not in listing["results"][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [({"level": "cardinal"}, "level"), ({"consensus": "vote"}, "consensus"), ({"metric": "alpha"}, "metric")],
)
def test_unknown_levels_and_metrics_are_400(project, staff, body, field):
    response = client_for(staff).post(f"/api/projects/{project.id}/agreement-runs/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not AgreementRun.objects.exists()


def test_labelers_cannot_start_or_read_runs(project, staff):
    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    run = AgreementRun.objects.create(
        project=project,
        schema_version=project.schema_version,
        status="succeeded",
        report={"overall": {"alpha": 0.4}},
    )
    client = client_for(labeler)
    assert client.post(f"/api/projects/{project.id}/agreement-runs/", {}, format="json").status_code == 403
    assert client.get(f"/api/projects/{project.id}/agreement-runs/").status_code == 403
    response = client.get(f"/api/agreement-runs/{run.id}/")
    assert response.status_code == 403 and "0.4" not in response.content.decode()
    assert client_for(UserFactory()).get(f"/api/agreement-runs/{run.id}/").status_code == 404


def test_second_run_while_one_is_running_is_409(project, staff):
    AgreementRun.objects.create(project=project, schema_version=project.schema_version, status="running")
    response = client_for(staff).post(f"/api/projects/{project.id}/agreement-runs/", {}, format="json")
    assert response.status_code == 409
    assert error_code(response) == "conflict"


def test_dashboard_and_split_items_pages(client, project, staff, django_capture_on_commit_callbacks):
    label(project, ANSWERS)
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/projects/{project.id}/agreement/runs/")
    html = client.get(f"/projects/{project.id}/agreement/").content.decode()
    assert "Krippendorff" in html and "Which classes get confused" in html and "shallow scratch" in html
    items = client.get(f"/projects/{project.id}/review/", {"a": "deep scratch", "b": "shallow scratch"})
    assert items.status_code == 200
    assert items.content.decode().count("<code>") == 3


def test_labeler_gets_403_on_the_dashboard(client, project):
    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    client.force_login(labeler)
    assert client.get(f"/projects/{project.id}/agreement/").status_code == 403


def test_labelers_page_shows_hlp_speed_and_skips(client, project, staff):
    from consistency.models import AgreementRun
    from consistency.services.agreement_runs import agreement_run_compute

    labelers, _ = label(project, ANSWERS)
    run = AgreementRun.objects.create(project=project, schema_version=project.schema_version)
    agreement_run_compute(run_id=run.id)
    run.refresh_from_db()
    assert run.report["hlp"]["project"]["hlp"] is not None
    assert {"loo_rate", "loo_low", "loo_high", "flagged"} <= set(run.report["labelers"][0])
    client.force_login(staff)
    html = client.get(f"/projects/{project.id}/labelers/").content.decode()
    assert "Project HLP" in html and labelers[0].username in html and "Two random labelers agree" in html
    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    client.force_login(labeler)
    assert client.get(f"/projects/{project.id}/labelers/").status_code == 403


def test_labelers_page_shows_word_accuracy_hlp_for_transcripts(client, staff):
    from consistency.models import AgreementRun
    from consistency.services.agreement_runs import agreement_run_compute
    from tests.factories import ProjectFactory

    project = ProjectFactory(created_by=staff, data_type="audio", label_kind="transcription", classes=[])
    labelers, _ = label(project, [["call mom", "call mom", "call mum"], ["play jazz", "play jazz", "play"]])
    run = AgreementRun.objects.create(project=project, schema_version=project.schema_version)
    agreement_run_compute(run_id=run.id)
    client.force_login(staff)
    html = client.get(f"/projects/{project.id}/labelers/").content.decode()
    assert "HLP</a>" in html and "</span></span> (word accuracy (1 − WER))" in html
    assert "judged against each <em>other</em> labeler" in html
    assert "Two random labelers agree" not in html and "HLP per class" not in html
    assert labelers[2].username in html
