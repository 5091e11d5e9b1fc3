"""The classes report and per-item results are the same whether the report's sections and label
quality run on threads beside Dawid–Skene or one after the other (past
``SIDE_BY_SIDE_MAX_ANSWERS``), for either consensus method, and whether the per-item results are
computed or not (a run sharing an earlier run's results); an error on a thread still fails the
run."""

import json

import numpy as np
import pandas as pd
import pytest

from consistency.services.measure import RunParams, categorical, measure_project

CLASSES = ["cat", "dog", "bird"]


def _frame(seed: int) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for item in range(1, 301):
        truth = rng.integers(0, 3)
        for labeler in rng.choice(np.arange(10, 16), size=rng.integers(1, 5), replace=False):
            value = CLASSES[truth] if rng.random() < 0.7 else CLASSES[rng.integers(0, 3)]
            skipped = rng.random() < 0.05
            rows.append((item, int(labeler), None if skipped else value, skipped, False, 1))
    frame = pd.DataFrame(
        rows, columns=["item", "labeler", "value", "skipped", "needs_relabel", "schema_version"]
    )
    frame["value"] = pd.Categorical(frame["value"], categories=CLASSES)
    slices = pd.DataFrame(
        {"site": [f"s{i % 4}" for i in range(1, 301)]}, index=pd.Index(range(1, 301), name="item")
    )
    gold = {item: CLASSES[item % 3] for item in range(1, 301, 37)}
    return frame, slices, gold


def _measure(frame, slices, gold, consensus, results_wanted=True):
    report, results = measure_project(
        results_wanted=results_wanted,
        frame=frame,
        label_kind="classes",
        classes=CLASSES,
        slices=slices,
        gold=gold,
        params=RunParams(consensus=consensus, bootstrap=200),
    )
    report.pop("timing")
    return json.dumps(report), results


@pytest.mark.parametrize("consensus", ["majority", "dawid_skene"])
@pytest.mark.parametrize("seed", [1, 7])
def test_side_by_side_and_one_after_the_other_agree(seed, consensus, monkeypatch):
    frame, slices, gold = _frame(seed)
    side_by_side = _measure(frame, slices, gold, consensus)
    monkeypatch.setattr(categorical, "SIDE_BY_SIDE_MAX_ANSWERS", 0)
    in_turn = _measure(frame, slices, gold, consensus)
    assert side_by_side[0] == in_turn[0]  # the same report, key order included
    pd.testing.assert_frame_equal(side_by_side[1], in_turn[1], check_exact=True)
    report_alone = _measure(frame, slices, gold, consensus, results_wanted=False)
    assert report_alone == (in_turn[0], None)
    monkeypatch.setattr(categorical, "SIDE_BY_SIDE_MAX_ANSWERS", 10**9)
    assert _measure(frame, slices, gold, consensus, results_wanted=False) == (side_by_side[0], None)
    report = json.loads(side_by_side[0])
    assert report["hlp"]["per_slice"]["site"] and report["label_quality"]["scored_items"] > 0


@pytest.mark.parametrize("limit", [0, 10**9])
def test_an_error_on_a_thread_reaches_the_caller(limit, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("HLP broke")

    monkeypatch.setattr(categorical, "SIDE_BY_SIDE_MAX_ANSWERS", limit)
    monkeypatch.setattr(categorical, "hlp_categorical", broken)
    frame, slices, gold = _frame(3)
    with pytest.raises(RuntimeError, match="HLP broke"):
        _measure(frame, slices, gold, "majority")
