"""Live updates for the console: server-sent events fed from the controller.

Messages are published on the controller's loop and put on each connected
client's queue (thread-safe); each SSE response drains its own queue in a
Flask thread. A slow client's queue is bounded: when it overflows, the client
gets a "resync" message and reloads its snapshot instead of stalling anyone.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

MAX_BACKLOG = 500
KEEPALIVE = 15.0


@dataclass(eq=False)
class Client:
    role: str
    agent: str  # set for agents: they only get what concerns them
    topics: frozenset[str]
    messages: queue.Queue[str | None] = field(default_factory=lambda: queue.Queue(MAX_BACKLOG))
    overflowed: bool = False

    def wants(self, topic: str, agent: str | None) -> bool:
        if topic not in self.topics:
            return False
        # Agents get only what concerns them; queue-wide figures come as "queues".
        return self.role != "agent" or agent == self.agent or topic == "queues"


class HubFull(Exception):
    """Every event stream the server can hold is open (each holds a worker thread)."""


class Hub:
    def __init__(self, max_clients: int = 10_000) -> None:
        self.max_clients = max_clients
        self._clients: set[Client] = set()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.published = 0

    def connect(self, role: str, agent: str, topics: set[str]) -> Client:
        client = Client(role, agent, frozenset(topics))
        with self._lock:
            if len(self._clients) >= self.max_clients:
                raise HubFull(
                    f"{self.max_clients} live streams are open: the most this server holds"
                )
            self._clients.add(client)
        return client

    def disconnect(self, client: Client) -> None:
        with self._lock:
            self._clients.discard(client)

    @property
    def clients(self) -> int:
        with self._lock:
            return len(self._clients)

    def wanted(self, topic: str, agent: str | None = None) -> bool:
        """Whether a publish on (topic, agent) would reach any client now."""
        with self._lock:
            clients = list(self._clients)
        return any(client.wants(topic, agent) for client in clients)

    def publish(self, topic: str, payload: dict[str, Any], agent: str | None = None) -> None:
        """Send to every client that wants it (``agent``: who it concerns, if anyone)."""
        self.published += 1
        data = json.dumps({"topic": topic, "sent": time.time(), **payload}, default=str)
        frame = f"id: {next(self._ids)}\nevent: {topic}\ndata: {data}\n\n"
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            if client.wants(topic, agent):
                try:
                    client.messages.put_nowait(frame)
                except queue.Full:
                    client.overflowed = True

    def stream(self, client: Client) -> Iterator[str]:
        """The SSE body for one client; ends when the client goes away."""
        try:
            yield "retry: 2000\n\n"
            while True:
                if client.overflowed:
                    client.overflowed = False
                    with client.messages.mutex:
                        client.messages.queue.clear()
                    yield "event: resync\ndata: {}\n\n"
                try:
                    frame = client.messages.get(timeout=KEEPALIVE)
                except queue.Empty:
                    yield ": keepalive\n\n"
                    continue
                if frame is None:
                    return
                yield frame
        finally:
            self.disconnect(client)

    def close_all(self) -> None:
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            with contextlib.suppress(queue.Full):
                client.messages.put_nowait(None)
