"""Consensus transcript of one item: the medoid, the answer with the least total pairwise WER to
the others, after normalization (:func:`consistency.metrics.transcripts.agreement.normalize_many`
with the project's rules).

Between two answers the distance is 1 − the symmetric similarity of
:func:`consistency.metrics.transcripts.agreement.pair_similarity` (the mean of WER both ways,
clipped to [0, 1]); ties go to the earliest answer. Confidence is the medoid's mean 1 − WER to
the others.
"""

from collections.abc import Sequence

import numpy as np

from consistency.metrics.transcripts.agreement import edit_counts, normalize_many, pair_similarity
from consistency.metrics.transcripts.rules import Rule, compile_rules


def medoid(texts: Sequence[str], rules: Sequence[Rule] = ()) -> tuple[str | None, float]:
    """The transcript with the least total pairwise WER to the others, after normalization.

    Parameters
    ----------
    texts : (n,) one item's transcripts; rules : raw or compiled standardization rules.

    Returns
    -------
    (text, confidence): the original text of the medoid (ties go to the earliest) and its mean
    1 − WER to the others; (None, nan) for no texts, (text, nan) for one.
    """
    if not texts:
        return None, float("nan")
    if len(texts) == 1:
        return texts[0], float("nan")
    norm = normalize_many(list(texts), compile_rules(rules)).to_numpy(dtype=object)
    i, j = np.triu_indices(len(norm), k=1)
    distance = 1.0 - pair_similarity(*edit_counts(norm[i], norm[j], "word"))
    totals = np.bincount(i, weights=distance, minlength=len(norm)) + np.bincount(
        j, weights=distance, minlength=len(norm)
    )
    best = int(np.argmin(totals))
    return texts[best], float(1.0 - totals[best] / (len(texts) - 1))
