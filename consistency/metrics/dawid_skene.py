"""Consensus from an annotations frame: majority vote and Dawid–Skene, crowd-kit's shape.

Both take a frame with columns ``item``, ``labeler``, ``value`` and offer ``fit(frame) -> self``
and ``fit_predict(frame) -> pd.Series`` (item → value, None when there is no consensus), with
fitted attributes ending in ``_``. ``result_`` has one row per item: value, confidence,
n_answers, tie.

Dawid–Skene is written here rather than taken from crowd-kit because crowd-kit pulls
transformers and nltk into the install; tests check it against the published figures.
"""

import numpy as np
import pandas as pd

from consistency.metrics.voting import majority_from_counts

DEFAULT_TOL = 1e-7
DEFAULT_MAX_ITER = 100


def encode(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.Index, pd.Index, pd.Index]:
    """Integer codes for an annotations frame.

    returns : (item_codes, labeler_codes, value_codes) each (n_answers,), and the item, labeler
    and class indexes (classes sorted).
    """
    if frame is None or len(frame) == 0:
        raise ValueError("no answers: the annotations frame is empty")
    missing = {"item", "labeler", "value"} - set(frame.columns)
    if missing:
        raise ValueError(f"annotations frame lacks columns: {', '.join(sorted(missing))}")
    if frame["value"].isna().any():
        raise ValueError("answers must have a value (drop skipped answers first)")
    item_codes, items = pd.factorize(frame["item"], sort=True)
    labeler_codes, labelers = pd.factorize(frame["labeler"], sort=True)
    value_codes, classes = pd.factorize(frame["value"], sort=True)
    return item_codes, labeler_codes, value_codes, pd.Index(items), pd.Index(labelers), pd.Index(classes)


def _counts(item_codes, value_codes, n_items, n_classes) -> np.ndarray:
    flat = item_codes.astype(np.int64) * n_classes + value_codes
    return np.bincount(flat, minlength=n_items * n_classes).reshape(n_items, n_classes)


def _result(items, classes, winner, confidence, n_answers, tie) -> pd.DataFrame:
    values = np.asarray(classes, dtype=object)[np.maximum(winner, 0)]
    values = np.where(winner >= 0, values, None)
    return pd.DataFrame(
        {"value": values, "confidence": confidence, "n_answers": n_answers, "tie": tie},
        index=pd.Index(items, name="item"),
    )


class MajorityVote:
    """The most given answer; a tie gives no consensus (never a random pick)."""

    def fit(self, frame: pd.DataFrame) -> "MajorityVote":
        item_codes, _, value_codes, items, _, classes = encode(frame)
        counts = _counts(item_codes, value_codes, len(items), len(classes))
        winner, share, tie = majority_from_counts(counts)
        self.classes_ = classes
        self.ties_ = int(tie.sum())
        self.result_ = _result(items, classes, winner, share, counts.sum(axis=1), tie)
        return self

    def fit_predict(self, frame: pd.DataFrame) -> pd.Series:
        return self.fit(frame).result_["value"]


