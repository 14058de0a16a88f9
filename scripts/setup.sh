#!/usr/bin/env bash
# Installs what kaploy and its tests need on a fresh Debian 12 machine, then the npm packages.
# Idempotent: packages already present are not reinstalled. Needs root for apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

# bubblewrap: the virtual nodes' sandbox; openssh-server: the OpenSSH transport tests and the
# user's view of nodes; zstd/xz/bzip2: image compressions; busybox-static: the test images'
# userland; e2fsprogs: dd test images; taktuk: the broadcast benchmark's reference; iproute2: netns;
# nginx-light: the web depot the image download tests count requests on (a site's public_html);
# chromium, firefox-esr: the dashboard's browser tests (test/slow/ui; Chromium driven headless by
# playwright-core, Firefox ESR by puppeteer-core over WebDriver BiDi).
# uidmap: newuidmap/newgidmap, for the user namespace over root's subordinate ids (below).
PKGS=(openssh-server openssh-client bubblewrap zstd xz-utils bzip2 busybox-static e2fsprogs taktuk iproute2 sqlite3 procps nginx-light chromium firefox-esr uidmap openssl)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${missing[@]}" >/tmp/kaploy-apt.log 2>&1 || {
    apt-get update -qq >>/tmp/kaploy-apt.log 2>&1
    apt-get install -y -qq "${missing[@]}" >>/tmp/kaploy-apt.log 2>&1 || { tail -20 /tmp/kaploy-apt.log >&2; exit 1; }
  }
fi
# Root's subordinate ids: virtual nodes get real user and group ids in a user namespace mapped
# onto a slice of this range, ids no host file or account uses (docs/virtual-node.md).
if [ "$(id -u)" -eq 0 ]; then
  for f in /etc/subuid /etc/subgid; do
    grep -q '^root:1000000000:67108864$' "$f" 2>/dev/null || echo 'root:1000000000:67108864' >>"$f"
  done
fi
# `npm install` (which follows package-lock.json) rather than `npm ci`: npm 11 leaves the other
# platforms' optional packages of @biomejs/biome out of the lock file, and `npm ci` then refuses
# it as out of sync. The lock still pins every version installed here. It also builds dist/.
if [ ! -d node_modules ] || [ ! -d dist ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi
