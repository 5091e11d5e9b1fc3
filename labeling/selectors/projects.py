"""Reads on projects: what a user may see, with counts computed in SQL."""

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeAlias, TypedDict, cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.cache import cache
from django.db.models import Count, F, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from core.accounts.projects import AccountProject, Order
from core.errors import NotFound, PermissionDenied
from core.jobs.models import Job, JobStatus
from core.jobs.registry import ReaderCheck
from labeling.models import (
    Annotation,
    Assignment,
    AssignmentStatus,
    Item,
    JobKind,
    LabelSchemaVersion,
    Project,
    ProjectMembership,
    Role,
)
from labeling.selectors.schema_versions import schema_version_latest

if TYPE_CHECKING:  # django-stubs-ext is a development dependency
    from django_stubs_ext import WithAnnotations


class ProjectListing(TypedDict):
    """What ``project_list_for_user`` adds to each project (``item_count``: annotated, or set
    by ``project_list_for_page``; ``annotation_count`` is None on pages)."""

    my_role: str | None
    schema_version_number: int | None
    member_count: int
    item_count: int
    annotation_count: int | None
    my_annotation_count: int


class ProjectDetail(ProjectListing):
    """``project_detail_for_member`` adds the current schema version, its classes prefetched."""

    current_schema: LabelSchemaVersion | None


ListedProject: TypeAlias = "WithAnnotations[Project, ProjectListing]"
DetailedProject: TypeAlias = "WithAnnotations[Project, ProjectDetail]"

REVIEW_ROLES = (Role.REVIEWER, Role.MANAGER)
MANAGER_ROLES = (Role.MANAGER,)
LABELER_ROLES = (Role.LABELER,)
EXPORT_ROLES = (Role.MANAGER, Role.PIPELINE)  # pipelines read exports and snapshots
# A project's alarms (``Project.alarms``) override these thresholds one by one.
DEFAULT_ALARMS = {"agreement_drop": 0.05, "min_labeler_hlp": 0.6, "max_skip_rate": 0.2}
ALARM_NAMES = tuple(DEFAULT_ALARMS)
COUNT_CACHED_FROM = 100_000  # items: below this a plain count is cheaper than its bookkeeping
COUNT_CACHE_SECONDS = 600
logger = logging.getLogger(__name__)


def job_readable_by(*roles: str) -> ReaderCheck:
    """Who may read a project's job of a kind now: members whose current role may start that
    kind. Checked on every read, so someone demoted or removed after starting a job (an import's
    report, a snapshot's files) no longer reads it, creator or not."""

    def can_read(user: AbstractBaseUser | AnonymousUser, job: Job) -> bool:
        if job.project_id is None or not user.is_authenticated:  # a member reads a project's job
            return False
        return ProjectMembership.objects.filter(
            project_id=job.project_id, user_id=user.pk, role__in=roles
        ).exists()

    return can_read


def job_project(*, job: Job) -> Project:
    """The project a project's job runs for (imports, statistics: created with one). A
    ``ValueError`` if the job has none: it was created for another purpose."""
    project = job.project
    if project is None:
        raise ValueError(f"{job} belongs to no project")
    return project


def account_projects(user: AbstractBaseUser | AnonymousUser, order: Order) -> list[AccountProject]:
    """The user's projects and roles, for the account page (by name) and ``/api/me/`` (by id)."""
    if not user.is_authenticated:  # both pages are for signed-in users
        return []
    memberships = ProjectMembership.objects.filter(user_id=user.pk).select_related("project")
    return [
        AccountProject(id=m.project_id, name=m.project.name, role=m.role, role_label=m.get_role_display())
        for m in memberships.order_by("project__name" if order == "name" else "project_id")
    ]


def _count_key(project_id: int) -> str:
    return f"item-count:v1:{project_id}"


