"""The reviewer's item page, beyond :func:`consistency.selectors.reviews.review_detail`: what the
labeling workspace's renderers need to draw the item and every answer, the answer to start from
(the consensus, or the resolution), the queue around the item, and the final
answer read back from the form."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse

from consistency.models import ReviewStatus
from consistency.selectors.queue_filters import parse_queue_filters
from consistency.selectors.reviews import QueueFilters, disagreement_queue
from consistency.selectors.runs import run_latest
from core.errors import Invalid
from labeling.answers import answer_choice_mode, answer_from_form
from labeling.views.workspace import class_keys

if TYPE_CHECKING:  # annotations only: the page reads labeling through its selectors
    from labeling.models import Item, Project

# One colour per labeler on the image and in the answers table: distinct, and dark enough for
# their names in white (contrast ≥ 4.5:1).
LABELER_COLORS = ("#1864ab", "#c92a2a", "#2b8a3e", "#862e9c", "#a63c06", "#0b7285", "#5f3dc4", "#a61e4d")

ACTION_DONE = {
    "resolve": "resolved (now gold)",
    "send_back": "sent back for one more label",
    "lacks_information": "marked: lacks information",
    "tag_example": "example tag changed",
}


def queue_filters(query) -> QueueFilters:
    """The queue's filters carried in the page's query string (none when they do not parse)."""
    try:
        return parse_queue_filters(query)
    except Invalid:
        return {}


def queue_neighbours(
    *, project: Project, item_id: int, filters: QueueFilters, limit: int = 500
) -> tuple[int | None, int | None]:
    """The items before and after this one in the latest run's (filtered) disagreement queue;
    when the item has left it (resolved under a status filter), the queue's first item is next."""
    run = run_latest(project=project)
    if run is None:
        return None, None
    queue = list(
        disagreement_queue(project=project, run=run, **filters).values_list("item_id", flat=True)[:limit]
    )
    if item_id not in queue:
        return None, (queue[0] if queue else None)
    at = queue.index(item_id)
    return (queue[at - 1] if at > 0 else None), (queue[at + 1] if at + 1 < len(queue) else None)


def review_page_config(*, project: Project, item: Item, detail: dict, classes: list) -> dict:
    """The page's JSON configuration for ``static/js/review/`` (json_script: data, not script)."""
    keys = class_keys([c.name for c in classes], {c.name: c.hotkey for c in classes})
    colors: dict[str, str] = {}  # labeler's username → colour
    answers = []
    for answer in detail["answers"]:
        color = colors.setdefault(answer["labeler"], LABELER_COLORS[len(colors) % len(LABELER_COLORS)])
        answers.append(
            {
                "labeler": answer["labeler"],
                "color": color,
                "value": answer["value"],
                "skipped": bool(answer["skip_reason"]),
            }
        )
    consensus = (detail["consensus"] or {}).get("value")
    resolved = detail["review"]["status"] == ReviewStatus.RESOLVED
    kind = project.label_kind
    return {
        "dataType": project.data_type,
        "labelKind": kind,
        "choiceMode": answer_choice_mode(kind),
        "classes": [{"name": c.name, "color": c.color, "key": keys[c.name]} for c in classes],
        "item": {
            k: detail["item"][k]
            for k in ("id", "external_id", "kind", "data", "media_url", "thumbnail_url", "waveform_url")
        },
        "answers": answers,
        "consensus": consensus,
        # Read under the current schema: a resolution given before a merge starts on the merged class.
        "start": detail["label"]["value"]
        if resolved and detail["label"]["source"] == "resolved"
        else consensus,
        "urls": {"queue": reverse("agreement-items", args=[project.id])},
    }


def review_value(*, project: Project, post) -> object:
    """The final answer from the form: a class, a list of classes (multi), boxes (JSON) or a transcript."""
    return answer_from_form(label_kind=project.label_kind, post=post)
