"""The retention rule on SQLite (`make run`'s database): no partitions there, so an old run's
per-item results are deleted row by row, and reads of it still say they were pruned."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import json
import django

django.setup()
from django.core.management import call_command

call_command("migrate", verbosity=0)
from consistency.models import AgreementRun, ItemResult
from consistency.selectors.labels import label_context
from consistency.services.run_retention import agreement_runs_prune
from core.errors import Gone
from tests.factories import ItemFactory, ProjectFactory, finished_run

project = ProjectFactory(data_type="record", classes=["1", "0"])
items = [ItemFactory(project=project, external_id=f"r{i}") for i in range(5)]
runs = [finished_run(project, [{"item": it, "consensus": "1"} for it in items]) for _ in range(3)]
first = agreement_runs_prune(project_id=project.id)
second = agreement_runs_prune(project_id=project.id)
try:
    label_context(project=project, run=AgreementRun.objects.get(pk=runs[0].id))
    refused = None
except Gone as exc:
    refused = exc.code
print(json.dumps({
    "runs": [r.id for r in runs],
    "first": first,
    "second": second,
    "rows": [ItemResult.objects.filter(run=r).count() for r in runs],
    "refused": refused,
}))
"""


def test_sqlite_deletes_old_runs_rows_and_says_so(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=f"sqlite:///{tmp_path / 'concord.sqlite3'}",
        MEDIA_ROOT=str(tmp_path / "media"),
        SECRET_KEY="retention-sqlite-test",
        CONCORD_RUN_RESULTS_KEEP="2",
        CONCORD_RUN_RESULTS_GRACE_SECONDS="0",
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["first"] == [out["runs"][0]] and out["second"] == []
    assert out["rows"] == [0, 5, 5]
    assert out["refused"] == "run_results_pruned"