def project_item_count(*, project_id: int) -> int:
    """The project's items. Large projects: the count up to the highest id seen last time
    (cached for ``COUNT_CACHE_SECONDS``) plus the items added since, a range of the (project,
    id) index, so a page doesn't count 2,000,000 index entries per request (0.3-1 s). Items
    are only added by imports; an import's undo forgets the cached count
    (``project_item_count_forget``), and the cache expires, so another deletion (the admin)
    shows within ``COUNT_CACHE_SECONDS``."""
    items = Item.objects.filter(project_id=project_id)
    try:
        cached = cache.get(_count_key(project_id))
    except Exception:  # Redis down: count
        logger.warning("item count cache unreachable", exc_info=True)
        cached = None
    if cached is not None:
        highest, count = cached
        added = items.filter(pk__gt=highest).aggregate(n=Count("pk"), top=Max("pk"))
        if added["n"]:  # then there is a highest id among them
            _count_remember(project_id, added["top"], count + added["n"])
        return count + added["n"]
    count = items.count()
    if count >= COUNT_CACHED_FROM:
        highest = items.order_by("-pk").values_list("pk", flat=True).first()
        if highest is not None:  # None only if every item went between the count and this read
            _count_remember(project_id, highest, count)
    return count


def _count_remember(project_id: int, highest: int, count: int) -> None:
    """Not while an import runs: its rows, committed later, may take ids below ``highest``."""
    importing = Job.objects.filter(
        project_id=project_id,
        kind=JobKind.IMPORT_ITEMS,
        status__in=[JobStatus.PENDING, JobStatus.RUNNING],
    )
    if importing.exists():
        project_item_count_forget(project_id=project_id)
        return
    try:
        cache.set(_count_key(project_id), (highest, count), COUNT_CACHE_SECONDS)
    except Exception:
        logger.warning("item count cache unreachable", exc_info=True)


def project_item_count_forget(*, project_id: int) -> None:
    try:
        cache.delete(_count_key(project_id))
    except Exception:
        logger.warning("item count cache unreachable", exc_info=True)


