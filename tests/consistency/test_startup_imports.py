"""Start-up stays light: registering the pre-label source (ConsistencyConfig.ready) must not load
pandas or numpy into every web process before its first request (gunicorn boots its workers
with django.setup())."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_django_setup_loads_no_dataframe_library():
    code = (
        "import sys, django; django.setup(); "
        "from labeling.services import prelabels; assert prelabels._source is not None; "
        "heavy = [m for m in ('pandas', 'numpy', 'scipy') if m in sys.modules]; assert not heavy, heavy"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)
