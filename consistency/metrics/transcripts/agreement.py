"""Transcript agreement: normalization, exact match, pairwise 1 − WER / 1 − CER, and alpha with a
normalized edit distance. The medoid transcript is in :mod:`consistency.metrics.transcripts.consensus`.

**Normalization** (in this order): the user's standardization rules, applied in order (see
:mod:`consistency.metrics.transcripts.rules`: rules ignore case unless ``case_sensitive``, regexes
run on RE2 in linear time), then lower case, punctuation → space (square brackets are kept, so tags like
``[unintelligible]`` survive), and runs of whitespace → one space.

**Pairwise measures** compare every pair of transcripts of an item. Edit counts come from jiwer
(``process_words`` / ``process_characters``, batched over all pairs; no hand-written edit
distance). WER depends on which side is the reference, so the pairwise WER is the mean of both
directions, ``e · (1/|a| + 1/|b|) / 2``, and the similarity is ``max(0, 1 − WER)``; the same for
CER on characters. Two empty transcripts agree (similarity 1), one empty against a non-empty
one is 0.

**Alpha** uses the normalized character edit distance ``δ(a, b) = e_chars / max(|a|, |b|)`` in
[0, 1] (0 for two empty strings), with D_e exact when the distinct transcripts are few, else a
seeded sample of ``max_expected_pairs`` pairs (see
:func:`consistency.metrics.stats.alpha.pairwise_disagreement`).

Per-pair work (jiwer's alignment) runs in jiwer; everything around it is vectorized.
"""

import re
import string
from collections.abc import Sequence
from typing import Any, Literal

import jiwer
import numpy as np
import pandas as pd

from consistency.metrics.arrays import AnyArray, FloatArray, IntArray, ObjectArray
from consistency.metrics.frames import check_frame, factorize
from consistency.metrics.stats.alpha import pairwise_disagreement, within_item_pairs
from consistency.metrics.transcripts.rules import Rule, compile_rules

_PUNCTUATION = "[" + re.escape(string.punctuation.replace("[", "").replace("]", "")) + "]"
_PUNCTUATION_RE = re.compile(_PUNCTUATION)
#: D_e sample size for transcript alpha (each pair is one character alignment).
EXPECTED_PAIRS = 20_000


def normalize(
    text: str,
    rules: Sequence[Rule] = (),
    *,
    lowercase: bool = True,
    punctuation: bool = True,
    whitespace: bool = True,
) -> str:
    """Normalize one transcript (see the module docstring for the order of the steps).

    Parameters
    ----------
    text : the transcript.
    rules : raw or compiled standardization rules (see :func:`compile_rules`).
    lowercase, punctuation, whitespace : switch each built-in step off.
    """
    for rule in compile_rules(rules):
        text = rule.apply(text)
    if lowercase:
        text = text.lower()
    if punctuation:
        text = _PUNCTUATION_RE.sub(" ", text)
    return " ".join(text.split()) if whitespace else text


def normalize_many(
    texts: pd.Series | Sequence[str | None],
    rules: Sequence[Rule] = (),
    *,
    lowercase: bool = True,
    punctuation: bool = True,
    whitespace: bool = True,
) -> pd.Series:
    """Normalize many transcripts with pandas string operations (same result as :func:`normalize`).

    Parameters
    ----------
    texts : (n,) transcripts; None/NaN become the empty transcript.

    Returns
    -------
    (n,) Series of str, same index as ``texts`` when it is a Series.
    """
    out = (
        (texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype=object))
        .fillna("")
        .astype(str)
    )
    for rule in compile_rules(rules):
        if rule.literal:
            out = out.str.replace(rule.pattern, rule.replacement, regex=False)
        else:
            out = out.map(rule.apply)
    if lowercase:
        out = out.str.lower()
    if punctuation:
        out = out.str.replace(_PUNCTUATION_RE, " ", regex=True)
    if whitespace:
        out = out.str.split().str.join(" ")
    normalized: pd.Series = out
    return normalized


