#!/usr/bin/env bash
# Set up everything the call center needs on a fresh Debian 12 machine (as root).
#
#   bash deploy/setup.sh          the call center: SIP tools, the Asterisk root, a venv
#   bash deploy/setup.sh --test   the same plus what the tests need (PostgreSQL, Chromium)
#
# Idempotent: installed packages, the cached Asterisk root and the venv are reused.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-run}
[ "$(id -u)" = 0 ] || { echo "setup: run as root" >&2; exit 1; }

# kamailio: `callcenter kamailio up` in front of several Asterisk nodes (docs/SCALING.md);
# iproute2, procps (sysctl): the network namespaces of tests/e2e/test_kamailio_nodes.py
packages=(debootstrap sip-tester baresip-core espeak-ng sox python3 python3-venv logrotate
          util-linux ca-certificates postgresql-client kamailio iproute2 procps)
if [ "$mode" = "--test" ]; then
  # dumpcap (wireshark-common): bench/inbound_paths.py; systemd-analyze: the units' check
  # fail2ban: tests/e2e/test_sip_bans.py runs a fail2ban server of its own
  packages+=(postgresql chromium chromium-driver wireshark-common systemd fail2ban)
fi
# npm: the desktop's browser phone library (below); Debian's own unless one is installed.
command -v npm >/dev/null || packages+=(npm)

# Debian's own kamailio service would take port 5060 with its sample script: it is
# masked (before the package comes in, so it never starts); `callcenter kamailio up`
# runs the product's Kamailio. Its SysV script only runs with RUN_KAMAILIO=yes.
mkdir -p /etc/systemd/system
[ -e /etc/systemd/system/kamailio.service ] || ln -s /dev/null /etc/systemd/system/kamailio.service

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Asterisk: the system's own if installed, else a cached Debian unstable root.
root=${CALLCENTER_ASTERISK_ROOT:-/var/cache/callcenter/asterisk-root}
if ! command -v asterisk >/dev/null; then
  bash deploy/asterisk-root.sh "$root"
fi

# JsSIP for the desktop's browser phone ([sip] webrtc): a pinned release from the npm
# registry (callcenter/adapters/web/areas/phone.py names it), served by the console
# as shipped, no build step.
jssip=3.12.0
if ! grep -qs "\"version\": \"$jssip\"" vendor/node_modules/jssip/package.json; then
  mkdir -p vendor
  npm install --prefix vendor --no-save --no-package-lock --no-audit --no-fund \
    --ignore-scripts --loglevel=error "jssip@$jssip" >/dev/null
fi

# The controller's virtualenv.
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
extras=""
[ "$mode" = "--test" ] && extras="[test]"
stamp=".venv/.installed$extras"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e ".$extras"
  touch "$stamp"
fi
echo "setup: ready (venv .venv, Asterisk $(command -v asterisk || echo "root $root"))"
