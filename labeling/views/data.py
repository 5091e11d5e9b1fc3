"""The project's Data page: upload items (drag and drop) and read their input-quality metrics."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from labeling.models import DataType, JobKind, Role
from labeling.selectors.data_quality import data_quality
from labeling.selectors.projects import REVIEW_ROLES, project_get_for_member

ACCEPT: dict[str, str] = {
    DataType.RECORD: ".csv,.jsonl,.ndjson,.json,.parquet",
    DataType.IMAGE: "image/jpeg,image/png,image/webp,.zip,.csv",
    DataType.AUDIO: "audio/*,.wav,.flac,.ogg,.mp3,.zip,.csv",
}


@require_GET
@login_required
def data_page(request, project_id: int):
    project, role = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
    quality = data_quality(project=project)
    context = {
        "project": project,
        "can_import": role == Role.MANAGER,
        "accept": ACCEPT[project.data_type],
        "quality": quality,
        "item_count": quality["item_count"],
        "recent_imports": project.jobs.filter(kind__in=[JobKind.IMPORT_ITEMS, JobKind.IMPORT_ANNOTATIONS])[
            :5
        ],
    }
    return render(request, "labeling/data.html", context)
