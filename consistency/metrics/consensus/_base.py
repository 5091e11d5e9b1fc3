"""The per-item consensus frame shared by every aggregator, and the gold override.

A consensus frame is indexed by ``item`` and has the columns of :data:`RESULT_COLUMNS`:

============  ===============================================================================
consensus     the aggregated answer (object dtype); None when there is none (a tie)
method        how it was obtained: "majority_vote", "dawid_skene", "box_fusion",
              "transcript_medoid" or "gold"
confidence    float in [0, 1]: vote share, posterior of the chosen class, ...; 1 for gold
n_answers     int, answers given on the item (0 for a gold item nobody answered)
tie           bool, True when the top candidates tie, so there is no consensus
============  ===============================================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from consistency.metrics._frames import as_gold

RESULT_COLUMNS = ("consensus", "method", "confidence", "n_answers", "tie")
GOLD = "gold"


def result_frame(
    items: pd.Index,
    consensus: np.ndarray,
    *,
    method: str,
    confidence: np.ndarray,
    n_answers: np.ndarray,
    tie: np.ndarray,
) -> pd.DataFrame:
    """Assemble a consensus frame (see the module docstring for the columns)."""
    return pd.DataFrame(
        {
            "consensus": np.asarray(consensus, dtype=object),
            "method": method,
            "confidence": np.asarray(confidence, dtype=np.float64),
            "n_answers": np.asarray(n_answers, dtype=np.int64),
            "tie": np.asarray(tie, dtype=bool),
        },
        index=pd.Index(items, name="item"),
    )


def apply_gold(result: pd.DataFrame, gold: pd.Series | None) -> pd.DataFrame:
    """Let gold labels beat any aggregate.

    Parameters
    ----------
    result : consensus frame indexed by item (columns :data:`RESULT_COLUMNS`).
    gold : Series item → known answer (NaN entries are ignored).

    Returns
    -------
    DataFrame
        A copy of ``result`` in which every gold item has ``consensus`` = the gold value,
        ``method`` = "gold", ``confidence`` = 1.0 and ``tie`` = False. Gold items nobody
        answered are appended with ``n_answers`` = 0. ``result`` is not modified.
    """
    missing = [column for column in RESULT_COLUMNS if column not in result.columns]
    if missing:
        raise ValueError(f"not a consensus frame: lacks columns {', '.join(missing)}")
    gold = as_gold(gold)
    out = result.copy()
    if gold.empty:
        return out
    new_items = gold.index.difference(out.index)
    if len(new_items):
        extra = result_frame(
            new_items,
            np.full(len(new_items), None, dtype=object),
            method=GOLD,
            confidence=np.ones(len(new_items)),
            n_answers=np.zeros(len(new_items), dtype=np.int64),
            tie=np.zeros(len(new_items), dtype=bool),
        )
        out = pd.concat([out, extra[out.columns.intersection(extra.columns)]])
        out.index.name = "item"
    rows = out.index.get_indexer(gold.index)
    consensus = out["consensus"].to_numpy(dtype=object, copy=True)
    consensus[rows] = gold.to_numpy(dtype=object)
    out["consensus"] = consensus
    out.iloc[rows, out.columns.get_loc("method")] = GOLD
    out.iloc[rows, out.columns.get_loc("confidence")] = 1.0
    out.iloc[rows, out.columns.get_loc("tie")] = False
    return out


class Aggregator:
    """crowd-kit's shape: ``fit(frame) -> self``, ``fit_predict(frame) -> Series``.

    Subclasses set ``result_`` (a consensus frame) and ``labels_`` in ``fit``.
    """

    result_: pd.DataFrame
    labels_: pd.Series

    def fit(self, frame: pd.DataFrame) -> Aggregator:  # pragma: no cover - interface
        raise NotImplementedError

    def fit_predict(self, frame: pd.DataFrame) -> pd.Series:
        """Consensus per item: Series indexed by item, None where there is none."""
        return self.fit(frame).labels_

    def fit_predict_frame(self, frame: pd.DataFrame, *, gold: pd.Series | None = None) -> pd.DataFrame:
        """The consensus frame (module docstring), with ``gold`` overriding where given."""
        return apply_gold(self.fit(frame).result_, gold)
