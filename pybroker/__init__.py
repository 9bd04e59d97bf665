"""pybroker: a Kafka-compatible broker written in Python.

`pybroker.EmbeddedBroker` runs one in the calling process (for tests); it is imported on first
use, so `import pybroker` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["EmbeddedBroker", "__version__"]

if TYPE_CHECKING:
    from pybroker.embedded import EmbeddedBroker


def __getattr__(name: str) -> Any:
    if name == "EmbeddedBroker":
        from pybroker.embedded import EmbeddedBroker

        return EmbeddedBroker
    raise AttributeError(f"module 'pybroker' has no attribute {name!r}")
