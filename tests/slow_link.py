"""A TCP link that delivers every byte `delay` seconds late in each direction: a process far from a real service
(another zone's Redis), so a test can make the order of two clients' commands at the server certain."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


@asynccontextmanager
async def slow_link(host: str, port: int, delay: float) -> AsyncIterator[int]:
    """Listen on a free loopback port and forward to host:port with `delay` added each way; yields the port."""
    pipes: set[asyncio.Task[None]] = set()

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Chunks keep their order and each arrives `delay` after it was read, however many are in flight.
        due: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        clock = asyncio.get_running_loop()

        async def deliver() -> None:
            while True:
                at, chunk = await due.get()
                await asyncio.sleep(max(0.0, at - clock.time()))
                if not chunk:
                    writer.close()
                    return
                writer.write(chunk)
                await writer.drain()

        delivering = asyncio.ensure_future(deliver())
        try:
            while chunk := await reader.read(65536):
                due.put_nowait((clock.time() + delay, chunk))
            due.put_nowait((clock.time() + delay, b""))
            await delivering
        finally:
            delivering.cancel()

    async def connected(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(host, port)
        for pipe in (relay(client_reader, server_writer), relay(server_reader, client_writer)):
            task = asyncio.ensure_future(pipe)
            pipes.add(task)
            task.add_done_callback(pipes.discard)

    server = await asyncio.start_server(connected, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for task in list(pipes):
            task.cancel()
        await asyncio.gather(*pipes, return_exceptions=True)
