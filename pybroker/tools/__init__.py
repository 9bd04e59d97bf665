"""Tools for operating a Kafka-compatible cluster without Java: topics, a console producer and
consumer, consumer groups, and a health check, on a small client built on the project's codec.

`commands` holds their command-line definitions; `client` the blocking client they share
(connections with version negotiation, a cluster view routing to leaders and coordinators);
`protocol` its sans-I/O core.
"""

from pybroker.tools.client import BrokerConnection, Cluster, KafkaError, UnsupportedApiError
from pybroker.tools.common import ToolError

__all__ = ["BrokerConnection", "Cluster", "KafkaError", "ToolError", "UnsupportedApiError"]
