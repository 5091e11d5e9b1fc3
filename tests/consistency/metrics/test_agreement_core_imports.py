"""The metrics core is pure numpy/pandas: importing every module of it loads no Django module
and nothing of Concord outside ``consistency.metrics``."""

import os
import subprocess
import sys

from tests.consistency.metrics.agreement_data import ROOT


def test_agreement_core_does_not_import_django():
    code = (
        "import importlib, pkgutil, sys\n"
        "import consistency.metrics as core\n"
        "for module in pkgutil.walk_packages(core.__path__, 'consistency.metrics.'):\n"
        "    importlib.import_module(module.name)\n"
        "assert len([m for m in sys.modules if m.startswith('consistency.metrics.')]) > 20\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] == 'django']\n"
        "assert not loaded, loaded\n"
        "first_party = ('config', 'labeling', 'consistency', 'demo', 'core')\n"
        "project = [m for m in sys.modules if m.split('.')[0] in first_party]\n"
        "outside = [m for m in project if m not in ('consistency', 'consistency.metrics')\n"
        "           and not m.startswith('consistency.metrics.')]\n"
        "assert not outside, outside\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)
