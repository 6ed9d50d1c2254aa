"""Where the project's own files are: Asterisk templates, dialplan, deploy scripts."""

from __future__ import annotations

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
ASTERISK_TEMPLATES = PROJECT_DIR / "asterisk"
DIALPLAN_DIR = PROJECT_DIR / "dialplan"
KAMAILIO_TEMPLATES = PROJECT_DIR / "kamailio"
DEPLOY_DIR = PROJECT_DIR / "deploy"
# What deploy/setup.sh installs from the npm registry (JsSIP, the desktop's browser phone).
VENDOR_DIR = PROJECT_DIR / "vendor"
