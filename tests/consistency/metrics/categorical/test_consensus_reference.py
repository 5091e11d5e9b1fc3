"""Consensus on real crowdsourcing data with gold (../shared/reference/crowd/, see its README).

crowd-kit figures: crowd-kit 1.4.2 ``DawidSkene(n_iter=100, tol=1e-5)`` run on these files
(in a throwaway environment; crowd-kit is not a Concord dependency), stored as correct / gold
items so the comparison is exact.
"""

from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest

from consistency.metrics.categorical.consensus import MajorityVote, accuracy, majority_vote_accuracy
from consistency.metrics.categorical.dawid_skene import DawidSkene

CROWD = Path(__file__).resolve().parents[3] / "reference" / "crowd"  # tests/reference/crowd
CROWDKIT_DAWID_SKENE = {
    "zheng2017_d_jn-product": Fraction(7814, 8315),  # 0.9397; published 0.940
    "zhang2014_bluebird": Fraction(96, 108),  # 0.8889; published 0.8889
    "zhang2014_rte": Fraction(742, 800),
    "zhang2014_trec": Fraction(1596, 2275),
    "zhang2014_web": Fraction(2200, 2653),
    "zheng2017_s4_Dog_data": Fraction(680, 807),
    "zheng2017_s4_Face_Sentiment_Identification": Fraction(374, 584),
}


def load(name: str) -> tuple[pd.DataFrame, pd.Series]:
    folder = CROWD / name
    if not folder.exists():
        pytest.fail(f"reference data missing: {folder}")
    answers = pd.read_csv(folder / "answer.csv").rename(
        columns={"question": "item", "worker": "labeler", "answer": "value"}
    )
    truth = pd.read_csv(folder / "truth.csv").set_index("question")["truth"]
    return answers, truth


@pytest.fixture(scope="module")
def reference_sets() -> dict[str, tuple[pd.DataFrame, pd.Series]]:
    return {name: load(name) for name in CROWDKIT_DAWID_SKENE}


@pytest.mark.parametrize(
    ("name", "published"), [("zheng2017_d_jn-product", 0.897), ("zhang2014_bluebird", 0.7593)]
)
def test_majority_vote_with_fractional_ties_reproduces_published_figures(reference_sets, name, published):
    answers, truth = reference_sets[name]
    digits = len(str(published).split(".")[1])
    assert majority_vote_accuracy(answers, truth) == pytest.approx(published, abs=0.5 * 10**-digits)


def test_majority_vote_scores_ties_as_wrong_when_asked(reference_sets):
    answers, truth = reference_sets["zhang2014_web"]
    fractional = majority_vote_accuracy(answers, truth)
    strict = majority_vote_accuracy(answers, truth, ties="wrong")
    assert strict < fractional
    assert strict == pytest.approx(accuracy(MajorityVote().fit_predict(answers), truth))


@pytest.mark.parametrize("name", list(CROWDKIT_DAWID_SKENE))
def test_dawid_skene_at_least_as_accurate_as_crowdkit(reference_sets, name):
    answers, truth = reference_sets[name]
    model = DawidSkene().fit(answers)
    correct = round(accuracy(model.labels_, truth) * len(truth))
    assert Fraction(correct, len(truth)) >= CROWDKIT_DAWID_SKENE[name]
    assert model.converged_ and model.n_iter_ <= 100


@pytest.mark.parametrize("name", list(CROWDKIT_DAWID_SKENE))
def test_dawid_skene_never_far_below_majority_vote(reference_sets, name):
    answers, truth = reference_sets[name]
    assert accuracy(DawidSkene().fit_predict(answers), truth) >= majority_vote_accuracy(answers, truth) - 0.01


@pytest.mark.parametrize(
    ("name", "published"), [("zheng2017_d_jn-product", 0.940), ("zhang2014_bluebird", 0.8889)]
)
def test_dawid_skene_reaches_published_figures(reference_sets, name, published):
    answers, truth = reference_sets[name]
    digits = len(str(published).split(".")[1])
    assert round(accuracy(DawidSkene().fit_predict(answers), truth), digits) >= published


def test_dawid_skene_1979_class_priors_with_replicated_ratings():
    frame = pd.read_csv(CROWD / "ds1979" / "answer_long.csv").rename(
        columns={"patient": "item", "observer": "labeler", "rating": "value"}
    )
    assert len(frame) == 315 and frame.duplicated(["item", "labeler"]).sum() == 90  # observer 1, ×3
    published = [0.40, 0.42, 0.11, 0.07]
    # Maximum likelihood (no priors) is Dawid & Skene's own estimate.
    plain = DawidSkene(confusion_prior=0, class_prior=0).fit(frame)
    assert plain.priors_.to_numpy() == pytest.approx(published, abs=0.005)
    # The default's small Dirichlet priors move it by about a point at 45 patients.
    assert DawidSkene().fit(frame).priors_.to_numpy() == pytest.approx(published, abs=0.01)
