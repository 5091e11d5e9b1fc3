"""Human-level performance of transcripts: word accuracy = 1 − WER, each labeler judged by the
others.

For every ordered pair of labelers on an item, one transcript is the hypothesis and the other the
reference: WER = word edits / reference words (jiwer, after the project's standardization rules).
Each judged answer is a scored row with ``errors`` = word edits and ``total`` = reference words;
a labeler's figure sums the pairs where they are the hypothesis (corpus WER: Σ edits / Σ
reference words), the project's every ordered pair (see :mod:`consistency.metrics.stats.scores`).
Against gold the reference is the gold transcript.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd

from consistency.metrics.stats.alpha import within_item_pairs
from consistency.metrics.stats.bootstrap import DEFAULT_LEVEL, DEFAULT_N_BOOT
from consistency.metrics.stats.scores import ScoreHLP, gold_scores, hlp_from_scores
from consistency.metrics.transcripts.agreement import edit_counts, normalize_many, prepare_transcripts
from consistency.metrics.transcripts.rules import Rule, compile_rules


def transcript_scores(
    hypotheses: pd.Series, references: pd.Series, rules: Sequence[Rule] = ()
) -> pd.DataFrame:
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
    edits, _, len_b = edit_counts(a, b, "word") if len(a) else (np.zeros(0), np.zeros(0), np.zeros(0))
    return pd.DataFrame({"item": hyp.index.to_numpy(), "errors": edits, "total": len_b})


def transcript_pair_scores(frame: pd.DataFrame, rules: Sequence[Rule] = ()) -> pd.DataFrame:
    """Every answer judged by each other labeler of its item.

    Parameters
    ----------
    frame : DataFrame with columns ``item``, ``labeler``, ``value`` (str).

    Returns
    -------
    DataFrame, two rows per pair of labelers on an item (each side the hypothesis once), with
    columns ``item``, ``labeler`` (the hypothesis'), ``errors`` (word edits) and ``total`` (the
    other's words). ``ValueError`` when no item has transcripts from two labelers.
    """
    ordered, item = prepare_transcripts(frame, rules)
    labeler = ordered["labeler"].to_numpy()
    i, j = within_item_pairs(item)
    keep = labeler[i] != labeler[j]
    i, j = i[keep], j[keep]
    if len(i) == 0:
        raise ValueError("no item has transcripts from two labelers: HLP is undefined")
    text = ordered["text"].to_numpy(dtype=object)
    edits, len_i, len_j = edit_counts(text[i], text[j], "word")
    items = ordered["item"].to_numpy()
    return pd.DataFrame(
        {
            "item": np.concatenate([items[i], items[j]]),
            "labeler": np.concatenate([labeler[i], labeler[j]]),
            "errors": np.concatenate([edits, edits]),
            "total": np.concatenate([len_j, len_i]),  # the other labeler is the reference
        }
    )


def transcript_hlp(
    frame: pd.DataFrame,
    rules: Sequence[Rule] = (),
    *,
    gold: pd.Series | None = None,
    slices: pd.DataFrame | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> ScoreHLP:
    """HLP of transcripts as word accuracy (1 − WER), per labeler, per slice and on gold.

    Parameters
    ----------
    frame : DataFrame with columns ``item``, ``labeler``, ``value`` (str).
    rules : standardization rules applied before comparing (see
        :func:`consistency.metrics.transcripts.rules.compile_rules`).
    gold : gold transcripts indexed by item; slices : DataFrame indexed by item, a column per
        slice field.
    """
    pairs = transcript_pair_scores(frame, rules)
    scored_gold = gold_scores(frame, gold, lambda hyp, ref: transcript_scores(hyp, ref, rules))
    return hlp_from_scores(
        "word accuracy (1 − WER)", pairs, scored_gold, slices, n_boot=n_boot, level=level, seed=seed
    )
