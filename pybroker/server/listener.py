"""TCP listeners: one asyncio server per configured listener, answering with KafkaConnections."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass

from pybroker.server.connection import KafkaConnection
from pybroker.server.dispatch import Dispatcher


@dataclass(slots=True)
class BoundListener:
    """A listener after binding: the port is the real one even when 0 was asked for."""

    name: str
    host: str
    port: int
    server: asyncio.Server

    async def close(self) -> None:
        self.server.close()
        await self.server.wait_closed()


async def start_listener(
    dispatcher: Dispatcher, name: str, host: str | None, port: int, *, max_request_size: int,
    send_buffer: int = -1, receive_buffer: int = -1,
) -> BoundListener:
    loop = asyncio.get_running_loop()

    def factory() -> KafkaConnection:
        return KafkaConnection(dispatcher, name, max_request_size)

    # Bound now (so the real port is known) but accepting only once the broker is ready.
    server = await loop.create_server(
        factory, host or None, port, reuse_address=True, backlog=1024, family=socket.AF_UNSPEC,
        start_serving=False,
    )
    for sock in server.sockets:
        if send_buffer > 0:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
        if receive_buffer > 0:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    bound_port = server.sockets[0].getsockname()[1]
    return BoundListener(name=name, host=host or "", port=bound_port, server=server)