class DawidSkene:
    """EM over per-labeler confusion matrices (Dawid & Skene, 1979), vectorized.

    Each iteration is a handful of ``np.bincount`` calls over the answers (one per class), so
    1,000,000 answers cost milliseconds per iteration; there is no Python loop over answers.

    Robustness with few answers per labeler: the confusion matrices get Dirichlet pseudo-counts
    (``prior_diagonal`` on the diagonal, ``prior_off_diagonal`` elsewhere: a labeler is assumed
    slightly better than chance until the data say otherwise) and the class priors get
    ``prior_class`` pseudo-counts. Initialised from majority-vote shares. Stops when the
    log-likelihood improves by less than ``tol`` (relative) or after ``max_iter`` iterations.
    """

    def __init__(
        self,
        *,
        max_iter: int = DEFAULT_MAX_ITER,
        tol: float = DEFAULT_TOL,
        prior_diagonal: float = 1.1,
        prior_off_diagonal: float = 0.1,
        prior_class: float = 1.0,
    ):
        if max_iter < 1:
            raise ValueError("max_iter must be at least 1")
        if prior_off_diagonal <= 0 or prior_diagonal <= 0 or prior_class < 0:
            raise ValueError("pseudo-counts must be positive (they keep log-probabilities finite)")
        self.max_iter = max_iter
        self.tol = tol
        self.prior_diagonal = prior_diagonal
        self.prior_off_diagonal = prior_off_diagonal
        self.prior_class = prior_class

    def fit(self, frame: pd.DataFrame) -> "DawidSkene":
        item_codes, labeler_codes, value_codes, items, labelers, classes = encode(frame)
        n_items, n_labelers, k = len(items), len(labelers), len(classes)
        counts = _counts(item_codes, value_codes, n_items, k)
        posterior = counts / counts.sum(axis=1, keepdims=True)
        prior = np.full((k, k), self.prior_off_diagonal) + np.eye(k) * (
            self.prior_diagonal - self.prior_off_diagonal
        )
        key = labeler_codes.astype(np.int64) * k + value_codes
        log_likelihood = -np.inf
        self.n_iter_ = 0
        for iteration in range(1, self.max_iter + 1):
            # M-step: class priors and confusion[labeler, true, given].
            priors = (posterior.sum(axis=0) + self.prior_class) / (n_items + k * self.prior_class)
            confusion = np.empty((n_labelers, k, k))
            for true in range(k):
                confusion[:, true, :] = np.bincount(
                    key, weights=posterior[item_codes, true], minlength=n_labelers * k
                ).reshape(n_labelers, k)
            confusion += prior[None, :, :]
            confusion /= confusion.sum(axis=2, keepdims=True)
            # E-step: posterior over true classes per item, in log space.
            log_conf = np.log(confusion)
            log_post = np.empty((n_items, k))
            for true in range(k):
                log_post[:, true] = np.bincount(
                    item_codes, weights=log_conf[labeler_codes, true, value_codes], minlength=n_items
                )
            log_post += np.log(priors)[None, :]
            top = log_post.max(axis=1, keepdims=True)
            norm = top[:, 0] + np.log(np.exp(log_post - top).sum(axis=1))
            posterior = np.exp(log_post - norm[:, None])
            new_ll = float(norm.sum())
            self.n_iter_ = iteration
            if np.isfinite(log_likelihood) and abs(new_ll - log_likelihood) <= self.tol * abs(log_likelihood):
                log_likelihood = new_ll
                break
            log_likelihood = new_ll
        best = posterior.max(axis=1)
        tie = (np.isclose(posterior, best[:, None], rtol=0, atol=1e-12)).sum(axis=1) > 1
        winner = np.where(tie, -1, posterior.argmax(axis=1))
        self.classes_ = classes
        self.labelers_ = labelers
        self.priors_ = pd.Series(priors, index=classes)
        self.errors_ = confusion  # (labelers, true class, given class)
        self.probas_ = pd.DataFrame(posterior, index=pd.Index(items, name="item"), columns=classes)
        self.log_likelihood_ = log_likelihood
        self.ties_ = int(tie.sum())
        self.result_ = _result(items, classes, winner, best, counts.sum(axis=1), tie)
        return self

    def fit_predict(self, frame: pd.DataFrame) -> pd.Series:
        return self.fit(frame).result_["value"]


def accuracy(predicted: pd.Series, truth: pd.Series) -> float:
    """Share of items with truth whose prediction matches (a missing prediction counts as wrong)."""
    joined = truth.to_frame("truth").join(predicted.rename("predicted"), how="left")
    return float((joined["truth"] == joined["predicted"]).mean())


def majority_accuracy_fractional(frame: pd.DataFrame, truth: pd.Series) -> float:
    """Majority-vote accuracy with ties scored as the expected accuracy of a random tie-break
    (1/t when the truth is among t tied classes): how the published figures score ties."""
    item_codes, _, value_codes, items, _, classes = encode(frame)
    counts = _counts(item_codes, value_codes, len(items), len(classes))
    top = counts.max(axis=1, keepdims=True)
    tied = counts == top
    scored = truth[truth.index.isin(items)]
    rows = items.get_indexer(scored.index)
    cols = classes.get_indexer(scored.to_numpy())
    hit = np.where(cols >= 0, tied[rows, np.maximum(cols, 0)], False)
    credit = hit / tied[rows].sum(axis=1)
    return float(credit.sum() / len(truth))
