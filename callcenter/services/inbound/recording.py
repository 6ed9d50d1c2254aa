"""Recording every queued call (MixMonitor, both parties) and pausing it for
card payments. File names are made here from our own call id and the date,
never from anything a caller sent."""

from __future__ import annotations

import time
from pathlib import Path

from callcenter.core import events as ev
from callcenter.core.calls.live import CallBook
from callcenter.core.calls.state import CallState
from callcenter.services.notify import Notifier
from callcenter.services.ports import Pbx


class RecordingError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Recordings:
    def __init__(
        self,
        pbx: Pbx,
        notifier: Notifier,
        calls: CallBook,
        inner_root: str,
        host_root: Path,
        node_roots: dict[str, Path] | None = None,
    ) -> None:
        self.pbx = pbx
        self.notifier = notifier
        self.calls = calls
        self.inner_root = inner_root  # the recordings folder as Asterisk sees it
        self.host_root = host_root  # the same folder for the controller and the console
        # Several nodes: each records on the caller's node, into its own folder, which
        # the controller reads (mounted); the call id names the file on one node only.
        self.node_roots = node_roots or {}

    @staticmethod
    def relative_path(call_id: str, entered_at: float) -> str:
        if not call_id.isalnum():
            raise ValueError(f"not a call id: {call_id!r}")
        return time.strftime("%Y/%m/%d/", time.gmtime(entered_at)) + f"{call_id}.wav"

    def asterisk_path(self, call_id: str, entered_at: float) -> str:
        return f"{self.inner_root}/{self.relative_path(call_id, entered_at)}"

    def comment_paths(self, recording: str) -> tuple[str, str]:
        """A survey comment beside the call's recording (``relative_path``): Asterisk's
        path without the format, and the relative path stored."""
        stem = recording.removesuffix(".wav") + "-comment"
        return f"{self.inner_root}/{stem}", f"{stem}.wav"

    def host_path(self, relative: str, node: str = "") -> Path:
        # Stored paths are relative (relative_path); a NUL byte would make resolve() raise.
        if "\x00" in relative or Path(relative).is_absolute():
            raise RecordingError("bad-path", "recording path is not relative to the folder")
        roots = [self.node_roots[node]] if node in self.node_roots else []
        if not roots:
            roots = [self.host_root, *self.node_roots.values()]
        paths = []
        for root in roots:
            path = (root / relative).resolve()
            if not path.is_relative_to(root.resolve()):
                raise RecordingError("bad-path", "recording path outside the recordings folder")
            if path.exists():
                return path
            paths.append(path)
        return paths[0]  # on no node (yet): the first folder's, as on one box

    def on_call_answered(self, e: ev.CallAnswered) -> None:
        call = self.calls.get(e.call_id)
        if call is None or not call.recording:
            return
        self.notifier.publish(
            ev.RecordingStarted(
                at=e.at,
                call_id=e.call_id,
                agent=e.agent,
                queue=e.queue,
                path=call.recording,
                caller=call.caller,
                node=call.node,
            )
        )

    def on_call_ended(self, e: ev.CallEnded) -> None:
        self.notifier.publish(ev.RecordingStopped(at=e.at, call_id=e.call_id))

    async def mute(self, call_id: str, muted: bool, now: float) -> None:
        """Pause (muted) or resume the recording of a call in progress."""
        call = self.calls.get(call_id)
        if call is None or call.state is not CallState.TALKING or not call.agent_channel:
            raise RecordingError("not-talking", f"call {call_id} is not in conversation")
        if (call.muted_since is not None) == muted:
            return
        # MixMonitor runs on the caller's (customer's) channel, not the agent's.
        await self.pbx.mute_recording(call.channel, muted)
        call.muted_since = now if muted else None
        self.notifier.publish(ev.RecordingMuted(at=now, call_id=call_id, muted=muted))
