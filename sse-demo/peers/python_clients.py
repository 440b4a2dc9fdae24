"""The Python clients our users come from, reading an event stream of ours.

    python python_clients.py CLIENT URL LAST_EVENT_ID COUNT

CLIENT is `aiohttp-sse-client` (async, on aiohttp) or `sseclient-py` (blocking, on the
standard library's urllib). The client connects to URL, with `Last-Event-ID` when
LAST_EVENT_ID is not empty, and prints one JSON object per event it dispatches (its type,
data and id as the library reports them) until it has COUNT of them; then it exits.
"""

import asyncio
import json
import sys
import urllib.request


def report(event_type, data, last_event_id):
    print(json.dumps({"type": event_type, "data": data, "id": last_event_id}), flush=True)


async def with_aiohttp_sse_client(url, headers, count):
    from aiohttp_sse_client import client as sse_client

    async with sse_client.EventSource(url, headers=headers) as source:
        seen = 0
        async for event in source:
            report(event.message or "message", event.data, event.last_event_id)
            seen += 1
            if seen == count:
                return


def with_sseclient_py(url, headers, count):
    import sseclient

    request = urllib.request.Request(url, headers={"Accept": "text/event-stream", **headers})
    with urllib.request.urlopen(request, timeout=20) as response:
        seen = 0
        for event in sseclient.SSEClient(response).events():
            report(event.event, event.data, event.id)
            seen += 1
            if seen == count:
                return


def main():
    client, url, last_event_id, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    if client == "aiohttp-sse-client":
        asyncio.run(with_aiohttp_sse_client(url, headers, count))
    elif client == "sseclient-py":
        with_sseclient_py(url, headers, count)
    else:
        sys.exit(f"unknown client {client}")


if __name__ == "__main__":
    main()
