"""CRM webhooks: every call event POSTed as signed JSON to the configured URLs.

Nothing here runs on the event loop but ``submit``, which only serialises the
event and puts it on each hook's bounded queue. One worker thread per hook
delivers that hook's events in order, each with a timeout, a bounded number
of retries with exponential backoff, an event id (the same on every retry, so
the CRM can drop duplicates) and an HMAC-SHA256 signature of the body:

    X-Callcenter-Signature: sha256=<hex of HMAC-SHA256(secret, body)>
    X-Callcenter-Event-Id:  <id>   (also "id" in the body)

A CRM that is down holds up only its own hook; once that hook's queue is full
new events for it are dropped and logged, so memory stays bounded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import http.client
import json
import logging
import queue
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from callcenter.core import events as ev
from callcenter.services.console.desktop_settings import Webhook

log = logging.getLogger(__name__)

# The call's life as a CRM follows it; queue announcements and recording
# bookkeeping are internal and stay out.
CALL_EVENTS: tuple[type[ev.Event], ...] = (
    ev.CallEntered,
    ev.IvrFinished,
    ev.CallQueued,
    ev.CallOffered,
    ev.CallRingNoAnswer,
    ev.CallAnswered,
    ev.CallAbandoned,
    ev.CallOverflowed,
    ev.CallCompleted,
    ev.CallHeld,
    ev.CallResumed,
    ev.CallTransferred,
    ev.CallSegmentEnded,
    ev.CallEnded,
    ev.CallFellBack,
    ev.CallDataChanged,
)
SIGNATURE_HEADER = "X-Callcenter-Signature"
EVENT_ID_HEADER = "X-Callcenter-Event-Id"
EVENT_TYPE_HEADER = "X-Callcenter-Event"
ATTEMPT_HEADER = "X-Callcenter-Attempt"
QUEUE_CAPACITY = 1000  # events waiting per hook
DROP_LOG_EVERY = 100  # while dropping, one log line per this many events


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4  # the first try included
    base_delay: float = 1.0
    max_delay: float = 30.0
    timeout: float = 5.0  # per attempt: connect, send and read the answer

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based): 1, 2, 4... capped."""
        return float(min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))

    @staticmethod
    def retryable(status: int | None) -> bool:
        """No answer, a server error, or "too many requests / too slow": try again.
        Any other 4xx will not change by repeating the same request."""
        return status is None or status >= 500 or status in (408, 429)


@dataclass(frozen=True, slots=True)
class Delivery:
    event_id: str
    kind: str
    body: bytes


def encode(event: ev.Event, event_id: str) -> Delivery:
    kind = type(event).__name__
    payload = {"id": event_id, "type": kind, **dataclasses.asdict(event)}
    body = json.dumps(payload, separators=(",", ":"), default=str).encode()
    return Delivery(event_id, kind, body)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# (url, body, headers, timeout) -> HTTP status; raises OSError when there is no answer.
Sender = Callable[[str, bytes, Mapping[str, str], float], int]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirected POST would become a GET without the body: report the 3xx instead.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def http_sender(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read(64 * 1024)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code)
    except http.client.HTTPException as exc:  # a garbled answer is no answer
        raise OSError(f"bad HTTP answer: {type(exc).__name__}") from exc


@dataclass(frozen=True, slots=True)
class Outcome:
    delivered: bool
    attempts: int
    status: int | None  # the last HTTP status, None if the last try got no answer
    error: str = ""


def deliver(
    delivery: Delivery,
    hook: Webhook,
    policy: RetryPolicy,
    sender: Sender,
    wait: Callable[[float], bool],
) -> Outcome:
    """Send one event to one hook, retrying as the policy says.

    ``wait(seconds)`` sleeps between attempts and returns True to give up
    early (the controller is stopping).
    """
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "callcenter-webhooks/1",
        SIGNATURE_HEADER: sign(hook.secret, delivery.body),
        EVENT_ID_HEADER: delivery.event_id,
        EVENT_TYPE_HEADER: delivery.kind,
    }
    status: int | None = None
    error = ""
    for attempt in range(1, policy.attempts + 1):
        headers[ATTEMPT_HEADER] = str(attempt)
        try:
            status, error = sender(hook.url, delivery.body, headers, policy.timeout), ""
        except OSError as exc:
            status, error = None, f"{type(exc).__name__}: {exc}"
        if status is not None and 200 <= status < 300:
            return Outcome(True, attempt, status)
        if not policy.retryable(status) or attempt == policy.attempts:
            return Outcome(False, attempt, status, error)
        if wait(policy.delay(attempt)):
            return Outcome(False, attempt, status, error or "stopping")
    raise AssertionError("unreachable: the loop returns")  # attempts >= 1


