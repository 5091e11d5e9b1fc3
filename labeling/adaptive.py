"""Pure rules of the adaptive overlap policy (no database): an item's posterior for its leading
class, and whether it needs one more answer.

The policy. Every item first gets ``min_answers`` answers. After each answer the posterior of
the item's leading class is computed: Dawid–Skene's with the project's current labeler
estimates (one confusion matrix per labeler, fitted on a worker and gold-calibrated where gold
exists), or the majority-vote share while there are no usable estimates. The item stops once
that posterior reaches ``target_confidence`` with at least ``min_answers`` answers; otherwise,
when every slot it has is answered, its target grows by one, up to ``max_answers``. An item
that ends at ``max_answers`` below the target is flagged "people disagree after max answers".

The target only ever grows one answer at a time, so the assignment engine's invariants (no
item above its target, one assignment per labeler and item, leases, SKIP LOCKED) are the same
as under a fixed k. ``labeling.services.adaptive`` applies these rules on the submit path and
``bench/bench_adaptive.py`` replays real crowd data through the same functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

# Each labeler's matrix is shrunk towards the project's typical labeler with this many
# pseudo-answers: (n · own + s · typical) / (n + s). Estimates fitted on adaptively collected
# answers are optimistic (items stop when labelers agree); shrinking keeps the posteriors
# honest (bench/bench_adaptive.py: ~20 is where accuracy per answer spent is best).
SHRINK_ANSWERS = 20
_FLOOR = 1e-6


@dataclass(frozen=True)
class Estimates:
    """A project's labeler estimates, as the posterior needs them.

    classes : class names (the order of every array).
    log_priors : (k,) log P(true class).
    log_confusion : labeler id → (k, k) log P(answer = column | true = row), shrunk.
    log_typical : (k, k) the same for a labeler without an estimate.
    """

    classes: tuple[str, ...]
    log_priors: np.ndarray
    log_confusion: Mapping[object, np.ndarray]
    log_typical: np.ndarray

    @classmethod
    def from_matrices(
        cls,
        *,
        classes: Sequence[str],
        priors: Sequence[float],
        confusion: Mapping[object, Sequence[Sequence[float]]],
        typical: Sequence[Sequence[float]],
        answers: Mapping[object, int] | None = None,
        shrink: float = SHRINK_ANSWERS,
    ) -> Estimates:
        """Build from probabilities (rows true class, columns given class); each labeler's
        matrix is shrunk towards ``typical`` by ``shrink`` pseudo-answers given their number of
        ``answers`` (None: no shrinking). ValueError on bad shapes."""
        k = len(classes)
        if k < 2:
            raise ValueError("estimates need at least two classes")
        prior = np.asarray(priors, dtype=float)
        typical_m = np.asarray(typical, dtype=float)
        if prior.shape != (k,) or typical_m.shape != (k, k):
            raise ValueError(f"priors must be ({k},) and typical ({k}, {k})")
        matrices = {}
        for labeler, matrix in confusion.items():
            m = np.asarray(matrix, dtype=float)
            if m.shape != (k, k):
                raise ValueError(f"labeler {labeler}: confusion must be ({k}, {k}), got {m.shape}")
            if answers is not None:
                n = answers.get(labeler, 0)
                m = (n * m + shrink * typical_m) / (n + shrink) if n + shrink > 0 else typical_m
            matrices[labeler] = np.log(np.maximum(m, _FLOOR))
        return cls(
            classes=tuple(classes),
            log_priors=np.log(np.maximum(prior, _FLOOR)),
            log_confusion=matrices,
            log_typical=np.log(np.maximum(typical_m, _FLOOR)),
        )


def vote_share(values: Iterable) -> tuple[object | None, float]:
    """(leading class, its share of the answers); (None, 0.0) without answers. On a tie the
    leading class is None and the share is the tied classes' share (never confident)."""
    counts: dict = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    if not counts:
        return None, 0.0
    total = sum(counts.values())
    best = max(counts.values())
    leaders = [v for v, n in counts.items() if n == best]
    return (leaders[0] if len(leaders) == 1 else None), best / total


def posterior(
    answers: Sequence[tuple[int, object]], estimates: Estimates | None
) -> tuple[object | None, float]:
    """The leading class and its posterior given an item's answers.

    answers : (labeler id, value) pairs, one per answer (skips left out).
    estimates : the project's labeler estimates, or None for the majority-vote share.
    Answers whose value is not one of the estimates' classes (e.g. given under an older schema
    version) carry no evidence. Returns (None, p) on an exact tie.
    """
    if estimates is None:
        return vote_share(value for _, value in answers)
    index: dict[object, int] = {name: i for i, name in enumerate(estimates.classes)}
    log_post = estimates.log_priors.copy()
    for labeler, value in answers:
        column = index.get(value)
        if column is None:
            continue
        matrix = estimates.log_confusion.get(labeler, estimates.log_typical)
        log_post += matrix[:, column]
    log_post -= log_post.max()
    post = np.exp(log_post)
    post /= post.sum()
    best = float(post.max())
    leaders = np.flatnonzero(np.isclose(post, best, rtol=0, atol=1e-12))
    return (estimates.classes[int(leaders[0])] if len(leaders) == 1 else None), best


@dataclass(frozen=True)
class Decision:
    target: int
    confident: bool
    disagrees_after_max: bool


def decide(
    *,
    target: int,
    answered: int,
    valued: int,
    confidence: float,
    min_answers: int,
    max_answers: int,
    target_confidence: float,
) -> Decision:
    """What an item needs after an answer.

    target : the item's current target (slots it may have).
    answered : its answered or skipped assignments (reservations still out are not counted).
    valued : answers with a value (skips left out); confidence : the leading class's posterior.
    The target grows by one only when every slot is answered and the item is not confident; it
    never shrinks (a manager's or reviewer's raise stays). At ``max_answers`` or above, an
    unconfident item is flagged instead.
    """
    if min_answers < 1 or max_answers < min_answers:
        raise ValueError("need 1 ≤ min_answers ≤ max_answers")
    if not 0.5 < target_confidence < 1:
        raise ValueError("target_confidence must be in (0.5, 1)")
    confident = valued >= min_answers and confidence >= target_confidence
    if confident or answered < target:
        return Decision(target=target, confident=confident, disagrees_after_max=False)
    if target < max_answers:
        return Decision(target=target + 1, confident=False, disagrees_after_max=False)
    return Decision(target=target, confident=False, disagrees_after_max=True)


def open_item_target(*, slots_taken: int, min_answers: int, max_answers: int) -> int:
    """The target an open item gets when a project switches to adaptive (or changes its
    bounds): ``min_answers`` if it has fewer slots taken, else one more than it has (so its next
    answer is decided by the policy), never above ``max_answers`` nor below the slots taken."""
    return max(slots_taken, min(max_answers, max(min_answers, slots_taken + 1)))
