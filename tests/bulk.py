"""Big projects for the fault tests, written by PostgreSQL itself (factories would take minutes)."""

from django.db import connection
from django.utils import timezone

from consistency.models import AgreementRun
from labeling.models import Project


def items_insert(*, project: Project, count: int, target: int = 3, slots_taken: int = 0) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO labeling_item (project_id, kind, external_id, data, media, content_hash, "
            "original_filename, thumbnail, waveform, quality, metadata, target, slots_taken, is_gold, "
            "gold_value, created_at) "
            "SELECT %s, %s, 'bulk-' || g, jsonb_build_object('n', g), '', '', '', '', '', '{}', "
            "jsonb_build_object('slice', 's' || (g %% 5)), %s, %s, false, NULL, now() "
            "FROM generate_series(1, %s) g",
            [project.id, project.data_type, target, slots_taken, count],
        )


def answers_insert(*, project: Project, labeler_ids: list[int], classes: list[str]) -> None:
    """One submitted answer per labeler on every item, the class drawn from the ids (mostly agreeing)."""
    version_id = project.schema_version.id
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO labeling_assignment (project_id, item_id, labeler_id, status, lease_expires_at, "
            "created_at, updated_at) SELECT %s, i.id, u.id, 'submitted', NULL, now(), now() "
            "FROM labeling_item i CROSS JOIN unnest(%s::bigint[]) AS u(id) WHERE i.project_id = %s",
            [project.id, labeler_ids, project.id],
        )
        cursor.execute(
            "INSERT INTO labeling_annotation (assignment_id, item_id, labeler_id, schema_version_id, value, "
            "skip_reason, comment, time_spent_ms, is_current, supersedes_id, idempotency_key, source, "
            "created_at) SELECT a.id, a.item_id, a.labeler_id, %s, "
            # Item id picks the class; every fourth answer of a labeler disagrees with it.
            "to_jsonb((%s::text[])[1 + ((a.item_id + CASE WHEN (a.item_id + a.labeler_id) %% 4 = 0 "
            "THEN a.labeler_id ELSE 0 END) %% %s)]), '', '', 1000, true, NULL, '', 'labeler', now() "
            "FROM labeling_assignment a WHERE a.project_id = %s",
            [version_id, classes, len(classes), project.id],
        )
        cursor.execute("UPDATE labeling_item SET slots_taken = target WHERE project_id = %s", [project.id])
        cursor.execute("ANALYZE labeling_item; ANALYZE labeling_assignment; ANALYZE labeling_annotation")


def finished_run_insert(*, project: Project, classes: list[str]) -> AgreementRun:
    """A succeeded agreement run with a consensus row per item, as an export needs."""
    run = AgreementRun.objects.create(
        project=project,
        schema_version=project.schema_version,
        status="succeeded",
        params={"consensus": "majority"},
        report={},
        finished_at=timezone.now(),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO consistency_itemresult (run_id, item_id, n_answers, n_skipped, consensus, method, "
            "by_method, confidence, agreement, disagreement, is_tie, first_class, second_class) "
            "SELECT %s, id, 3, 0, to_jsonb((%s::text[])[1 + id %% %s]), 'majority', '{}', 0.8, 0.7, 0.2, "
            "false, '', '' FROM labeling_item WHERE project_id = %s",
            [run.id, classes, len(classes), project.id],
        )
    return run
