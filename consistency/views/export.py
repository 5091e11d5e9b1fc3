"""The Export page: choose format, consensus, split and filters; preview rows and class balance
per split; download; freeze a snapshot; download snapshots. The same parameters and services as
``GET /api/projects/{id}/export/`` and ``POST /api/projects/{id}/snapshots/`` (whose ``curl``
lines the page shows)."""

import json
import shlex

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from consistency.exports import formats
from consistency.exports.params import EXCLUDES, FORMATS, ExportParamError, parse_export_params
from consistency.exports.source import export_source_get
from consistency.exports.stream import export_filename, export_stream
from consistency.models import DatasetSnapshot, JobKind
from consistency.selectors.export_preview import export_preview
from consistency.selectors.runs import freshness_header, run_freshness
from consistency.services.exports import snapshot_request
from core.audit.services import audit
from core.errors import ApplicationError, Invalid, NotFound
from core.jobs.models import Job, JobStatus
from labeling.selectors.projects import EXPORT_ROLES, MANAGER_ROLES, project_get_for_member

PAGE_ONLY = ("preview",)
SNAPSHOTS_SHOWN = 20


def _export_query(get: QueryDict) -> QueryDict:
    """The export parameters of the page's query: empty fields and page-only keys left out."""
    query = QueryDict(mutable=True)
    for key, values in get.lists():
        kept = [v for v in values if v.strip()]
        if key not in PAGE_ONLY and kept:
            query.setlist(key, kept)
    return query


def _curl_lines(request, project, query: QueryDict) -> dict:
    base = request.build_absolute_uri("/").rstrip("/")
    export_url = f"{base}{reverse('api-export', args=[project.id])}?{query.urlencode()}"
    extension = formats.EXTENSIONS.get(query.get("format", "jsonl"), "jsonl")
    body = json.dumps({k: v if len(v) > 1 else v[0] for k, v in query.lists()})
    snapshots_url = f"{base}{reverse('api-snapshots', args=[project.id])}"
    return {
        "export": f'curl -H "Authorization: Token $TOKEN" -o export.{extension} {shlex.quote(export_url)}',
        "snapshot": f"curl -H \"Authorization: Token $TOKEN\" -H 'Content-Type: application/json' "
        f"-d {shlex.quote(body)} {snapshots_url}",
    }


@require_GET
@login_required
def export_page(request, project_id: int):
    project, role = project_get_for_member(project_id=project_id, user=request.user, roles=EXPORT_ROLES)
    query = _export_query(request.GET)
    preview, error = None, ""
    try:
        params = parse_export_params(query)
        if request.GET.get("preview"):
            preview = export_preview(project=project, params=params)
    except ExportParamError as exc:
        error = str(exc)
    except ApplicationError as exc:
        error = exc.message
    snapshots = DatasetSnapshot.objects.filter(project=project).select_related(
        "schema_version", "created_by"
    )[:SNAPSHOTS_SHOWN]
    freezing = Job.objects.filter(
        project=project, kind=JobKind.SNAPSHOT, status__in=[JobStatus.PENDING, JobStatus.RUNNING]
    )
    context = {
        "project": project,
        "is_manager": role in MANAGER_ROLES,
        "get": request.GET,
        "query": query.urlencode(),
        "formats": FORMATS,
        "excludes": EXCLUDES,
        "chosen_excludes": query.getlist("exclude"),
        "chosen_include": ",".join(query.getlist("include")),
        "preview": preview,
        "error": error,
        "curl": _curl_lines(request, project, query),
        "snapshots": snapshots,
        "freezing": list(freezing),
    }
    return render(request, "consistency/export.html", context, status=400 if error else 200)


@require_GET
@login_required
def export_download(request, project_id: int):
    project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=EXPORT_ROLES)
    query = _export_query(request.GET)
    try:
        params = parse_export_params(query)
        source = export_source_get()  # the replica when configured and fresh: exports.source
        ctx, stream = export_stream(project=project, params=params, using=source.alias)
    except ExportParamError as exc:
        messages.error(request, str(exc))
        return redirect(reverse("export", args=[project.id]) + "?" + query.urlencode())
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("export", args=[project.id]) + "?" + query.urlencode())
    target = f"run {ctx.run.id}" if ctx.run else "no run"
    audit(project=project, actor=request.user, action="export", target=target, after=params.as_dict())
    response = StreamingHttpResponse(stream, content_type=formats.CONTENT_TYPES[params.format])
    filename = export_filename(project=project, ctx=ctx, params=params)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    freshness = run_freshness(project=project, run=ctx.run, using=source.alias)
    for name, value in (freshness_header(run=ctx.run, freshness=freshness) | source.headers()).items():
        response[name] = value
    return response


@require_POST
@login_required
def snapshot_freeze(request, project_id: int):
    project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=MANAGER_ROLES)
    query = _export_query(QueryDict(request.POST.get("query", "")))
    body = {k: v if len(v) > 1 else v[0] for k, v in query.lists()}
    try:
        job = snapshot_request(project=project, requested_by=request.user, query=body)
    except ExportParamError as exc:
        messages.error(request, str(exc))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        job.refresh_from_db()
        if job.status == JobStatus.SUCCEEDED:
            assert job.result is not None  # a succeeded job stores its runner's result
            messages.success(request, f"Snapshot frozen: {job.result.get('row_count')} rows.")
        elif job.status == JobStatus.FAILED:
            messages.error(request, f"The snapshot failed: {job.error}")
        else:
            messages.success(request, f"Freezing the snapshot (job #{job.id}); reload to see it.")
    return redirect(reverse("export", args=[project.id]) + "?" + query.urlencode())


@require_GET
@login_required
def snapshot_download(request, project_id: int, snapshot_id: int):
    project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=EXPORT_ROLES)
    snapshot = DatasetSnapshot.objects.filter(project=project, pk=snapshot_id).first()
    if snapshot is None:
        raise NotFound("No such snapshot.")
    entry = snapshot.files.get(request.GET.get("split") or "all")
    if entry is None:
        choices = ", ".join(snapshot.files) or "none"
        raise Invalid(
            f"Choose one of the snapshot's files: {choices}.", fields={"split": list(snapshot.files)}
        )
    fmt = snapshot.params.get("format", "jsonl")
    response = FileResponse(
        default_storage.open(entry["path"], "rb"),
        as_attachment=True,
        filename=entry["filename"],
        content_type=formats.CONTENT_TYPES.get(fmt, "application/octet-stream"),
    )
    response["X-Content-SHA256"] = entry["sha256"]
    return response
