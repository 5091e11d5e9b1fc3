"""Consensus transcript: the medoid — the answer with the least total WER to the others.

Texts are compared after normalization (:func:`normalize_transcript` by default: Unicode NFKC,
lowercase, punctuation stripped, whitespace collapsed; or any callable ``str -> str``).

Distance. WER is asymmetric (edits divided by the *reference*'s word count), so between two
answers ``a`` and ``b`` Concord uses the mean of both directions,
``d(a, b) = (WER(a → b) + WER(b → a)) / 2`` with word edits from jiwer (an empty reference
counts its hypothesis's words, jiwer's convention). The medoid minimises ``Σ d(candidate,
other)`` over the other answers; identical normalized answers are one candidate carrying
their multiplicity. A symmetric distance makes the tie rule meaningful: when distinct
normalized texts share the least total (two labelers who disagree, for one) there is **no
consensus** (``tie`` = True), as with majority vote.

The consensus is the medoid as its labeler wrote it (the first answer, in frame order, whose
normalized text is the medoid); confidence is ``1 − mean d(medoid, other answers)`` clipped to
[0, 1] (1 when all agree after normalization; NaN for a single answer).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import NamedTuple

import jiwer
import numpy as np
import pandas as pd

from consistency.metrics._frames import check_frame
from consistency.metrics.consensus._base import result_frame

METHOD = "transcript_medoid"
_KEEP = {"[", "]"}  # tags such as "[unintelligible]" survive normalization
_WHITESPACE = re.compile(r"\s+")
_TIE_ATOL = 1e-12


def normalize_transcript(text: str) -> str:
    """Lowercase, strip punctuation, collapse whitespace.

    Apostrophes are removed (``"Don't" → "dont"``), other punctuation becomes a space
    (``"well,yes" → "well yes"``); square brackets are kept so tags such as
    ``[unintelligible]`` stay one word. Unicode is NFKC-normalized first.
    """
    if not isinstance(text, str):
        raise ValueError(f"a transcript must be a string, got {type(text).__name__}")
    text = unicodedata.normalize("NFKC", text).lower()
    out = []
    for char in text:
        if char in _KEEP or not unicodedata.category(char).startswith("P"):
            out.append(char)
        elif char not in "'’":
            out.append(" ")
    return _WHITESPACE.sub(" ", "".join(out)).strip()


def _edits(pairs_a: list[str], pairs_b: list[str]) -> np.ndarray:
    """Word edits (substitutions + deletions + insertions) per pair, one jiwer call."""
    if not pairs_a:
        return np.zeros(0)
    output = jiwer.process_words(pairs_a, pairs_b)
    edits = np.zeros(len(pairs_a))
    for index, chunks in enumerate(output.alignments):
        edits[index] = sum(
            (c.ref_end_idx - c.ref_start_idx)
            if c.type in ("substitute", "delete")
            else (c.hyp_end_idx - c.hyp_start_idx)
            for c in chunks
            if c.type != "equal"
        )
    return edits


class Medoid(NamedTuple):
    """One item's medoid: ``index`` into the given texts (None on a tie), ``confidence``, ``tie``."""

    index: int | None
    confidence: float
    tie: bool


def _medoids(groups: list[list[str]]) -> list[Medoid]:
    """Medoids for many items at once; ``groups`` holds each item's normalized texts."""
    uniques, multiplicities, firsts, pair_a, pair_b, owners = [], [], [], [], [], []
    for group_index, texts in enumerate(groups):
        distinct, first, multiplicity = np.unique(
            np.asarray(texts, dtype=object), return_index=True, return_counts=True
        )
        uniques.append(list(distinct))
        firsts.append(first)
        multiplicities.append(multiplicity)
        for i in range(len(distinct)):
            for j in range(i + 1, len(distinct)):
                pair_a.append(distinct[i])
                pair_b.append(distinct[j])
                owners.append((group_index, i, j))
    edits = _edits(pair_a, pair_b)
    distances = [np.zeros((len(u), len(u))) for u in uniques]
    for (group_index, i, j), text_a, text_b, edit in zip(owners, pair_a, pair_b, edits, strict=True):
        length_a, length_b = max(len(text_a.split()), 1), max(len(text_b.split()), 1)
        distances[group_index][i, j] = distances[group_index][j, i] = (edit / length_a + edit / length_b) / 2
    medoids = []
    for group_index, texts in enumerate(groups):
        matrix, multiplicity = distances[group_index], multiplicities[group_index]
        total = matrix @ multiplicity  # Σ over all answers; identical answers add 0
        best = total.min()
        tied = np.flatnonzero(total <= best + _TIE_ATOL)
        if len(texts) == 1:
            medoids.append(Medoid(0, float("nan"), False))
        elif len(tied) > 1:
            medoids.append(Medoid(None, float(np.clip(1 - best / (len(texts) - 1), 0, 1)), True))
        else:
            winner = tied[0]
            medoids.append(
                Medoid(
                    int(firsts[group_index][winner]), float(np.clip(1 - best / (len(texts) - 1), 0, 1)), False
                )
            )
    return medoids


def medoid_transcript(
    texts: Sequence[str], *, normalizer: Callable[[str], str] = normalize_transcript
) -> Medoid:
    """The medoid of one item's transcripts (module docstring).

    Parameters
    ----------
    texts : the item's answers, one string each (at least one).
    normalizer : applied to every text before comparing.

    Returns
    -------
    Medoid(index into ``texts`` or None on a tie, confidence, tie).
    """
    if isinstance(texts, str) or len(texts) == 0:
        raise ValueError("medoid_transcript needs a non-empty sequence of transcripts")
    return _medoids([[normalizer(text) for text in texts]])[0]


def transcript_consensus(
    frame: pd.DataFrame, *, normalizer: Callable[[str], str] = normalize_transcript
) -> pd.DataFrame:
    """Medoid transcript per item.

    Parameters
    ----------
    frame : columns item, labeler, value (value: str).
    normalizer : applied before comparing (default :func:`normalize_transcript`).

    Returns
    -------
    DataFrame indexed by item: consensus (the medoid as written, None on a tie), method
    ("transcript_medoid"), confidence, n_answers, tie.
    """
    check_frame(frame)
    normalized = frame["value"].map(normalizer)
    if not normalized.map(lambda text: isinstance(text, str)).all():
        raise ValueError("the normalizer must return strings")
    raw = frame["value"].to_numpy(dtype=object)
    grouped = pd.Series(np.arange(len(frame)), index=frame.index).groupby(frame["item"].to_numpy(), sort=True)
    items, positions = [], []
    for item, rows in grouped:
        items.append(item)
        positions.append(rows.to_numpy())
    medoids = _medoids([list(normalized.to_numpy()[rows]) for rows in positions])
    consensus = np.array(
        [None if m.index is None else raw[rows[m.index]] for m, rows in zip(medoids, positions, strict=True)],
        dtype=object,
    )
    return result_frame(
        pd.Index(items),
        consensus,
        method=METHOD,
        confidence=np.array([m.confidence for m in medoids]),
        n_answers=np.array([len(rows) for rows in positions]),
        tie=np.array([m.tie for m in medoids]),
    )
