"""The course's "gap to HLP" table: where a model is furthest below people, weighted by how much
data each slice has, so the team knows which slice to work on next.

Any kind of answer: exact match by default, errors over totals for transcripts and boxes. Given
the answers instead of HLP per slice, it computes categorical HLP
(:func:`consistency.metrics.categorical.hlp.human_level_performance`)."""

import numpy as np
import pandas as pd

from consistency.metrics.categorical.hlp import human_level_performance
from consistency.metrics.frames import NO_SLICE, slice_frame


def gap_to_hlp(
    predictions: pd.Series,
    reference: pd.Series,
    slices: pd.Series | pd.DataFrame,
    *,
    hlp: pd.Series | None = None,
    frame: pd.DataFrame | None = None,
    scores: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The course's "gap to HLP" prioritization table.

    Parameters
    ----------
    predictions : Series item → model prediction.
    reference : Series item → consensus or gold answer (None/NaN: not scored).
    slices : Series item → slice value, or an item-indexed metadata frame (one column per field).
    hlp : HLP per slice — a Series indexed by slice value (one field) or by (field, slice),
        e.g. ``human_level_performance(...).per_slice["hlp"]``; or pass ``frame`` (the
        answers) and it is computed (leave-one-out agreement per slice).
    scores : for answers that are not simply right or wrong (transcripts, boxes), a DataFrame
        indexed by item with ``errors`` and ``total`` (e.g. word edits and reference words); a
        slice's model accuracy is then 1 − Σ errors / Σ total, clipped to [0, 1]. Default:
        exact match (errors = 0 or 1, total = 1 per item).

    Returns
    -------
    DataFrame, one row per (field, slice) sorted by potential, descending: field, slice,
    n_items, model_accuracy, hlp, gap (hlp − model accuracy; negative when the model beats
    people), share (the slice's share of the scored items in its field, the "% of data"),
    potential (gap × share: what overall accuracy gains if the slice reaches HLP). Scored
    items are those with both a prediction and a reference.
    """
    if not isinstance(predictions, pd.Series) or not isinstance(reference, pd.Series):
        raise ValueError("predictions and reference must be Series indexed by item")
    tags = slice_frame(slices)
    if tags is None:
        raise ValueError("slices must be a Series or DataFrame indexed by item, got None")
    if hlp is None:
        if frame is None:
            raise ValueError("give hlp per slice, or the answers frame to compute it from")
        hlp = human_level_performance(frame, slices=tags, n_boot=0).per_slice["hlp"]
    scored = pd.DataFrame({"prediction": predictions, "reference": reference}).dropna()
    if scored.empty:
        raise ValueError("no item has both a prediction and a reference answer")
    if scores is None:
        errors = (
            scored["prediction"].to_numpy(dtype=object) != scored["reference"].to_numpy(dtype=object)
        ).astype(float)
        total = np.ones(len(scored))
    else:
        aligned = scores.reindex(scored.index)
        if aligned[["errors", "total"]].isna().any().any():
            raise ValueError("scores must have errors and total for every scored item")
        errors = aligned["errors"].to_numpy(dtype=np.float64)
        total = aligned["total"].to_numpy(dtype=np.float64)
    if not isinstance(hlp.index, pd.MultiIndex):
        if tags.shape[1] != 1:
            raise ValueError("with several slice fields, index hlp by (field, slice)")
        hlp = pd.Series(hlp.to_numpy(), index=pd.MultiIndex.from_product([[tags.columns[0]], hlp.index]))
    parts = []
    for field in tags.columns:
        tag = tags[field].astype(object).where(tags[field].notna(), NO_SLICE)
        table = pd.DataFrame(
            {"slice": tag.reindex(scored.index).fillna(NO_SLICE).to_numpy(), "errors": errors, "total": total}
        )
        part = table.groupby("slice").agg(
            n_items=("errors", "size"), errors=("errors", "sum"), total=("total", "sum")
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            accuracy = np.clip(1.0 - part["errors"] / part["total"].where(part["total"] > 0), 0.0, 1.0)
        part = part.assign(model_accuracy=accuracy)[["n_items", "model_accuracy"]].reset_index()
        part.insert(0, "field", field)
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    table["hlp"] = hlp.reindex(pd.MultiIndex.from_frame(table[["field", "slice"]])).to_numpy(dtype=np.float64)
    table["gap"] = table["hlp"] - table["model_accuracy"]
    table["share"] = table["n_items"] / table.groupby("field")["n_items"].transform("sum")
    table["potential"] = table["gap"] * table["share"]
    ordered: pd.DataFrame = table.sort_values(
        ["potential", "field", "slice"], ascending=[False, True, True], na_position="last"
    ).reset_index(drop=True)
    return ordered
