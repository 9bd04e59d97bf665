import subprocess
import sys

import pybroker


def test_version_flag_prints_version():
    out = subprocess.run(
        [sys.executable, "-m", "pybroker", "--version"], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0
    assert out.stdout.strip() == f"pybroker {pybroker.__version__}"
