"""What a labeler sees of an item: its content and their own lease, never others' answers."""

from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db.models import F, Sum
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from labeling.models import Annotation, Assignment, AssignmentStatus, Item, Project


def item_media_urls(item: Item) -> dict:
    """URLs of the item's media variants, served by the app with safe headers."""
    urls = {}
    for variant, field in (("media", item.media), ("thumbnail", item.thumbnail), ("waveform", item.waveform)):
        if not field:
            urls[f"{variant}_url"] = None
            continue
        try:
            urls[f"{variant}_url"] = reverse("item-media", kwargs={"item_id": item.id, "variant": variant})
        except NoReverseMatch:
            urls[f"{variant}_url"] = None
    return urls


def assignment_payload(assignment: Assignment) -> dict:
    """The next-item payload: the item to label and this labeler's lease. Blind by construction:
    it is built from the item and the caller's own assignment only."""
    item = assignment.item
    return {
        "id": item.id,
        "external_id": item.external_id,
        "kind": item.kind,
        "data": item.data,
        **item_media_urls(item),
        "lease_expires_at": assignment.lease_expires_at,
    }


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


def labeler_progress(*, project: Project, labeler: AbstractBaseUser) -> dict:
    """Done today and in total by this labeler, and open slots left in the project."""
    since = timezone.now() - timedelta(hours=24)
    mine = Annotation.objects.filter(item__project=project, labeler=labeler, is_current=True)
    open_slots = cache.get_or_set(
        f"labeling:open-slots:{project.id}", lambda: _open_slots(project), OPEN_SLOTS_CACHE_SECONDS
    )
    return {
        "done_today": mine.filter(created_at__gte=since).count(),
        "done_total": mine.count(),
        "reserved": Assignment.objects.filter(
            project=project, labeler=labeler, status=AssignmentStatus.RESERVED
        ).count(),
        "open_slots": open_slots or 0,
    }
