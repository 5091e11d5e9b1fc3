"""What a labeler sees of an item: its content and their own lease, never others' answers."""

from datetime import timedelta

from django.contrib.auth.models import User
from django.db.models import Count, F, Q, Sum
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from core.errors import NotFound
from core.shared_state import cached
from labeling.models import Annotation, Assignment, AssignmentStatus, Item, Project


def item_media_urls(item: Item) -> dict:
    """URLs of the item's media variants, served by the app with safe headers."""
    urls: dict[str, str | None] = {}
    for variant, field in (("media", item.media), ("thumbnail", item.thumbnail), ("waveform", item.waveform)):
        if not field:
            urls[f"{variant}_url"] = None
            continue
        try:
            urls[f"{variant}_url"] = reverse("item-media", kwargs={"item_id": item.id, "variant": variant})
        except NoReverseMatch:
            urls[f"{variant}_url"] = None
    return urls


def labeler_data(data):
    """An item's fields as labelers see them: names starting with ``_`` (answers generated with
    the data, internal ids) are left out, also inside a record pair's ``left``/``right``."""
    if not isinstance(data, dict):
        return data
    return {
        k: labeler_data(v) if k in ("left", "right") else v for k, v in data.items() if not k.startswith("_")
    }


def assignment_payload(assignment: Assignment) -> dict:
    """The next-item payload: the item to label and this labeler's lease. Blind by construction:
    it is built from the item and the caller's own assignment only."""
    item = assignment.item
    return {
        "id": item.id,
        "external_id": item.external_id,
        "kind": item.kind,
        "data": labeler_data(item.data),
        **item_media_urls(item),
        "lease_expires_at": assignment.lease_expires_at,
    }


def labeler_answer_get(*, item_id: int, labeler: User) -> Annotation:
    """The labeler's current answer (or skip) on an item they answered, with the item, so they
    can go back to it and change it; NotFound for anything else (not theirs, not answered, or no
    longer a member of the project)."""
    annotation = (
        Annotation.objects.filter(
            item_id=item_id,
            labeler=labeler,
            is_current=True,
            assignment__status__in=(AssignmentStatus.SUBMITTED, AssignmentStatus.SKIPPED),
            item__project__memberships__user=labeler,
        )
        .select_related("item", "schema_version")
        .first()
    )
    if annotation is None:
        raise NotFound("You have no answer on this item to change.")
    return annotation


# Every labeler's workspace asks for progress now and then; the project's open slots sum over
# every open item (a million on a big project), so one figure serves a process for a few seconds.
OPEN_SLOTS_CACHE_SECONDS = 15


def _open_slots(project: Project) -> int:
    return (
        Item.objects.filter(project=project, is_gold=False, slots_taken__lt=F("target")).aggregate(
            n=Sum(F("target") - F("slots_taken"))
        )["n"]
        or 0
    )


def labeler_progress(*, project: Project, labeler: User) -> dict:
    """Answered and skipped today and in total by this labeler, and open slots left in the project.

    A skip is not "done": it leaves the item for others, so it is counted apart.
    """
    since = timezone.now() - timedelta(hours=24)
    answered, skipped, today = Q(skip_reason=""), ~Q(skip_reason=""), Q(created_at__gte=since)
    mine = Annotation.objects.filter(item__project=project, labeler=labeler, is_current=True).aggregate(
        done_today=Count("pk", filter=answered & today),
        done_total=Count("pk", filter=answered),
        skipped_today=Count("pk", filter=skipped & today),
        skipped_total=Count("pk", filter=skipped),
    )
    open_slots = cached(
        key=f"labeling:open-slots:{project.id}",
        compute=lambda: _open_slots(project),
        seconds=OPEN_SLOTS_CACHE_SECONDS,
    )
    return {
        **mine,
        "reserved": Assignment.objects.filter(
            project=project, labeler=labeler, status=AssignmentStatus.RESERVED
        ).count(),
        "open_slots": open_slots or 0,
    }
