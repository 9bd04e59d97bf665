"""The network side of the broker: listeners, connections and request dispatch."""

from pybroker.server.connection import KafkaConnection
from pybroker.server.dispatch import ApiHandler, Dispatcher, RequestContext
from pybroker.server.listener import BoundListener, start_listener

__all__ = ["ApiHandler", "BoundListener", "Dispatcher", "KafkaConnection", "RequestContext", "start_listener"]