def _count_subquery(
    queryset: QuerySet, outer_field: str = "project", project_id: int | None = None
) -> Coalesce:
    """Rows of ``queryset`` per project. With ``project_id`` the subquery names the project
    itself instead of the outer row: PostgreSQL then plans it with that project's statistics
    (an index walk over its own items) rather than a generic plan that scans every project's
    answers (seen: 5-10 s for a 20,000-item project beside a 2,000,000-item one)."""
    counted = (
        queryset.filter(**{outer_field: project_id if project_id is not None else OuterRef("pk")})
        .order_by()
        .values(outer_field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def project_list_for_user(
    *, user: User, project_id: int | None = None, answer_counts: bool = True
) -> "QuerySet[ListedProject]":
    """The user's projects (or the one ``project_id``) with their role, schema version number and
    counts, in one query.

    ``answer_counts=False`` (pages): no count of everyone's answers (a join over every answer of
    the project: seconds at millions), and the caller's own answers counted from their submitted
    assignments (an index)."""
    role = ProjectMembership.objects.filter(project=OuterRef("pk"), user=user).values("role")[:1]
    latest_version = LabelSchemaVersion.objects.published(OuterRef("pk")).values("number")[:1]
    counts: dict[str, Coalesce | Value]
    if answer_counts:
        counts = {
            "item_count": _count_subquery(Item.objects.all(), project_id=project_id),
            "annotation_count": _count_subquery(
                Annotation.objects.filter(is_current=True), "item__project", project_id
            ),
            "my_annotation_count": _count_subquery(
                Annotation.objects.filter(is_current=True, labeler=user), "item__project", project_id
            ),
        }
    else:
        mine = Assignment.objects.filter(labeler=user, status=AssignmentStatus.SUBMITTED)
        counts = {
            "annotation_count": Value(None, IntegerField()),
            "my_annotation_count": _count_subquery(mine, project_id=project_id),
        }
    listed = (
        Project.objects.visible_to(user)
        .annotate(
            my_role=Subquery(role),
            schema_version_number=Subquery(latest_version),
            member_count=_count_subquery(ProjectMembership.objects.all(), project_id=project_id),
            **counts,
        )
        .filter(**({"pk": project_id} if project_id is not None else {}))
        .order_by("-created_at", "-id")
    )
    # The counts' names are keys of a dict here, which the type checker can't follow.
    return cast("QuerySet[ListedProject]", listed)


def project_list_for_page(*, user: User, project_id: int | None = None) -> list[ListedProject]:
    """The user's projects (or one) for pages: no count of everyone's answers, and the items
    counted per project with a plain count (PostgreSQL answers it from the project index, in
    parallel; as a correlated subquery it reads the whole table)."""
    projects = list(project_list_for_user(user=user, project_id=project_id, answer_counts=False))
    for project in projects:
        project.item_count = project_item_count(project_id=project.id)
    return projects


def project_get_for_member(
    *, project_id: int, user: User, roles: Sequence[str] | None = None
) -> tuple[Project, str]:
    """The project and the caller's role.

    Non-members get 404 whether or not the project exists (no existence oracle);
    members without one of ``roles`` get 403.
    """
    membership = (
        ProjectMembership.objects.select_related("project")
        .filter(project_id=project_id, user_id=user.pk)
        .first()
    )
    if membership is None:
        raise NotFound("Project not found.")
    if roles is not None and membership.role not in roles:
        raise PermissionDenied(f"This needs the role {' or '.join(roles)} in this project.")
    return membership.project, membership.role


def project_detail_for_member(*, project_id: int, user: User, answer_counts: bool = True) -> DetailedProject:
    """One project with the list annotations, its current schema version and classes prefetched."""
    if answer_counts:
        project = project_list_for_user(user=user, project_id=project_id).first()
    else:
        project = next(iter(project_list_for_page(user=user, project_id=project_id)), None)
    if project is None:
        raise NotFound("Project not found.")
    detail = cast("DetailedProject", project)  # a listed project, given its schema next
    detail.current_schema = schema_version_latest(project=project, with_classes=True)
    return detail


def project_stats(*, project: Project) -> dict:
    """Progress figures for a project, aggregated in SQL (no row is loaded)."""
    items = Item.objects.filter(project=project)
    k = project.overlap
    per_item = (
        Annotation.objects.filter(item__project=project, is_current=True, skip_reason="")
        .values("item")
        .annotate(n=Count("pk"))
        .order_by()
    )
    answered = per_item.count()
    if project.is_adaptive:  # each item's own target: min_answers, more where labelers disagree
        current = Annotation.objects.filter(item__project=project, is_current=True, skip_reason="")
        by_target = current.values("item", "item__target").annotate(n=Count("pk")).order_by()
        complete = by_target.filter(n__gte=F("item__target")).count()
    else:
        complete = per_item.filter(n__gte=k).count()
    assignments = Assignment.objects.filter(project=project).aggregate(
        reserved=Count("pk", filter=Q(status=AssignmentStatus.RESERVED)),
        submitted=Count("pk", filter=Q(status=AssignmentStatus.SUBMITTED)),
        skipped=Count("pk", filter=Q(status=AssignmentStatus.SKIPPED)),
    )
    annotations = Annotation.objects.filter(item__project=project, is_current=True).aggregate(
        total=Count("pk"),
        skipped=Count("pk", filter=~Q(skip_reason="")),
        labelers=Count("labeler", distinct=True),
    )
    item_count = items.count()
    return {
        "item_count": item_count,
        "gold_item_count": items.filter(is_gold=True).count(),
        "items_with_answers": answered,
        "items_complete": complete,
        "completion": round(complete / item_count, 4) if item_count else 0.0,
        "annotation_count": annotations["total"],
        "skipped_annotation_count": annotations["skipped"],
        "labelers_with_answers": annotations["labelers"],
        "assignments": assignments,
        "overlap": k,
    }


def project_progress(*, project: Project, item_count: int) -> dict:
    """The project page's progress at any size, from indexes: items still open (the pool's
    partial index), gold items. Answer counts come from the statistics job (``project_stats``)."""
    items = Item.objects.filter(project=project)
    still_open = items.filter(is_gold=False, slots_taken__lt=F("target")).count()
    complete = item_count - still_open
    return {
        "item_count": item_count,
        "open_items": still_open,
        "items_complete": complete,
        "completion": round(complete / item_count, 4) if item_count else 0.0,
        "gold_item_count": items.filter(is_gold=True).count(),
    }


def project_members(*, project: Project) -> QuerySet[ProjectMembership]:
    return project.memberships.select_related("user").order_by("role", "user__username")
