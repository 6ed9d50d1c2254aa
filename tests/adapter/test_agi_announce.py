"""What the caller hears of their place and wait, as AGI commands (AgiCallerLine)."""

from __future__ import annotations

from typing import cast

import pytest

from callcenter.adapters.agi.ivr_runner import IvrRunner
from callcenter.adapters.agi.routes import AgiCallerLine
from callcenter.adapters.agi.session import AgiSession
from callcenter.core.queues import FEW_MINUTES, Announce, SpokenWait


class Heard:
    """The AGI session's part: records what would be played."""

    def __init__(self) -> None:
        self.said: list[str] = []

    async def stream_file(self, name: str) -> None:
        self.said.append(name)

    async def command(self, text: str) -> None:
        self.said.append(text)


FEW = Announce(unreliable="few_minutes", few_minutes_prompt="custom/few-minutes")


@pytest.mark.parametrize(
    ("position", "wait", "announce", "said"),
    [
        (1, 3, Announce(), ["queue-youarenext", "queue-holdtime", 'SAY NUMBER 3 ""',
                            "queue-minutes"]),
        (3, 1, Announce(), ["queue-thereare", 'SAY NUMBER 2 ""', "queue-callswaiting",
                            "queue-holdtime", 'SAY NUMBER 1 ""', "queue-minute"]),
        (1, None, Announce(), ["queue-youarenext"]),
        (1, FEW_MINUTES, FEW, ["queue-youarenext", "custom/few-minutes"]),
        (2, 4, Announce(position=False), ["queue-holdtime", 'SAY NUMBER 4 ""', "queue-minutes"]),
    ],
)  # fmt: skip
async def test_position_and_wait_as_prompts(
    position: int, wait: SpokenWait, announce: Announce, said: list[str]
) -> None:
    heard = Heard()
    line = AgiCallerLine(cast(AgiSession, heard), cast(IvrRunner, None))
    await line.say_position(position, wait, announce)
    assert heard.said == said
