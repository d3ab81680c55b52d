#!/usr/bin/env bash
# Starts the Docker engine in the background when it is not answering (CI machines and
# fresh Debian installs have it installed but not running), and waits until it answers.
set -euo pipefail

if docker info >/dev/null 2>&1; then
  echo "==> Docker engine running"
  exit 0
fi
echo "==> starting dockerd"
mkdir -p /var/log
nohup dockerd >>/var/log/tkube-dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "    dockerd ready"
    exit 0
  fi
  sleep 0.5
done
echo "dockerd did not start; see /var/log/tkube-dockerd.log" >&2
tail -20 /var/log/tkube-dockerd.log >&2 || true
exit 1
