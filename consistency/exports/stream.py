"""The export as a stream of bytes, and its file name: what the download, the snapshot job and
the export preview read (``consistency.services.exports`` freezes snapshots)."""

from collections.abc import Iterator

from django.db import DEFAULT_DB_ALIAS

from consistency.exports import formats
from consistency.exports.fast import fast_path_applies, fast_stream
from consistency.exports.params import ExportParams
from consistency.exports.rows import export_context, export_rows
from consistency.selectors.labels import LabelContext
from core.errors import Invalid
from labeling.models import LabelKind, Project


def export_check(*, project: Project, params: ExportParams) -> None:
    if params.format == "coco" and project.label_kind != LabelKind.BOXES:
        raise Invalid("COCO export is for box projects.", fields={"format": ["coco needs label_kind boxes."]})


def export_stream(
    *, project: Project, params: ExportParams, fast: bool = True, using: str = DEFAULT_DB_ALIAS
) -> tuple[LabelContext, Iterator[bytes]]:
    """The export as a stream of bytes, never waiting for a run: decisions are read live, the
    consensus from the latest run plus the answers since (``selectors.labels``). PostgreSQL
    writes JSONL and CSV itself where it can. ``using``: the database to read, the primary or
    the replica ``exports.source.export_source_get`` chose."""
    export_check(project=project, params=params)
    ctx = export_context(project=project, params=params, using=using)
    if fast and fast_path_applies(project=project, params=params, using=using):
        return ctx, fast_stream(project=project, ctx=ctx, params=params)
    rows = export_rows(project=project, ctx=ctx, params=params)
    return ctx, formats.write(params.format, rows, classes=list(ctx.classes), extra=params.extra_columns)


def export_filename(
    *, project: Project, ctx: LabelContext, params: ExportParams, split: str | None = None
) -> str:
    run = f"-run{ctx.run.number}" if ctx.run is not None else ""
    base = f"concord-project{project.id}{run}-v{ctx.version.number}"
    return f"{base}{'-' + split if split else ''}.{formats.EXTENSIONS[params.format]}"
