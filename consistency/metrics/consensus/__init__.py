"""Consensus (truth inference) from an annotations frame — pure numpy/pandas, no Django.

Categorical answers: :class:`MajorityVote` and :class:`DawidSkene` (crowd-kit's shape:
``fit(frame) -> self``, ``fit_predict(frame) -> Series``, fitted attributes ending in ``_``,
plus ``fit_predict_frame(frame, gold=...)`` returning the consensus frame). Boxes:
:func:`box_consensus` / :func:`fuse_boxes`. Transcripts: :func:`transcript_consensus` /
:func:`medoid_transcript`. Gold beats any aggregate: :func:`apply_gold`. Scoring against
gold: :func:`accuracy`, :func:`majority_vote_accuracy`.

Every consensus frame is indexed by ``item`` with the columns ``consensus``, ``method``,
``confidence``, ``n_answers``, ``tie`` (see :mod:`._base`). A tie gives no consensus, never a
random pick.
"""

from consistency.metrics.consensus._base import RESULT_COLUMNS, Aggregator, apply_gold
from consistency.metrics.consensus.box_fusion import box_consensus, box_iou, fuse_boxes
from consistency.metrics.consensus.dawid_skene import DawidSkene
from consistency.metrics.consensus.majority import MajorityVote, majority_from_counts, top_two
from consistency.metrics.consensus.scoring import accuracy, majority_vote_accuracy
from consistency.metrics.consensus.transcript_medoid import (
    medoid_transcript,
    normalize_transcript,
    transcript_consensus,
)

__all__ = [
    "RESULT_COLUMNS",
    "Aggregator",
    "DawidSkene",
    "MajorityVote",
    "accuracy",
    "apply_gold",
    "box_consensus",
    "box_iou",
    "fuse_boxes",
    "majority_from_counts",
    "majority_vote_accuracy",
    "medoid_transcript",
    "normalize_transcript",
    "top_two",
    "transcript_consensus",
]
