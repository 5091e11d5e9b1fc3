"""The Definitions page's split form: the preview counts what changes, every bad input says what
is wrong and publishes nothing, reviewers cannot apply it."""

import pytest

from consistency.models import SchemaChange
from labeling.models import Annotation, LabelSchemaVersion, Role
from tests.consistency.services.test_agreement_runs import ANSWERS, label
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

SPLIT = {"op": "split", "class": "dent", "into": ["small dent", "crushed corner", ""]}


def _post(client, project, **fields):
    return client.post(f"/projects/{project.id}/definitions/", {**SPLIT, **fields})


def test_preview_counts_the_split_answers_and_leaves_skips_alone(client, project, staff):
    _, items = label(project, ANSWERS)
    # A skip has no value: it reads the same under the split and is not counted as changed.
    Annotation.objects.filter(item=items[3], is_current=True).update(value=None, skip_reason="other")
    client.force_login(staff)
    html = _post(client, project).content.decode()
    assert "What if: split dent → small dent, crushed corner" in html
    assert "the 5 answers of “dent” no longer count: 2 items go back to the queue" in html
    assert 'name="keep_instructions"' in html and "A split changes what the classes mean" in html
    assert LabelSchemaVersion.objects.filter(project=project).count() == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"class": "crack"}, "No class named &#x27;crack&#x27;."),
        ({"into": ["small dent", "", ""]}, "Split into at least two new classes."),
        ({"into": ["small dent", "none"]}, "A class named &#x27;none&#x27; already exists."),
        ({"into": ["a", "A" * 101]}, "A class name needs 1 to 100 characters."),
        ({"into": ["a", "a"]}, "The new classes must differ."),
        ({"apply": "1", "keep_instructions": "on"}, "Say why (note) before changing the schema."),
        ({"apply": "1", "note": "corners"}, "A split changes what the classes mean"),
    ],
)
def test_bad_split_says_why_and_publishes_nothing(client, project, staff, fields, message):
    label(project, ANSWERS)
    client.force_login(staff)
    response = _post(client, project, **fields)
    assert response.status_code == 200 and message in response.content.decode()
    assert LabelSchemaVersion.objects.filter(project=project).count() == 1
    assert not SchemaChange.objects.exists()
    assert sorted(project.items.values_list("target", flat=True)) == [3] * 6  # nothing re-queued


def test_apply_with_new_instructions_publishes_the_split(client, project, staff):
    label(project, ANSWERS)
    client.force_login(staff)
    response = _post(client, project, apply="1", note="corners", instructions="**crushed corner**: ...")
    assert response.status_code == 302
    v2 = LabelSchemaVersion.objects.get(project=project, number=2)
    assert v2.mapping == {"dent": None} and v2.instructions == "**crushed corner**: ..."
    assert sorted(project.items.values_list("target", flat=True)) == [3, 3, 3, 3, 5, 6]


def test_reviewers_see_no_split_form_and_cannot_post_one(client, project):
    reviewer = MembershipFactory(project=project, role=Role.REVIEWER).user
    client.force_login(reviewer)
    assert 'id="split-class"' not in client.get(f"/projects/{project.id}/definitions/").content.decode()
    _post(client, project, apply="1", note="x", keep_instructions="on")
    assert LabelSchemaVersion.objects.filter(project=project).count() == 1
