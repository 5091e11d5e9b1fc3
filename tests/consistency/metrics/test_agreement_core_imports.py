"""The agreement core is pure numpy/pandas: importing it loads no Django module."""

import os
import subprocess
import sys

from tests.consistency.metrics.agreement_data import ROOT

MODULES = ["counts", "alpha", "categorical", "bootstrap", "multilabel", "boxes", "transcripts"]


def test_agreement_core_does_not_import_django():
    code = (
        "import sys\n"
        + "".join(f"import consistency.metrics.{name}\n" for name in MODULES)
        + "loaded = [m for m in sys.modules if m.split('.')[0] == 'django']\n"
        + "assert not loaded, loaded\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)
