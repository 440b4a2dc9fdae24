"""The fixed sequence the Python peers send, and what they share.

Each peer script serves it on 127.0.0.1 through its library's own API, prints one JSON line
(its URL and the items it sends, as given to the library) and serves until its standard
input closes or a minute passes. A first connection (no Last-Event-ID) ends after the item
with id FIRST_CONNECTION_ENDS_AFTER; a reconnection resumes after its Last-Event-ID.
"""

import asyncio
import json
import sys
import threading

PING_SECONDS = 0.25
FIRST_CONNECTION_ENDS_AFTER = "4"
SELF_STOP_SECONDS = 60

# Given to the libraries as they are: data may hold CR, LF and CRLF (they split it into
# data: lines), ids and event names as strings, retry in milliseconds.
SEQUENCE = [
    {"data": "hello", "id": "1", "retry": 300},
    {"data": "line one\nline two\r\nline three\rline four", "event": "multi", "id": "2"},
    {"data": "h\u00e9llo w\u00f6rld \u2713 \u65e5\u672c\u8a9e \U0001f389 \u2028", "event": "unicode", "id": "3"},
    {"comment": "a comment through the library"},
    {"data": "", "event": "empty", "id": "4"},
    # The first connection ends here; the client comes back with Last-Event-ID: 4.
    {"data": " one leading space", "id": "5"},
    {"data": '{"json": [1, 2, 3]}', "event": "json"},
    {"sleep": PING_SECONDS * 3},  # long enough for pings
    {"data": "after the pings", "id": "6", "retry": 2500},
    {"data": "bye", "event": "end", "id": "7"},
]


def items_after(last_event_id, supports_comments=True):
    """The items a connection sends, and whether it ends the connection early."""
    items = [i for i in SEQUENCE if supports_comments or "comment" not in i]
    if last_event_id is None:
        for n, item in enumerate(items):
            if item.get("id") == FIRST_CONNECTION_ENDS_AFTER:
                return items[: n + 1], True
        raise AssertionError("no cut id")
    for n, item in enumerate(items):
        if item.get("id") == last_event_id:
            return items[n + 1 :], False
    return items, False  # unknown id: everything


def announce(url, supports_comments=True):
    """Tells the test where to connect and what will be sent."""
    sent = [i for i in SEQUENCE if supports_comments or "comment" not in i]
    print(json.dumps({"url": url, "sent": sent, "ping_seconds": PING_SECONDS}), flush=True)


def stop_when_stdin_closes(loop, stop):
    """Sets `stop` when standard input closes (the test is done) or after a minute."""

    def wait():
        try:
            sys.stdin.read()
        finally:
            loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=wait, daemon=True).start()
    loop.call_later(SELF_STOP_SECONDS, stop.set)


async def run_until_stopped(serve):
    """Runs `serve(stop)` until stdin closes or the time is up."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    stop_when_stdin_closes(loop, stop)
    await serve(stop)
