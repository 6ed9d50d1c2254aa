#!/usr/bin/env bash
# Build (once) a Debian unstable root holding Asterisk, for hosts whose own
# distribution has no asterisk package (Debian 12 among them).
#
#   deploy/asterisk-root.sh ROOT
#
# Idempotent: a finished root carries ROOT/.callcenter-root-ok and is reused as
# is. The build happens in ROOT.tmp and is renamed into place only when it is
# complete, so an interrupted build is never mistaken for a good one.
# The mirror is the one apt on this machine already uses (never hard-coded).
set -euo pipefail

root=${1:?usage: asterisk-root.sh ROOT}
stamp="$root/.callcenter-root-ok"
packages="asterisk,asterisk-core-sounds-en-gsm,asterisk-moh-opsound-gsm"

if [ -f "$stamp" ]; then
  echo "asterisk root: cached at $root"
  exit 0
fi

mirror_from_apt() {
  # deb822 sources first, then the one-line format; skip security archives.
  local f line
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '
      /^URIs:/   { uri=$2 }
      /^Suites:/ { sec=0; for (i=2;i<=NF;i++) if ($i ~ /security/) sec=1 }
      /^$/       { if (uri != "" && !sec) { print uri; exit } uri="" }
      END        { if (uri != "" && !sec) print uri }
    ' "$f" | head -n1
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    while read -r line; do
      case "$line" in
        deb\ *) set -- $line
                [ "$2" = "[" ] && continue
                case "$2" in \[*) shift ;; esac
                case "$3" in *security*) continue ;; esac
                echo "$2"; return ;;
      esac
    done < "$f"
  done
}

mirror=${CALLCENTER_DEBIAN_MIRROR:-$(mirror_from_apt | head -n1)}
if [ -z "$mirror" ]; then
  echo "asterisk root: no Debian mirror found in the apt configuration;" \
       "set CALLCENTER_DEBIAN_MIRROR" >&2
  exit 2
fi
command -v debootstrap >/dev/null || {
  echo "asterisk root: debootstrap is missing (apt-get install debootstrap)" >&2
  exit 2
}

tmp="$root.tmp"
rm -rf "$tmp"
mkdir -p "$(dirname "$root")"
echo "asterisk root: building Debian unstable root in $tmp (a few minutes, once)"
start=$(date +%s)
debootstrap --variant=minbase --include="$packages" sid "$tmp" "$mirror" \
  > "$root.build.log" 2>&1 || {
    echo "asterisk root: debootstrap failed, see $root.build.log" >&2
    tail -n 20 "$root.build.log" >&2
    exit 1
  }
# Trim what Asterisk never needs at run time.
rm -rf "$tmp/var/cache/apt/archives/"*.deb "$tmp/var/lib/apt/lists/"*
# The DNS stall (LAB.md): a resolver that fails fast and a hosts file that
# knows this machine, so Asterisk never waits on a lookup timeout.
echo "nameserver 127.0.0.1" > "$tmp/etc/resolv.conf"
printf '127.0.0.1 localhost %s\n::1 localhost\n' "$(hostname)" > "$tmp/etc/hosts"
chroot "$tmp" /usr/sbin/asterisk -V > "$tmp/.callcenter-asterisk-version"
date -u +%FT%TZ > "$tmp/.callcenter-root-ok"
rm -rf "$root"
mv "$tmp" "$root"
echo "asterisk root: ready at $root ($(cat "$root/.callcenter-asterisk-version"), $(( $(date +%s) - start )) s)"
