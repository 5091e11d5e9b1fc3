"""Pre-labels in a run's report: do labelers anchor on the model's suggestion?

Each answer given on an item shown with the suggestion ("shown") or without it ("held_out") is
scored against the model's answer and against the other labelers of the item, the way HLP
scores answers of that kind; ``consistency.metrics.stats.anchoring`` compares the two arms.
"""

import numpy as np
import pandas as pd

from consistency.metrics.boxes.hlp import box_pair_scores, box_scores
from consistency.metrics.categorical.hlp import leave_one_out
from consistency.metrics.stats.anchoring import anchoring
from consistency.metrics.stats.scores import answer_scores
from consistency.metrics.transcripts.hlp import transcript_pair_scores, transcript_scores


def _key(value) -> str:
    """A hashable, order-free key of a categorical answer (a class, or a set of classes)."""
    return "\x1f".join(sorted(map(str, value))) if isinstance(value, list) else str(value)


def _against_model(kind: str, answers: pd.DataFrame, rules) -> pd.DataFrame:
    """errors and total of each answer (row order) against its suggestion."""
    if kind in ("transcription", "boxes"):
        index = pd.RangeIndex(len(answers))
        hyp = pd.Series(answers["value"].to_numpy(), index=index)
        ref = pd.Series(answers["suggestion"].to_numpy(), index=index)
        scored = transcript_scores(hyp, ref, rules) if kind == "transcription" else box_scores(hyp, ref)
        return scored.set_index("item").reindex(index)[["errors", "total"]]
    differ = answers["value"].map(_key).to_numpy() != answers["suggestion"].map(_key).to_numpy()
    return pd.DataFrame({"errors": differ.astype(np.float64), "total": np.ones(len(answers))})


def _judged_by_others(kind: str, answered: pd.DataFrame, rules) -> pd.DataFrame:
    """errors and total of each answer judged by every other labeler of its item, the way HLP
    judges it, indexed by (item, labeler); empty when no item has two labelers."""
    frame = answered[["item", "labeler", "value"]]
    try:
        pairs = transcript_pair_scores(frame, rules) if kind == "transcription" else box_pair_scores(frame)
    except ValueError:  # no item with two labelers
        empty = pd.MultiIndex.from_arrays([[], []], names=["item", "labeler"])
        return pd.DataFrame({"errors": [], "total": []}, index=empty)
    return answer_scores(pairs)


def _against_others(kind: str, answered: pd.DataFrame, answers: pd.DataFrame, rules) -> pd.DataFrame:
    """errors and total of each answer (row order) against the other labelers of its item."""
    keys = pd.MultiIndex.from_frame(answers[["item", "labeler"]])
    if kind in ("transcription", "boxes"):
        return _judged_by_others(kind, answered, rules).reindex(keys).reset_index(drop=True)
    frame = answered[["item", "labeler"]].assign(value=answered["value"].map(_key))
    if frame["labeler"].nunique() < 2:
        return pd.DataFrame({"errors": np.nan, "total": np.nan}, index=range(len(answers)))
    loo = leave_one_out(frame).set_index(["item", "labeler"])["agrees"]
    agrees = loo[~loo.index.duplicated()].reindex(keys).to_numpy(dtype=np.float64)
    return pd.DataFrame({"errors": 1.0 - agrees, "total": np.where(np.isnan(agrees), np.nan, 1.0)})


def measure_prelabels(
    *, frame: pd.DataFrame, exposures: pd.DataFrame, label_kind: str, rules=(), seed: int = 0
) -> dict | None:
    """The report's ``prelabels`` section, or None when no answer was given with pre-labels on.

    frame : the run's answers (item, labeler, value, skipped, needs_relabel).
    exposures : item, labeler, shown (bool), model_version, suggestion (the model's answer).
    """
    if exposures.empty:
        return None
    answered = frame[~frame["skipped"] & ~frame["needs_relabel"]]
    answers = answered.merge(exposures, on=["item", "labeler"], how="inner")
    if answers.empty:
        return None
    model = _against_model(label_kind, answers, rules)
    others = _against_others(label_kind, answered, answers, rules)
    scores = pd.DataFrame(
        {
            "arm": np.where(answers["shown"].to_numpy(dtype=bool), "shown", "held_out"),
            "model_errors": model["errors"].to_numpy(),
            "model_total": model["total"].to_numpy(),
            "others_errors": others["errors"].to_numpy(),
            "others_total": others["total"].to_numpy(),
        }
    )
    result = anchoring(scores, seed=seed)
    clean = {
        arm: {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in result[arm].items()}
        for arm in ("shown", "held_out")
    }
    difference = {
        name: [None if not np.isfinite(v) else round(v, 4) for v in values]
        for name, values in result["difference"].items()
    }
    return {
        **clean,
        "difference": difference,
        "accepted_unchanged": int((model["errors"][answers["shown"].to_numpy(dtype=bool)] == 0).sum()),
        "model_versions": sorted(exposures["model_version"].unique().tolist()),
    }