def edit_counts(
    a: AnyArray, b: AnyArray, unit: Literal["word", "char"]
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Edit counts and lengths of pairs of strings, by jiwer.

    Parameters
    ----------
    a, b : (p,) strings, compared pairwise; unit : count words or characters.

    Returns
    -------
    (edits, len_a, len_b), each (p,) float64. Pairs with an empty side are counted directly.
    """
    a = np.asarray(a, dtype=object)
    b = np.asarray(b, dtype=object)
    sa, sb = pd.Series(a, dtype=object), pd.Series(b, dtype=object)
    if unit == "word":
        len_a, len_b = sa.str.split().str.len(), sb.str.split().str.len()
    else:
        len_a, len_b = sa.str.strip().str.len(), sb.str.strip().str.len()
    lengths_a: FloatArray = len_a.to_numpy(dtype=np.float64)
    lengths_b: FloatArray = len_b.to_numpy(dtype=np.float64)
    edits: FloatArray = np.abs(lengths_a - lengths_b)  # exact when one side is empty
    full = (lengths_a > 0) & (lengths_b > 0)
    if full.any():
        process = jiwer.process_words if unit == "word" else jiwer.process_characters
        out = process(list(a[full]), list(b[full]))
        edits[full] = [
            sum(
                max(c.ref_end_idx - c.ref_start_idx, c.hyp_end_idx - c.hyp_start_idx)
                for c in chunks
                if c.type != "equal"
            )
            for chunks in out.alignments
        ]
    return edits, lengths_a, lengths_b


def pair_similarity(edits: FloatArray, len_a: FloatArray, len_b: FloatArray) -> FloatArray:
    """max(0, 1 − symmetric error rate) of (p,) pairs (see :func:`edit_counts`); 1 for two empty
    strings, 0 for one empty."""
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = edits * (1.0 / len_a + 1.0 / len_b) / 2.0
    rate = np.where((len_a == 0) & (len_b == 0), 0.0, rate)
    similarity: FloatArray = np.clip(1.0 - np.nan_to_num(rate, nan=1.0, posinf=1.0), 0.0, 1.0)
    return similarity


class _CharDistance:
    """δ(a, b) = character edits / max(|a|, |b|), batched through jiwer and memoized."""

    def __init__(self) -> None:
        self.memo: dict[tuple[str, str], float] = {}

    def remember(self, a: ObjectArray, b: ObjectArray, d: FloatArray) -> None:
        self.memo.update(zip(zip(a, b, strict=True), d, strict=True))

    def __call__(self, a: ObjectArray, b: ObjectArray) -> FloatArray:
        keys = list(zip(a, b, strict=True))
        todo = [k for k in dict.fromkeys(keys) if k not in self.memo and k[::-1] not in self.memo]
        if todo:
            ta, tb = (
                np.array([k[0] for k in todo], dtype=object),
                np.array([k[1] for k in todo], dtype=object),
            )
            edits, la, lb = edit_counts(ta, tb, "char")
            self.remember(ta, tb, _normalized_distance(edits, la, lb))
        return np.array([self.memo.get(k, self.memo.get(k[::-1])) for k in keys], dtype=np.float64)


def _normalized_distance(edits: FloatArray, len_a: FloatArray, len_b: FloatArray) -> FloatArray:
    longest = np.maximum(len_a, len_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        distance: FloatArray = np.where(longest > 0, np.minimum(1.0, edits / longest), 0.0)
    return distance


def prepare_transcripts(frame: pd.DataFrame, rules: Sequence[Rule]) -> tuple[pd.DataFrame, IntArray]:
    """The answers sorted by item with a ``text`` column (normalized), and their (n,) item codes.

    frame : DataFrame with columns ``item``, ``labeler``, ``value`` (str; None = empty), from at
    least two labelers.
    """
    check_frame(frame, min_labelers=2, allow_missing_values=True)  # None: an empty transcript
    compiled = compile_rules(rules) if rules else []
    codes, _ = factorize(frame["item"])
    order = np.argsort(codes, kind="stable")
    ordered = frame.iloc[order].reset_index(drop=True)
    return ordered.assign(text=normalize_many(ordered["value"], compiled)), codes[order]


def transcript_alpha(
    frame: pd.DataFrame,
    rules: Sequence[Rule] = (),
    *,
    max_expected_pairs: int = EXPECTED_PAIRS,
    seed: int = 0,
) -> float:
    """Krippendorff's alpha of normalized transcripts with the normalized character edit distance.

    Parameters
    ----------
    frame : DataFrame with columns ``item``, ``labeler``, ``value`` (str).
    rules : standardization rules (see :func:`compile_rules`).
    max_expected_pairs, seed : see :func:`consistency.metrics.stats.alpha.pairwise_disagreement`.
    """
    ordered, item = prepare_transcripts(frame, rules)
    values = pd.Series(ordered["text"].to_numpy(dtype=object), index=item)
    return pairwise_disagreement(
        values, _CharDistance(), vectorized=True, max_expected_pairs=max_expected_pairs, seed=seed
    ).alpha


def transcript_agreement(
    frame: pd.DataFrame,
    rules: Sequence[Rule] = (),
    *,
    seed: int = 0,
    max_expected_pairs: int = EXPECTED_PAIRS,
) -> dict[str, Any]:
    """All transcript agreement figures.

    Parameters
    ----------
    frame : DataFrame with columns ``item``, ``labeler``, ``value`` (str; None = empty).
    rules : standardization rules (see :func:`compile_rules`).
    seed, max_expected_pairs : for alpha's expected disagreement.

    Returns
    -------
    dict with ``exact_match`` (share of items whose normalized answers are all equal),
    ``pair_exact_match`` (share of equal pairs), ``word_similarity`` (mean pairwise 1 − WER),
    ``char_similarity`` (mean pairwise 1 − CER), ``alpha``, ``items_measured`` (items with ≥ 2
    answers) and ``per_item`` (DataFrame ``item``, ``n``, ``agreement`` = mean pairwise
    1 − WER, ``exact``; NaN agreement below two answers).
    """
    ordered, item = prepare_transcripts(frame, rules)
    text = ordered["text"].to_numpy(dtype=object)
    i, j = within_item_pairs(item)
    if len(i) == 0:
        raise ValueError("no item has two transcripts: agreement is undefined")
    word = pair_similarity(*edit_counts(text[i], text[j], "word"))
    char_edits, len_a, len_b = edit_counts(text[i], text[j], "char")
    char = pair_similarity(char_edits, len_a, len_b)
    equal = text[i] == text[j]
    n_items = int(item.max()) + 1
    n_pairs = np.bincount(item[i], minlength=n_items)
    sizes = np.bincount(item, minlength=n_items)
    with np.errstate(divide="ignore", invalid="ignore"):
        agreement = np.bincount(item[i], weights=word, minlength=n_items) / n_pairs
    exact = np.bincount(item[i], weights=equal, minlength=n_items) == n_pairs
    first = np.searchsorted(item, np.arange(n_items))
    per_item = pd.DataFrame(
        {
            "item": ordered["item"].to_numpy()[first],
            "n": sizes,
            "agreement": agreement,
            "exact": exact & (sizes >= 2),
        }
    )
    distance = _CharDistance()
    distance.remember(text[i], text[j], _normalized_distance(char_edits, len_a, len_b))
    values = pd.Series(text, index=item)
    try:
        alpha = pairwise_disagreement(
            values, distance, vectorized=True, max_expected_pairs=max_expected_pairs, seed=seed
        ).alpha
    except ValueError:  # a single item with two answers
        alpha = float("nan")
    measured = sizes >= 2
    return {
        "exact_match": float(exact[measured].mean()),
        "pair_exact_match": float(equal.mean()),
        "word_similarity": float(word.mean()),
        "char_similarity": float(char.mean()),
        "alpha": float(alpha),
        "items_measured": int(measured.sum()),
        "per_item": per_item,
    }
