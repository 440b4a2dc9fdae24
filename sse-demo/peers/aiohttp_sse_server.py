"""aiohttp + aiohttp-sse serving the fixed sequence (sequence.py) on 127.0.0.1.

Everything goes through aiohttp-sse's API: sse_response(), EventSourceResponse.send(data,
id=, event=, retry=), its ping task (ping_interval), its default CRLF separator and its
last_event_id property. aiohttp-sse has no comment API, so the comment item is left out.
"""

import asyncio
import socket

from aiohttp import web
from aiohttp_sse import sse_response

import sequence


async def events(request):
    try:
        async with sse_response(request, ping_interval=sequence.PING_SECONDS) as resp:
            items, ends_early = sequence.items_after(resp.last_event_id, supports_comments=False)
            for item in items:
                if "sleep" in item:
                    await asyncio.sleep(item["sleep"])
                    continue
                await resp.send(
                    item["data"], id=item.get("id"), event=item.get("event"), retry=item.get("retry")
                )
            if ends_early:
                return resp  # the response ends: the client reconnects
            while resp.is_connected():
                await asyncio.sleep(0.05)
    except ConnectionResetError:
        pass  # the client went away (the test's raw CRLF check reads one event and leaves)
    return resp


async def serve(stop):
    app = web.Application()
    app.router.add_get("/events", events)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock, shutdown_timeout=1)
    await site.start()
    port = sock.getsockname()[1]
    sequence.announce(f"http://127.0.0.1:{port}/events", supports_comments=False)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(sequence.run_until_stopped(serve))
