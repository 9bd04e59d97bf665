"""Tools for operating a Kafka-compatible cluster without Java: topics, a console producer and
consumer, consumer groups, and a health check, on a small client built on the project's codec.

`commands` holds their command-line definitions; `client` the blocking client they share
(connections with version negotiation, a cluster view routing to leaders and coordinators);
`protocol` its sans-I/O core. The names below load on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BrokerConnection", "Cluster", "KafkaError", "ToolError", "UnsupportedApiError"]


def __getattr__(name: str) -> Any:
    if name in ("BrokerConnection", "Cluster", "KafkaError", "UnsupportedApiError"):
        from pybroker.tools import client

        return getattr(client, name)
    if name == "ToolError":
        from pybroker.tools.common import ToolError

        return ToolError
    raise AttributeError(f"module 'pybroker.tools' has no attribute {name!r}")
