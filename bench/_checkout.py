"""This checkout's code first: a bench script imports callcenter, bench and tests
from the repository it sits in, not from an installed copy (an editable install
may point at another checkout).

Run as ``python bench/<script>.py``, a script has bench/ as sys.path[0], so its
first import, ``import _checkout``, finds this file, which puts the repository
root ahead of everything else.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
