"""Human-level performance (HLP) for transcripts and boxes: each labeler judged by the others.

The course's question — how well does a person do this, judged by another person? — with the
score each kind of answer has in practice:

* **Transcripts: word accuracy = 1 − WER.** For every ordered pair of labelers on an item, one
  transcript is the hypothesis and the other the reference: WER = word edits / reference words
  (jiwer, after the project's standardization rules). A labeler's figure sums the pairs where
  they are the hypothesis (corpus WER: Σ edits / Σ reference words); the project's sums every
  ordered pair. Against gold the reference is the gold transcript.
* **Boxes: F1 at IoU ≥ threshold, class-aware.** Two labelers' boxes on an item are matched
  one-to-one (:func:`consistency.metrics.boxes.match_arrays`); a match counts when the classes
  agree. F1 = 2 · matches / (boxes of both), summed over pairs the same way. Items where
  nobody drew a box add nothing (F1 has no denominator there), as in detection benchmarks.

Both are written as a score = 1 − Σ errors / Σ total over "scored rows" (one per judged answer:
``errors`` = word edits or unmatched boxes, ``total`` = reference words or boxes of both). A
WER above 1 would make the score negative; it is clipped to 0. Intervals are seeded percentile
bootstraps over items (an item's rows move together), as for categorical HLP.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from consistency.metrics.alpha import within_item_pairs
from consistency.metrics.boxes import DEFAULT_THRESHOLD, _Answers, _array, match_arrays
from consistency.metrics.hlp import DEFAULT_LEVEL, DEFAULT_N_BOOT, _check_bootstrap, _cluster_interval
from consistency.metrics.transcripts import _edits, _prepared, compile_rules, normalize_many

_NONE = "(none)"


@dataclass(frozen=True)
class ShapeHLP:
    """Result of :func:`transcript_hlp` / :func:`box_hlp`.

    measure : what the score is ("word accuracy (1 − WER)" or "box F1 (IoU ≥ 0.5)").
    project : Series — hlp, low, high, n (scored answers), items, gold_n, gold_accuracy.
    labelers : DataFrame indexed by labeler — n, rate, low, high, gold_n, gold_rate.
    per_slice : {field: DataFrame indexed by slice value — n, rate, low, high}.
    """

    measure: str
    project: pd.Series
    labelers: pd.DataFrame
    per_slice: dict


def _score(errors: float, total: float) -> float:
    return float(min(1.0, max(0.0, 1.0 - errors / total))) if total > 0 else float("nan")


def score_rates(
    scores: pd.DataFrame,
    by: pd.Series | None = None,
    *,
    n_boot: int = DEFAULT_N_BOOT,
    level: float = DEFAULT_LEVEL,
    rng: np.random.Generator | None = None,
) -> pd.DataFrame:
    """Score per group with an item-cluster bootstrap interval.

    Parameters
    ----------
    scores : DataFrame (n rows) with columns ``item``, ``errors``, ``total`` (and any others).
    by : (n,) group of each row, aligned with ``scores``; None = one group "all".

    Returns
    -------
    DataFrame indexed by group with columns ``n`` (rows), ``rate``, ``low``, ``high``.
    """
    _check_bootstrap(n_boot, level)
    rng = rng if rng is not None else np.random.default_rng(0)
    group = pd.Series("all", index=scores.index) if by is None else pd.Series(by, index=scores.index)
    per_item = (
        scores.assign(group=group.to_numpy()).groupby(["group", "item"], sort=True)[["errors", "total"]].sum()
    )
    sizes = group.value_counts()  # rows per group, counted once
    rows = []
    for name, part in per_item.groupby(level=0, sort=True):
        errors = part["errors"].to_numpy(dtype=np.float64)
        total = part["total"].to_numpy(dtype=np.float64)
        lo, hi = _cluster_interval(errors, total, n_boot=n_boot, level=level, rng=rng)
        n = int(sizes[name])
        rows.append((name, n, _score(errors.sum(), total.sum()), _score(hi, 1.0), _score(lo, 1.0)))
    out = pd.DataFrame(rows, columns=["group", "n", "rate", "low", "high"]).set_index("group")
    return out.astype({"n": np.int64, "rate": np.float64, "low": np.float64, "high": np.float64})


def transcript_scores(hypotheses: pd.Series, references: pd.Series, rules=()) -> pd.DataFrame:
    """Word edits of each hypothesis against its item's reference transcript.

    Parameters
    ----------
    hypotheses : (n,) transcripts indexed by item (an item may repeat: several labelers).
    references : transcripts indexed by item (one per item); hypotheses without one are dropped.

    Returns
    -------
    DataFrame (rows with a reference) with columns ``item``, ``errors`` (word edits) and
    ``total`` (reference words), in the order of ``hypotheses``.
    """
    references = references[~references.index.duplicated()]
    keep = hypotheses.index.isin(references.index)
    hyp = hypotheses[keep]
    compiled = compile_rules(rules) if rules else []
    a = normalize_many(hyp.fillna("").astype(str).reset_index(drop=True), compiled).to_numpy(dtype=object)
    ref = references.reindex(hyp.index).fillna("").astype(str).reset_index(drop=True)
    b = normalize_many(ref, compiled).to_numpy(dtype=object)
    edits, _, len_b = _edits(a, b, "word") if len(a) else (np.zeros(0), np.zeros(0), np.zeros(0))
    return pd.DataFrame({"item": hyp.index.to_numpy(), "errors": edits, "total": len_b})


def box_scores(
    hypotheses: pd.Series, references: pd.Series, *, threshold: float = DEFAULT_THRESHOLD
) -> pd.DataFrame:
    """Class-aware box matches of each hypothesis against its item's reference boxes.

    Parameters
    ----------
    hypotheses : (n,) lists of box dicts indexed by item; references : one list per item.

    Returns
    -------
    DataFrame with columns ``item``, ``errors`` (boxes of both − 2 · class-agreeing matches)
    and ``total`` (boxes of both).
    """
    references = references[~references.index.duplicated()]
    rows = []
    for item, boxes in hypotheses[hypotheses.index.isin(references.index)].items():
        a, b = _array(boxes or []), _array(references[item] or [])
        r, c, _ = match_arrays(a, b, threshold)
        classes_a = [str((boxes[k] or {}).get("class", "")) for k in r]
        classes_b = [str((references[item][k] or {}).get("class", "")) for k in c]
        agree = sum(x == y for x, y in zip(classes_a, classes_b, strict=True))
        rows.append((item, len(a) + len(b) - 2 * agree, len(a) + len(b)))
    return pd.DataFrame(rows, columns=["item", "errors", "total"]).astype({"errors": float, "total": float})


def _pair_scores_transcripts(frame: pd.DataFrame, rules) -> pd.DataFrame:
    ordered, item = _prepared(frame, rules)
    labeler = ordered["labeler"].to_numpy()
    i, j = within_item_pairs(item)
    keep = labeler[i] != labeler[j]
    i, j = i[keep], j[keep]
    if len(i) == 0:
        raise ValueError("no item has transcripts from two labelers: HLP is undefined")
    text = ordered["text"].to_numpy(dtype=object)
    edits, len_i, len_j = _edits(text[i], text[j], "word")
    items = ordered["item"].to_numpy()
    return pd.DataFrame(
        {
            "item": np.concatenate([items[i], items[j]]),
            "labeler": np.concatenate([labeler[i], labeler[j]]),
            "errors": np.concatenate([edits, edits]),
            "total": np.concatenate([len_j, len_i]),  # the other labeler is the reference
        }
    )


def _pair_scores_boxes(frame: pd.DataFrame, threshold: float) -> pd.DataFrame:
    answers = _Answers(frame)
    labeler = answers.frame["labeler"].to_numpy()
    i, j = within_item_pairs(answers.item)
    keep = labeler[i] != labeler[j]
    i, j = i[keep], j[keep]
    if len(i) == 0:
        raise ValueError("no item has boxes from two labelers: HLP is undefined")
    same = np.array([answers.compare(a, b, threshold, True)[2] for a, b in zip(i, j, strict=True)])
    both = (answers.sizes[i] + answers.sizes[j]).astype(np.float64)
    errors = both - 2 * same
    items = answers.frame["item"].to_numpy()
    return pd.DataFrame(
        {
            "item": np.concatenate([items[i], items[j]]),
            "labeler": np.concatenate([labeler[i], labeler[j]]),
            "errors": np.concatenate([errors, errors]),
            "total": np.concatenate([both, both]),
        }
    )


def scores_against_others(
    frame: pd.DataFrame, *, kind: str, rules=(), threshold: float = DEFAULT_THRESHOLD
) -> pd.DataFrame:
    """Each answer judged by every other labeler of its item, the way HLP judges it.

    Parameters
    ----------
    frame : DataFrame with columns ``item``, ``labeler``, ``value``.
    kind : "transcription" (word edits / reference words) or "boxes" (unmatched / boxes of both).

    Returns
    -------
    DataFrame indexed by (item, labeler) with ``errors`` and ``total`` summed over the pairs
    where the answer is judged; answers nobody else judged are absent (empty without pairs).
    """
    if kind not in ("transcription", "boxes"):
        raise ValueError(f"kind must be 'transcription' or 'boxes', got {kind!r}")
    try:
        pairs = (
            _pair_scores_transcripts(frame, rules)
            if kind == "transcription"
            else _pair_scores_boxes(frame, threshold)
        )
    except ValueError:  # no item with two labelers
        empty = pd.MultiIndex.from_arrays([[], []], names=["item", "labeler"])
        return pd.DataFrame({"errors": [], "total": []}, index=empty)
    return pairs.groupby(["item", "labeler"])[["errors", "total"]].sum()


def _gold_scores(frame: pd.DataFrame, gold: pd.Series | None, score) -> pd.DataFrame | None:
    """Each answer on a gold item scored against the gold answer (``score(hyp, ref)``), with its
    labeler; None without gold."""
    if gold is None or not len(gold):
        return None
    answers = frame.set_index("item")
    on_gold = answers.index.isin(gold.index)
    return score(answers["value"], gold).assign(labeler=answers["labeler"].to_numpy()[on_gold])


def _report(
    measure: str,
    pairs: pd.DataFrame,
    gold_scores: pd.DataFrame | None,
    slices: pd.DataFrame | None,
    n_boot: int,
    level: float,
    seed: int,
) -> ShapeHLP:
    rng = np.random.default_rng(seed)
    overall = score_rates(pairs, n_boot=n_boot, level=level, rng=rng).iloc[0]
    labelers = score_rates(pairs, pairs["labeler"], n_boot=n_boot, level=level, rng=rng)
    labelers.index.name = "labeler"
    gold_n, gold_rate = pd.Series(0, index=labelers.index), pd.Series(np.nan, index=labelers.index)
    project_gold = (0, float("nan"))
    if gold_scores is not None and len(gold_scores):
        by_labeler = gold_scores.groupby("labeler")[["errors", "total"]].sum()
        gold_n = gold_scores.groupby("labeler").size().reindex(labelers.index, fill_value=0)
        gold_rate = pd.Series(
            [_score(e, t) for e, t in by_labeler.to_numpy()], index=by_labeler.index
        ).reindex(labelers.index)
        project_gold = (len(gold_scores), _score(gold_scores["errors"].sum(), gold_scores["total"].sum()))
    labelers = labelers.assign(gold_n=gold_n.astype(np.int64), gold_rate=gold_rate)
    per_slice = {}
    for field in slices.columns if slices is not None else []:
        value = pairs["item"].map(slices[field]).astype(object).where(lambda v: v.notna(), _NONE).astype(str)
        per_slice[str(field)] = score_rates(pairs, value, n_boot=n_boot, level=level, rng=rng)
    project = pd.Series(
        {
            "hlp": overall["rate"],
            "low": overall["low"],
            "high": overall["high"],
            "n": int(overall["n"]),
            "items": int(pairs["item"].nunique()),
            "gold_n": project_gold[0],
            "gold_accuracy": project_gold[1],
        }
    )
    return ShapeHLP(measure=measure, project=project, labelers=labelers, per_slice=per_slice)


def transcript_hlp(
    frame: pd.DataFrame,
    rules=(),
    *,
    gold: pd.Series | None = None,
    slices: pd.DataFrame | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> ShapeHLP:
    """HLP of transcripts as word accuracy (1 − WER), per labeler, per slice and on gold.

    Parameters
    ----------
    frame : DataFrame with columns ``item``, ``labeler``, ``value`` (str).
    rules : standardization rules applied before comparing (see ``transcripts.compile_rules``).
    gold : gold transcripts indexed by item; slices : DataFrame indexed by item, a column per
        slice field.
    """
    pairs = _pair_scores_transcripts(frame, rules)
    gold_scores = _gold_scores(frame, gold, lambda hyp, ref: transcript_scores(hyp, ref, rules))
    return _report("word accuracy (1 − WER)", pairs, gold_scores, slices, n_boot, level, seed)


def box_hlp(
    frame: pd.DataFrame,
    *,
    gold: pd.Series | None = None,
    slices: pd.DataFrame | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    n_boot: int = DEFAULT_N_BOOT,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> ShapeHLP:
    """HLP of boxes as class-aware F1 at IoU ≥ ``threshold``, per labeler, per slice and on gold.

    Parameters
    ----------
    frame : DataFrame with columns ``item``, ``labeler``, ``value`` (list of box dicts).
    gold : gold box lists indexed by item; slices : as in :func:`transcript_hlp`.
    """
    pairs = _pair_scores_boxes(frame, threshold)
    gold_scores = _gold_scores(frame, gold, lambda hyp, ref: box_scores(hyp, ref, threshold=threshold))
    return _report(f"box F1 (IoU ≥ {threshold:g})", pairs, gold_scores, slices, n_boot, level, seed)
