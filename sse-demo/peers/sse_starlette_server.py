"""Starlette + sse-starlette on uvicorn serving the fixed sequence (sequence.py) on
127.0.0.1.

Everything goes through sse-starlette's API: EventSourceResponse over an async generator of
ServerSentEvent(data=, id=, event=, retry=, comment=), its ping (ping=), its default CRLF
separator; Last-Event-ID read from the request as its docs show.
"""

import asyncio
import socket

import uvicorn
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.applications import Starlette
from starlette.routing import Route

import sequence


async def events(request):
    items, ends_early = sequence.items_after(request.headers.get("last-event-id"))

    async def generate():
        for item in items:
            if "sleep" in item:
                await asyncio.sleep(item["sleep"])
                continue
            yield ServerSentEvent(
                data=item.get("data"),
                id=item.get("id"),
                event=item.get("event"),
                retry=item.get("retry"),
                comment=item.get("comment"),
            )
        if ends_early:
            return  # the response ends: the client reconnects
        while not await request.is_disconnected():
            await asyncio.sleep(0.05)

    return EventSourceResponse(generate(), ping=sequence.PING_SECONDS)


async def serve(stop):
    app = Starlette(routes=[Route("/events", events)])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # older uvicorn; newer ones ignore it
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    port = sock.getsockname()[1]
    sequence.announce(f"http://127.0.0.1:{port}/events")
    await stop.wait()
    server.should_exit = True
    await task


if __name__ == "__main__":
    asyncio.run(sequence.run_until_stopped(serve))
