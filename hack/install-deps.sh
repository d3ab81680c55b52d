#!/usr/bin/env bash
# Installs what tkube needs on a Debian 12 machine, skipping what is already there:
# system packages (etcd, Docker, iptables, iproute2, busybox, conntrack, openssl...) and the
# npm dependencies. Safe to run again.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# vagrant-libvirt (which Debian's vagrant recommends): the Vagrantfile's libvirt provider block, and
# a provider `vagrant validate` can check the Vagrantfile against on a machine without a hypervisor
# (without one, validate stops at "No usable default provider could be found").
packages=(etcd-server etcd-client docker.io iptables iproute2 busybox-static gcc libc6-dev tar util-linux conntrack openssl ca-certificates procps psmisc shellcheck vagrant vagrant-libvirt)

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
# A node_modules that is a link is shared with other checkouts (git worktrees): npm ci would
# replace it under them, so it is left alone. Otherwise it is reinstalled when the lock file's
# content changed since the last install here (a fresh checkout's newer mtime is no change).
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -L node_modules ]; then
  echo "==> node_modules is a link to $(readlink node_modules); leaving it alone"
elif [ -d node_modules ] && [ "$(cat node_modules/.tkube-lock-sha256 2>/dev/null)" = "$lock_hash" ]; then
  echo "==> npm dependencies present"
elif [ -d node_modules ] && [ ! -f node_modules/.tkube-lock-sha256 ] && npm ls --depth=0 >/dev/null 2>&1; then
  echo "$lock_hash" >node_modules/.tkube-lock-sha256
  echo "==> npm dependencies present"
else
  echo "==> installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" >node_modules/.tkube-lock-sha256
fi
