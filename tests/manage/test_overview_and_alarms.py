"""The projects list's progress, alpha trend and open disagreements; alarm thresholds saved from
the Operations page (managers only, 0 to 1)."""

import pytest

from consistency.models import Review, ReviewStatus
from labeling.models import Item, Role
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, finished_run

pytestmark = pytest.mark.django_db


def test_projects_list_shows_progress_alpha_trend_and_open_disagreements(
    client, project, staff, django_assert_max_num_queries
):
    items = [ItemFactory(project=project) for _ in range(4)]
    Item.objects.filter(pk__in=[items[0].pk, items[1].pk, items[2].pk]).update(slots_taken=3)
    first = finished_run(project, [{"item": it} for it in items])
    first.headline_alpha = 0.40
    first.save()
    second = finished_run(project, [{"item": it} for it in items])
    second.headline_alpha = 0.52
    second.save()
    second.item_results.filter(item__in=items[:3]).update(disagreement=0.5)
    Review.objects.create(project=project, item=items[0], status=ReviewStatus.RESOLVED)
    ProjectFactory(created_by=staff, name="Empty one")
    client.force_login(staff)
    with django_assert_max_num_queries(10):
        html = client.get("/").content.decode()
    row = html.split(f'href="/projects/{project.id}/"')[1].split("</tr>")[0]
    assert "75% done · 1 open" in row
    assert "0.520" in row and "▲ +0.120" in row
    assert f'href="/projects/{project.id}/review/">2</a>' in row  # one of three is resolved
    assert "no run" in html.split(">Empty one</a>")[1].split("</tr>")[0]


def test_labelers_see_no_agreement_figures_on_the_list(client, project):
    finished_run(project, [{"item": ItemFactory(project=project)}])
    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    client.force_login(labeler)
    row = client.get("/").content.decode().split(f'href="/projects/{project.id}/"')[1].split("</tr>")[0]
    assert "0.500" not in row and "progressbar" not in row


def test_manager_saves_alarms_on_the_operations_page(client, project, staff):
    client.force_login(staff)
    data = {"agreement_drop": "0.1", "min_labeler_hlp": "0.7", "max_skip_rate": "0.15"}
    page = client.post(f"/projects/{project.id}/operations/alarms/", data, follow=True).content.decode()
    assert "Alarm thresholds saved." in page and 'value="0.15"' in page
    project.refresh_from_db()
    assert project.alarms == {"agreement_drop": 0.1, "min_labeler_hlp": 0.7, "max_skip_rate": 0.15}


def test_bad_alarms_are_refused_and_nothing_changes(client, project, staff):
    client.force_login(staff)
    data = {"agreement_drop": "2", "min_labeler_hlp": "x", "max_skip_rate": "0.1"}
    page = client.post(f"/projects/{project.id}/operations/alarms/", data, follow=True).content.decode()
    assert "Alarms not saved" in page and "agreement drop" in page
    project.refresh_from_db()
    assert project.alarms == {}


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.LABELER])
def test_only_managers_change_alarms(client, project, role):
    client.force_login(MembershipFactory(project=project, role=role).user)
    data = {"agreement_drop": "0.1", "min_labeler_hlp": "0.7", "max_skip_rate": "0.15"}
    assert client.post(f"/projects/{project.id}/operations/alarms/", data).status_code == 403
    project.refresh_from_db()
    assert project.alarms == {}


def test_api_refuses_alarms_out_of_range_from_the_service(project, staff):
    from core.errors import Invalid
    from labeling.services.projects import project_update

    with pytest.raises(Invalid, match="must be a number from 0 to 1"):
        project_update(project=project, acting_user=staff, alarms={"max_skip_rate": 3})
