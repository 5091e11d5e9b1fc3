"""The disagreement queue's filters as a query string gives them (the API's query parameters and
the review pages' links share them), checked: a bad one is a 400 that names it."""

from collections.abc import Mapping
from typing import Any

from consistency.selectors.reviews import QueueFilters
from core.errors import Invalid

ORDERS = ("disagreement", "likely_wrong")
FLAGS = ("disagree_after_max",)


def parse_queue_filters(query: Mapping[str, Any]) -> QueueFilters:
    filters: QueueFilters = {}
    a, b = query.get("a"), query.get("b")
    if bool(a) != bool(b):
        raise Invalid("Give both classes of the pair: a and b.", fields={"a": ["Needs b too."]})
    if a and b:
        filters["class_pair"] = (str(a), str(b))
    if query.get("slice"):
        field, sep, value = query["slice"].partition(":")
        if not sep or not field:
            raise Invalid("slice must be field:value.", fields={"slice": ["field:value"]})
        filters["slice_filter"] = (field, value)
    if query.get("labeler"):
        if not str(query["labeler"]).isdigit():
            raise Invalid("labeler must be a labeler id.", fields={"labeler": ["An integer."]})
        filters["labeler_id"] = int(query["labeler"])
    if query.get("status"):
        if query["status"] not in ("open", "in_review", "resolved", "lacks_information"):
            raise Invalid(
                "Unknown status.", fields={"status": ["open, in_review, resolved, lacks_information"]}
            )
        filters["status"] = query["status"]
    if query.get("model_disagrees") in ("true", "false"):
        filters["model_disagrees"] = query["model_disagrees"] == "true"
    filters |= _likely_wrong_filters(query)
    return filters


def _likely_wrong_filters(query: Mapping[str, Any]) -> QueueFilters:
    filters: QueueFilters = {}
    if query.get("order"):
        if query["order"] not in ORDERS:
            raise Invalid("Unknown order.", fields={"order": [", ".join(ORDERS)]})
        filters["order"] = query["order"]
    if query.get("max_quality"):
        try:
            value = float(query["max_quality"])
        except ValueError:
            value = float("nan")
        if not 0 <= value <= 1:
            raise Invalid("max_quality must be a number from 0 to 1.", fields={"max_quality": ["0 to 1."]})
        filters["max_quality"] = value
    if query.get("flag"):
        if query["flag"] not in FLAGS:
            raise Invalid("Unknown flag.", fields={"flag": [", ".join(FLAGS)]})
        filters["flag"] = query["flag"]
    return filters
