"""Transcript rules are the one place a user supplies a regular expression: it runs on RE2 in
linear time, its replacement is checked when the rule is set, and rules ignore case by default."""

import time

import pytest

from consistency.metrics.transcripts.agreement import normalize, normalize_many
from consistency.metrics.transcripts.rules import compile_rules
from labeling.models import LabelSchemaVersion
from tests.consistency.services.test_agreement_runs import label
from tests.factories import ProjectFactory
from tests.helpers import client_for

# Each is exponential or polynomial in Python's backtracking engine on the text beside it.
ADVERSARIAL = [
    ("(a|a)*$", "a" * 50_000 + "b"),
    ("(a?){25}a{25}", "a" * 50_000),
    ("(a+)+$", "a" * 50_000 + "!"),
    (r"(\w*)*x", "w" * 50_000),
    ("(x+x+)+y", "x" * 50_000),
    (r"^(\s*a\s*)*$", " a" * 25_000 + "!"),
    ("(.*a){12}", "a" * 50_000),
    (r"(\d+\.?\d*)+e", "1" * 50_000),
]


@pytest.mark.parametrize(("pattern", "text"), ADVERSARIAL, ids=[p for p, _ in ADVERSARIAL])
def test_every_user_regex_runs_in_linear_time(pattern, text):
    rule = compile_rules([{"pattern": pattern, "replacement": "x", "regex": True}])
    normalize(text[:10], rule)  # warm up
    started = time.process_time()  # CPU time: other processes on a loaded machine don't count
    normalize(text, rule)
    assert time.process_time() - started < 0.1


@pytest.mark.django_db
def test_the_red_team_rule_answers_at_once_through_the_api(staff):
    """`(a|a)*$` on two 24-character transcripts took 30.7 s with Python's engine."""
    project = ProjectFactory(created_by=staff, data_type="audio", label_kind="transcription", classes=[])
    label(project, [["a" * 24 + "b", "a" * 24 + "c"], ["a" * 2000 + "b", "a" * 2000 + "c"]])
    body = {
        "op": "standardize_transcripts",
        "rules": [{"pattern": "(a|a)*$", "replacement": "x", "regex": True}],
        "dry_run": True,
    }
    started = time.perf_counter()
    response = client_for(staff).post(f"/api/projects/{project.id}/schema-changes/", body, format="json")
    assert response.status_code == 200, response.json()
    assert time.perf_counter() - started < 3
    assert response.json()["changed_answers"] == 4


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("replacement", "says"),
    [
        (r"\9", "group '9'"),
        (r"\g<x>", "group 'x'"),
        (r"\g<2>", "group '2'"),
        ("tail\\", "lone backslash"),
        (r"\q", "unknown escape"),
    ],
)
def test_replacements_naming_missing_groups_are_400(staff, replacement, says):
    project = ProjectFactory(created_by=staff, data_type="audio", label_kind="transcription", classes=[])
    label(project, [["umm yes", "um yes"]])
    rules = [{"pattern": "(u)mm", "replacement": replacement, "regex": True}]
    response = client_for(staff).post(
        f"/api/projects/{project.id}/schema-changes/",
        {"op": "standardize_transcripts", "rules": rules, "dry_run": False, "note": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert "Rule 1" in response.json()["error"]["message"] and says in response.json()["error"]["message"]
    assert LabelSchemaVersion.objects.filter(project=project).count() == 1


def test_replacement_templates_expand_groups_and_keep_any_script():
    rules = compile_rules(
        [
            {"pattern": r"(?P<w>colou?r)s?", "replacement": r"\g<w>·中é", "regex": True},
            {"pattern": r"(\d+)-(\d+)", "replacement": r"\2\t\1", "regex": True},
        ]
    )
    assert normalize("Colours 10-20", rules, lowercase=False, punctuation=False, whitespace=False) == (
        "Colour·中é 20\t10"
    )


def test_rules_ignore_case_unless_told_otherwise():
    texts = ["Umm yes", "umm yes", "UMM yes"]
    by_default = [{"pattern": "Umm", "replacement": "Um", "regex": False}]
    exact = [{"pattern": "Umm", "replacement": "Um", "regex": False, "case_sensitive": True}]
    regex_exact = [{"pattern": "U(m+)", "replacement": r"U\1", "regex": True, "case_sensitive": True}]
    assert list(normalize_many(texts, by_default, lowercase=False)) == ["Um yes"] * 3
    assert list(normalize_many(texts, exact, lowercase=False)) == ["Um yes", "umm yes", "UMM yes"]
    assert list(normalize_many(texts, regex_exact, lowercase=False)) == ["Umm yes", "umm yes", "UMM yes"]
    assert [normalize(t, by_default, lowercase=False) for t in texts] == ["Um yes"] * 3


@pytest.mark.django_db
def test_the_tour_rule_changes_the_umm_answers(staff):
    project = ProjectFactory(created_by=staff, data_type="audio", label_kind="transcription", classes=[])
    label(project, [["umm nearest gas station", "Um nearest gas station"], ["call mom", "call mom"]])
    response = client_for(staff).post(
        f"/api/projects/{project.id}/schema-changes/",
        {"op": "standardize_transcripts", "rules": [{"pattern": "Umm", "replacement": "Um"}]},
        format="json",
    )
    assert response.status_code == 200 and response.json()["changed_answers"] == 1
