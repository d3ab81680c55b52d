#!/usr/bin/env bash
# Installs what tkube needs on a Debian 12 machine, skipping what is already there:
# system packages (etcd, Docker, iptables, iproute2, busybox, conntrack, openssl...) and the
# npm dependencies. Safe to run again.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
packages=(etcd-server etcd-client docker.io iptables iproute2 busybox-static gcc libc6-dev tar util-linux conntrack openssl ca-certificates procps psmisc shellcheck vagrant)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "==> installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "==> system packages present"
fi

if ! command -v node >/dev/null 2>&1; then
  echo "==> installing Node.js"
  apt-get install -y -qq nodejs npm >/dev/null
fi

cd "$here"
if [ -L node_modules ]; then
  # A worktree sharing another checkout's node_modules: never reinstall through the link.
  echo "==> npm dependencies shared from $(readlink node_modules)"
elif [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
else
  echo "==> npm dependencies present"
fi
