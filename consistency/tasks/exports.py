import logging

from celery import shared_task

from consistency.exports import strata, touched_blocks
from consistency.models import AgreementRun

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def export_counts_warm_task(run_id: int) -> None:
    """After a run: its per-label counts (``exports.strata``) and the touched items' per-block
    shifts (``exports.touched_blocks``), so the first export preview, split page or split export
    after the run does not compute them in a request. Best effort: a request computes them if
    this did not."""
    run = AgreementRun.objects.select_related("project", "schema_version").filter(pk=run_id).first()
    if run is None:
        return
    try:
        strata.warm(project=run.project, run=run)
        touched_blocks.warm(project=run.project, run=run)
    except Exception:  # never fail loudly: the counts are a cache
        logger.exception("export counts of run %s not warmed", run_id)
