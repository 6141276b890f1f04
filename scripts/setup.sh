#!/usr/bin/env bash
# Sets up everything vmkit needs on Debian 12 with Node 20, as root: system packages (only those missing),
# npm packages (npm ci), the TypeScript build and the tiny test guest (cached in .cache/guest).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }

# System packages: qemu-system-x86 (QEMU), qemu-utils (qemu-img), busybox-static (the guest's userland),
# util-linux (setpriv), xz-utils/lz4/cpio (kernel extraction and the initramfs), libxml2-utils (xmllint:
# the tests check exported libvirt XML against libvirt's schema), chromium (the web dashboard's browser test,
# driven by playwright-core; about 80 MB, ~35 s to install).
packages=(qemu-system-x86 qemu-utils busybox-static util-linux xz-utils lz4 cpio libxml2-utils chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    say "missing packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}"
    exit 1
  fi
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The unprivileged account a root daemon runs QEMU as (README: Security model), in group kvm when it exists.
if [ "$(id -u)" = 0 ] && ! getent passwd vmkit-qemu >/dev/null; then
  say "creating the vmkit-qemu account"
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group vmkit-qemu
  if getent group kvm >/dev/null; then usermod -aG kvm vmkit-qemu; fi
fi

# promtool checks the metrics' exposition format in the tests: taken out of Debian's prometheus package
# (apt-get download, dpkg -x; ~19 MB, once), never installed, so no Prometheus service is set up.
if [ ! -x .cache/tools/promtool ]; then
  if [ "$(id -u)" != 0 ]; then
    say "promtool is missing (.cache/tools/promtool): run this as root once to fetch it"
    exit 1
  fi
  say "extracting promtool from Debian's prometheus package into .cache/tools"
  mkdir -p .cache/tools
  work=$(mktemp -d .cache/tools/dl.XXXXXX)
  (cd "$work" && apt-get download -q -o APT::Sandbox::User=root prometheus >&2) ||
    { apt-get update -qq && (cd "$work" && apt-get download -q -o APT::Sandbox::User=root prometheus >&2); }
  dpkg -x "$work"/prometheus_*.deb "$work/x"
  install -m 0755 "$work/x/usr/bin/promtool" .cache/tools/promtool
  rm -rf "$work"
fi

# npm packages, only when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

say "building (tsc, then the esbuild bundle that bin/vmkit runs)"
rm -rf dist   # no stale output from removed sources
npx tsc -p tsconfig.json
npx tsc -p web/tsconfig.json   # the dashboard's browser code (checked only; esbuild bundles it)
node dist/scripts/bundle.js

bash scripts/build-guest.sh
