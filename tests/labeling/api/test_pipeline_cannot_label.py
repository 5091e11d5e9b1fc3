"""A pipeline token reads exports and snapshots; it never reserves or answers (its answers
would enter the next agreement run as a labeler's)."""

import pytest
from django.test import Client

from core.errors import PermissionDenied
from labeling.models import Annotation, Assignment, AssignmentStatus, ProjectMembership, Role
from labeling.services.assignments import assignment_reserve_next
from labeling.services.submissions import annotation_submit
from tests.factories import ItemFactory, MembershipFactory
from tests.helpers import client_for, error_code

pytestmark = pytest.mark.django_db


def test_pipeline_token_gets_403_from_next_and_reserves_nothing(project):
    ItemFactory.create_batch(3, project=project)
    pipeline = MembershipFactory(project=project, role=Role.PIPELINE).user
    response = client_for(pipeline).get(f"/api/projects/{project.id}/next/")
    assert response.status_code == 403 and error_code(response) == "permission_denied"
    page = Client()
    page.force_login(pipeline)
    assert page.get(f"/projects/{project.id}/label/").status_code == 403
    with pytest.raises(PermissionDenied):
        assignment_reserve_next(project=project, labeler=pipeline)
    assert not Assignment.objects.filter(labeler=pipeline).exists()


@pytest.mark.parametrize("role", [Role.LABELER, Role.REVIEWER, Role.MANAGER])
def test_labeling_roles_reserve_and_answer(project, role):
    ItemFactory.create_batch(1, project=project)
    user = MembershipFactory(project=project, role=role).user
    item_id = client_for(user).get(f"/api/projects/{project.id}/next/").json()["id"]
    answer = client_for(user).post(f"/api/items/{item_id}/annotations/", {"value": "dent"}, format="json")
    assert answer.status_code == 201


def test_a_labeler_demoted_to_pipeline_cannot_answer_the_item_they_held(project):
    item = ItemFactory(project=project)
    user = MembershipFactory(project=project, role=Role.LABELER).user
    assert client_for(user).get(f"/api/projects/{project.id}/next/").json()["id"] == item.id
    ProjectMembership.objects.filter(project=project, user=user).update(role=Role.PIPELINE)
    response = client_for(user).post(f"/api/items/{item.id}/annotations/", {"value": "dent"}, format="json")
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        annotation_submit(item_id=item.id, labeler=user, value="dent")
    assert not Annotation.objects.filter(labeler=user).exists()
    assert Assignment.objects.get(labeler=user).status == AssignmentStatus.RESERVED
