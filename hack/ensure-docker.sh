#!/usr/bin/env bash
# Makes sure a Docker engine answers on the default socket: starts dockerd in the background
# (log in /var/log/tkube-dockerd.log) when none is running. Safe to run again.
set -euo pipefail

if docker info >/dev/null 2>&1; then
  echo "==> docker engine running"
  exit 0
fi
echo "==> starting dockerd"
nohup dockerd >>/var/log/tkube-dockerd.log 2>&1 &
for _ in $(seq 1 150); do
  if docker info >/dev/null 2>&1; then
    echo "    dockerd ready"
    exit 0
  fi
  sleep 0.2
done
echo "dockerd did not come up within 30s; see /var/log/tkube-dockerd.log" >&2
exit 1