def _where(url: str) -> str:
    # Logs name the host and path only: a query string may carry a token.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


class _HookWorker:
    """One hook: its bounded queue and the thread that empties it in order."""

    def __init__(self, hook: Webhook, policy: RetryPolicy, sender: Sender, capacity: int) -> None:
        self.hook = hook
        self.policy = policy
        self.sender = sender
        self.queue: queue.Queue[Delivery] = queue.Queue(maxsize=capacity)
        self.delivered = self.failed = self.dropped = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"webhook {_where(hook.url)}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def offer(self, delivery: Delivery) -> None:
        try:
            self.queue.put_nowait(delivery)
        except queue.Full:
            self.dropped += 1
            if self.dropped % DROP_LOG_EVERY == 1:
                log.warning(
                    "webhook %s: %d events waiting (CRM down or slow); dropped %s %s "
                    "(%d dropped so far)",
                    _where(self.hook.url),
                    self.queue.qsize(),
                    delivery.kind,
                    delivery.event_id,
                    self.dropped,
                )

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                delivery = self.queue.get(timeout=0.2)
            except queue.Empty:
                continue
            outcome = deliver(delivery, self.hook, self.policy, self.sender, self._stop.wait)
            if outcome.delivered:
                self.delivered += 1
                continue
            self.failed += 1
            log.warning(
                "webhook %s: %s %s not delivered after %d attempt(s) (last: %s); dropped",
                _where(self.hook.url),
                delivery.kind,
                delivery.event_id,
                outcome.attempts,
                outcome.status if outcome.status is not None else outcome.error,
            )

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)
        left = self.queue.qsize()
        if left:
            log.warning("webhook %s: %d events not sent at shutdown", _where(self.hook.url), left)


class WebhookDispatcher:
    def __init__(
        self,
        sender: Sender = http_sender,
        policy: RetryPolicy | None = None,
        capacity: int = QUEUE_CAPACITY,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.sender = sender
        self.policy = policy or RetryPolicy()
        self.capacity = capacity
        self.new_id = new_id
        self._workers: dict[Webhook, _HookWorker] = {}
        self._lock = threading.Lock()
        self._closed = False

    def configure(self, hooks: Sequence[Webhook]) -> None:
        """Deliver to these hooks from now on (any thread). A hook whose URL and
        secret are unchanged keeps its worker and its waiting events."""
        with self._lock:
            if self._closed:
                return
            wanted = list(dict.fromkeys(hooks))
            for hook in set(self._workers) - set(wanted):
                self._workers.pop(hook).stop()
            for hook in wanted:
                if hook not in self._workers:
                    worker = _HookWorker(hook, self.policy, self.sender, self.capacity)
                    self._workers[hook] = worker
                    worker.start()

    def submit(self, event: ev.Event) -> None:
        """Called on the event loop for every domain event: must never block."""
        if not isinstance(event, CALL_EVENTS):
            return
        with self._lock:
            workers = list(self._workers.values())
        if not workers:
            return
        delivery = encode(event, self.new_id())
        for worker in workers:
            worker.offer(delivery)

    def stats(self) -> list[dict[str, Any]]:
        with self._lock:
            workers = list(self._workers.values())
        return [
            {
                "url": _where(w.hook.url),
                "waiting": w.queue.qsize(),
                "delivered": w.delivered,
                "failed": w.failed,
                "dropped": w.dropped,
            }
            for w in workers
        ]

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._workers.values())
            self._workers.clear()
        for worker in workers:
            worker.stop()
        for worker in workers:
            worker.join(timeout)
