"""Model-based test of the current label (issue 13): random sequences of answers, skips, gold,
resolutions, "lacks information", merges, renames, splits, added classes, agreement runs and
re-imports on a small project. After every step the export rows of both paths (the PostgreSQL
fast path and the Python path) equal a reference computed from scratch, in plain Python, from
the history of events; at the end of each example every format that carries labels (JSONL,
CSV, Parquet, Label Studio) says the same.

CI runs 200 examples (``make test``); ``CONCORD_MODEL_EXAMPLES=2000`` runs a longer profile.
"""

import csv
import io
import json
import os
from collections import Counter
from itertools import count

import pyarrow.parquet as pq
import pytest
from django.test import override_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from consistency.exports.params import parse_export_params
from consistency.exports.stream import export_stream
from consistency.models import AgreementRun, Review, RunStatus
from consistency.services.agreement_runs import agreement_run_compute
from consistency.services.reviews import review_act
from consistency.services.schema_changes import schema_change_apply
from labeling.models import Assignment, Item, Role
from labeling.services.items import RecordFile, items_import_records
from labeling.services.pool import items_set_gold
from labeling.services.submissions import annotation_submit
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

EXAMPLES = int(os.environ.get("CONCORD_MODEL_EXAMPLES", "200"))
MAX_CLASSES = 5
FIELDS = (
    "label",
    "label_source",
    "consensus",
    "method",
    "confidence",
    "agreement",
    "n_answers",
    "is_tie",
    "is_gold",
    "status",
    "resolved_by",
    "schema_version",
)
_names = count()


class _Query(dict):
    def getlist(self, key):
        return [self[key]] if key in self else []


def _export(project, fast: bool, **query) -> bytes:
    params = parse_export_params(_Query(query))
    return b"".join(export_stream(project=project, params=params, fast=fast)[1])


class Reference:
    """The definition of the current label, from the history of events alone."""

    def __init__(self, classes: list[str]):
        self.versions: list[dict] = [{"classes": list(classes), "mapping": {}}]
        self.answers: dict[tuple[str, int], tuple[str | None, int]] = {}  # (item, labeler) → value, version
        self.gold: dict[str, tuple[str, int]] = {}
        self.reviews: dict[str, dict] = {}
        self.items: list[str] = []

    @property
    def current(self) -> int:
        return len(self.versions) - 1

    @property
    def classes(self) -> list[str]:
        return self.versions[-1]["classes"]

    def read(self, value, version: int):
        for step in self.versions[version + 1 :]:
            if value is None:
                return None
            value = step["mapping"].get(value, value)
        return value

    def row(self, item: str) -> dict | None:
        values = [
            self.read(v, ver) for (i, _), (v, ver) in self.answers.items() if i == item and v is not None
        ]
        values = [v for v in values if v is not None]
        counts = Counter(values)
        total = len(values)
        winner, share, agreement, tie = None, None, None, False
        if total:
            top = max(counts.values())
            winners = [v for v, n in counts.items() if n == top]
            tie = len(winners) > 1
            winner = None if tie else winners[0]
            share = top / total
            if total >= 2:
                agreement = float(sum(n * (n - 1) for n in counts.values())) / float(total * (total - 1))
        review = self.reviews.get(item, {"status": "open"})
        label, source = None, None
        if review["status"] == "resolved":
            label = self.read(*review["final"])
            source = "resolved" if label is not None else None
        if label is None and item in self.gold:
            label = self.read(*self.gold[item])
            source = "gold" if label is not None else None
        if label is None and winner is not None:
            label, source = winner, "consensus"
        if not total and label is None:
            return None
        return {
            "label": label,
            "label_source": source,
            "consensus": winner,
            "method": "majority",
            "confidence": share,
            "agreement": agreement,
            "n_answers": total,
            "is_tie": tie and source in (None, "consensus"),
            "is_gold": item in self.gold,
            "status": review["status"],
            "resolved_by": review.get("by") if source == "resolved" else None,
            "schema_version": self.current + 1,
        }

    def rows(self, *, lacking: bool = False) -> dict[str, dict]:
        out = {}
        for item in self.items:
            row = self.row(item)
            if row is not None and (lacking or row["status"] != "lacks_information"):
                out[item] = row
        return out


class LabelsMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        n = next(_names)
        self.manager = UserFactory(username=f"m{n}-mgr", is_staff=True)
        self.project = ProjectFactory(
            created_by=self.manager, data_type="record", classes=["a", "b", "c"], overlap=5
        )
        self.reviewer = UserFactory(username=f"m{n}-rev")
        MembershipFactory(project=self.project, user=self.reviewer, role=Role.REVIEWER)
        self.labelers = [UserFactory(username=f"m{n}-l{i}") for i in range(4)]
        for labeler in self.labelers:
            MembershipFactory(project=self.project, user=labeler, role=Role.LABELER)
        self.ref = Reference(["a", "b", "c"])
        self.items: dict[str, Item] = {}
        self._import(["i0", "i1", "i2"])

    def _import(self, external_ids: list[str]):
        rows = [{"external_id": e, "data": {"text": e}} for e in external_ids]
        items_import_records(project=self.project, files=[RecordFile("body", "rows", rows)])
        for item in Item.objects.filter(project=self.project, external_id__in=external_ids):
            self.items[item.external_id] = item
            if item.external_id not in self.ref.items:
                self.ref.items.append(item.external_id)

    def _item(self, data) -> Item:
        return self.items[data.draw(st.sampled_from(sorted(self.items)))]

    @rule(data=st.data(), labeler=st.integers(0, 3), skip=st.booleans())
    def answer(self, data, labeler, skip):
        item = self._item(data)
        user = self.labelers[labeler]
        assignment = Assignment.objects.filter(item=item, labeler=user).first()
        if assignment is None:
            Assignment.objects.filter(project=self.project, labeler=user, status="reserved").update(
                status="expired"
            )
            Assignment.objects.create(project=self.project, item=item, labeler=user, status="reserved")
        if skip:
            annotation_submit(item_id=item.id, labeler=user, skip_reason="lacks_information")
            self.ref.answers[(item.external_id, labeler)] = (None, self.ref.current)
        else:
            value = data.draw(st.sampled_from(self.ref.classes))
            annotation_submit(item_id=item.id, labeler=user, value=value)
            self.ref.answers[(item.external_id, labeler)] = (value, self.ref.current)

    def _review_version(self, item: Item) -> int:
        review = Review.objects.filter(item=item).first()
        return review.version if review else 0

    @rule(data=st.data())
    def set_gold(self, data):
        item = self._item(data)
        value = data.draw(st.sampled_from(self.ref.classes))
        items_set_gold(project=self.project, item=item, value=value)
        self.ref.gold[item.external_id] = (value, self.ref.current)

    @rule(data=st.data())
    def resolve(self, data):
        item = self._item(data)
        value = data.draw(st.sampled_from(self.ref.classes))
        review_act(
            project=self.project,
            item=item,
            actor=self.reviewer,
            action="resolve",
            expected_version=self._review_version(item),
            value=value,
        )
        self.ref.reviews[item.external_id] = {
            "status": "resolved",
            "final": (value, self.ref.current),
            "by": self.reviewer.username,
        }
        self.ref.gold[item.external_id] = (value, self.ref.current)  # a resolution is gold too

    @rule(data=st.data())
    def lacks_information(self, data):
        item = self._item(data)
        review_act(
            project=self.project,
            item=item,
            actor=self.reviewer,
            action="lacks_information",
            expected_version=self._review_version(item),
        )
        self.ref.reviews.setdefault(item.external_id, {})["status"] = "lacks_information"

    def _change(self, op: str, params: dict, mapping: dict, classes: list[str]):
        schema_change_apply(
            project=self.project,
            op=op,
            params={**params, "keep_instructions": True},
            note=op,
            actor=self.manager,
            dry_run=False,
        )
        self.ref.versions.append({"classes": classes, "mapping": mapping})

    @precondition(lambda self: len(self.ref.classes) >= 3)
    @rule(data=st.data(), new_name=st.booleans())
    def merge(self, data, new_name):
        pair = data.draw(st.lists(st.sampled_from(self.ref.classes), min_size=2, max_size=2, unique=True))
        into = f"k{next(_names)}" if new_name else pair[0]
        first = min(self.ref.classes.index(p) for p in pair)
        kept = [c for c in self.ref.classes if c not in pair]
        kept.insert(first, into)
        self._change("merge", {"classes": pair, "into": into}, {p: into for p in pair if p != into}, kept)

    @rule(data=st.data())
    def rename(self, data):
        old = data.draw(st.sampled_from(self.ref.classes))
        new = f"k{next(_names)}"
        classes = [new if c == old else c for c in self.ref.classes]
        self._change("rename", {"from": old, "to": new}, {old: new}, classes)

    @precondition(lambda self: len(self.ref.classes) < MAX_CLASSES)
    @rule(data=st.data())
    def split(self, data):
        old = data.draw(st.sampled_from(self.ref.classes))
        into = [f"k{next(_names)}", f"k{next(_names)}"]
        position = self.ref.classes.index(old)
        classes = [c for c in self.ref.classes if c != old]
        classes[position:position] = into
        self._change("split", {"class": old, "into": into}, {old: None}, classes)

    @precondition(lambda self: len(self.ref.classes) < MAX_CLASSES)
    @rule(borderline=st.booleans())
    def add_class(self, borderline):
        name = "borderline" if borderline and "borderline" not in self.ref.classes else f"k{next(_names)}"
        self._change("add_class", {"name": name}, {}, [*self.ref.classes, name])

    @rule()
    def agreement_run(self):
        pending = AgreementRun.objects.filter(project=self.project, status=RunStatus.PENDING).first()
        run = pending or AgreementRun.objects.create(
            project=self.project,
            schema_version=self.project.schema_version,
            params={"consensus": "majority", "bootstrap": 0},
        )
        agreement_run_compute(run_id=run.id)

    @rule(new=st.booleans())
    def reimport(self, new):
        self._import([*self.items, *([f"i{len(self.items)}"] if new else [])])

    @invariant()
    def export_rows_equal_the_reference(self):
        expected = self.ref.rows()
        for fast in (True, False):
            rows = [json.loads(line) for line in _export(self.project, fast).splitlines()]
            assert [r["external_id"] for r in rows] == [e for e in self.ref.items if e in expected]
            for row in rows:
                assert {f: row[f] for f in FIELDS} == expected[row["external_id"]], (fast, row)
                assert bool(row["resolved_at"]) == (row["label_source"] == "resolved")

    def teardown(self):
        if not hasattr(self, "project"):
            return
        expected = self.ref.rows(lacking=True)
        lacking = [
            json.loads(x) for x in _export(self.project, True, include="lacks_information").splitlines()
        ]
        reference = _export(self.project, False, include="lacks_information").splitlines()
        assert lacking == [json.loads(x) for x in reference]
        assert {row["external_id"] for row in lacking} == set(expected)
        for fast in (True, False):
            text = _export(self.project, fast, format="csv", include="lacks_information").decode()
            labels = {r["external_id"]: r["label"] for r in csv.DictReader(io.StringIO(text))}
            assert labels == {e: row["label"] or "" for e, row in expected.items()}
        table = pq.read_table(
            io.BytesIO(_export(self.project, False, format="parquet", include="lacks_information"))
        )
        labels = dict(
            zip(table.column("external_id").to_pylist(), table.column("label").to_pylist(), strict=True)
        )
        assert labels == {
            e: json.dumps(row["label"]) if row["label"] else None for e, row in expected.items()
        }
        tasks = json.loads(_export(self.project, False, format="label_studio", include="lacks_information"))
        for task in tasks:
            result = task["predictions"][0]["result"]
            label = expected[task["meta"]["external_id"]]["label"]
            assert (result[0]["value"]["choices"] if result else [None]) == [label]


@pytest.mark.django_db
@override_settings(CONCORD_LIVE_MARGIN_SECONDS=0)
def test_current_labels_follow_the_event_history():
    LabelsMachine.TestCase.settings = settings(
        max_examples=EXAMPLES,
        stateful_step_count=6,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        derandomize=EXAMPLES <= 200,  # the CI profile is the same 200 sequences every time
    )
    LabelsMachine.TestCase().runTest()
