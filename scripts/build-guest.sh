#!/usr/bin/env bash
# Build vmkit's tiny test guest into .cache/guest/ (git-ignored):
#   vmlinux     uncompressed PVH ELF kernel (boots fastest under TCG: -kernel vmlinux)
#   vmlinuz     the Debian bzImage it came from
#   initrd.img  busybox-static initramfs: guest/init as /init plus the kernel's driver modules
#   manifest.json  { kernelVersion, debVersion, vmlinux, vmlinuz, initrd, initHash, scriptHash, builtAt }
# The kernel comes from Debian's linux-image-amd64 (downloaded with apt-get download, never installed).
# Usage: bash scripts/build-guest.sh [--force]
# Cached path: if the manifest matches guest/init and this script, and the files exist, it exits at once.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="$ROOT/.cache/guest"
INIT_SRC="$ROOT/guest/init"
SELF="$ROOT/scripts/build-guest.sh"
MANIFEST="$CACHE/manifest.json"

# Modules the guest loads, by group; /init loads a group when its action needs it. Each group
# lists its modules in the order wanted; their dependencies (from the depmod-generated modules.dep)
# are inserted before each one.
# button: the ACPI power button driver and evdev (/dev/input/event*), for vmkit.action=sleep|wait.
BUTTON_MODULES=(button evdev)
# pvpanic (ISA and PCI devices), so that vmkit.action=crash raises QEMU's GUEST_PANICKED event.
PVPANIC_MODULES=(pvpanic_mmio pvpanic_pci)
# device: disks, CD-ROMs and NICs. Upper-level SCSI drivers (sd_mod, sr_mod) come before the host
# adapters so that the adapters' probing already attaches the disks, and the virtio transports
# come before the virtio device drivers.
DEVICE_MODULES=(
  sd_mod sr_mod
  virtio_pci virtio_mmio
  virtio_blk virtio_scsi virtio_net
  ahci ata_piix
  e1000 e1000e 8139cp
)
# seed: FAT (vfat) and the code pages it mounts with, so that `report` can read a cloud-init NoCloud seed
# (label CIDATA) and print its hostname.
SEED_MODULES=(vfat nls_cp437 nls_ascii nls_utf8)
# mem: virtio-mem (memory hotplug), for vmkit.action=count only: loaded after the device group, so the
# other actions' device timing stays as it was.
MEM_MODULES=(virtio_mem)
# Module parameters (trusted: written here). /init scans virtio-scsi hosts itself (see scan_scsi_hosts
# in guest/init for why).
declare -A MODULE_PARAMS=([scsi_mod]="scan=manual")

log() { printf 'build-guest: %s\n' "$*" >&2; }
die() { printf 'build-guest: error: %s\n' "$*" >&2; exit 1; }

force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h | --help) sed -n '2,9p' "$SELF" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$arg' (usage: bash scripts/build-guest.sh [--force])" ;;
  esac
done

[ -r "$INIT_SRC" ] || die "missing $INIT_SRC (the guest's /init script)"

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
init_hash=$(sha256_of "$INIT_SRC")
script_hash=$(sha256_of "$SELF")

# Reads one string field of the (flat, self-written) manifest.
manifest_field() {
  sed -n "s/^  \"$1\": \"\\(.*\\)\",\\{0,1\\}\$/\\1/p" "$MANIFEST"
}

cache_is_fresh() {
  [ -r "$MANIFEST" ] && [ "$(manifest_field initHash)" = "$init_hash" ] &&
    [ "$(manifest_field scriptHash)" = "$script_hash" ] && [ -s "$(manifest_field vmlinux)" ] &&
    [ -s "$(manifest_field vmlinuz)" ] && [ -s "$(manifest_field initrd)" ]
}
if [ "$force" = 0 ] && cache_is_fresh; then
  log "up to date: $MANIFEST (kernel $(manifest_field kernelVersion)); --force rebuilds"
  exit 0
fi

# One build at a time (parallel test runners may all call this); whoever waited finds it built.
command -v flock >/dev/null 2>&1 || die "'flock' not found: install the Debian package 'util-linux'"
mkdir -p "$CACHE"
exec 9>"$CACHE/.build.lock"
if ! flock -n 9; then
  log "another build is running; waiting for it"
  flock 9
  if [ "$force" = 0 ] && cache_is_fresh; then
    log "built meanwhile: $MANIFEST"
    exit 0
  fi
fi
[ -r "$MANIFEST" ] && [ "$force" = 0 ] && log "cached guest is stale or incomplete; rebuilding"

# --- tools -----------------------------------------------------------------------------------
need_tool() { # tool package
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found: install the Debian package '$2' (apt-get install $2)"
}
need_tool apt-get apt
need_tool apt-cache apt
need_tool dpkg dpkg
need_tool xz xz-utils
need_tool cpio cpio
need_tool sha256sum coreutils
need_tool grep grep
busybox_bin=/bin/busybox
if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || [ ! -x "$busybox_bin" ]; then
  die "static busybox not found: install the Debian package 'busybox-static' (apt-get install busybox-static)"
fi

# --- kernel package --------------------------------------------------------------------------
mkdir -p "$CACHE/dl"

resolve_kernel_pkg() {
  apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[0-9][0-9.a-z-]*-amd64\)$/\1/p' | head -n1
}
kpkg=$(resolve_kernel_pkg || true)
if [ -z "$kpkg" ]; then
  log "apt lists have no linux-image-amd64; running apt-get update"
  apt-get update -qq >&2 || die "apt-get update failed"
  kpkg=$(resolve_kernel_pkg || true)
  [ -n "$kpkg" ] || die "apt-cache cannot resolve linux-image-amd64 to a linux-image-*-amd64 package"
fi
kver=${kpkg#linux-image-}
debver=$(apt-cache policy "$kpkg" | sed -n 's/^ *Candidate: //p')
[ -n "$debver" ] && [ "$debver" != "(none)" ] || die "no installable version of $kpkg in the apt lists"
log "kernel package $kpkg $debver"

deb="$CACHE/dl/${kpkg}_${debver//:/%3a}_amd64.deb"
if [ ! -s "$deb" ]; then
  log "downloading $kpkg (about 70 MB) into $CACHE/dl/"
  # The download directory belongs to root; apt's _apt sandbox user may not be able to write it.
  (cd "$CACHE/dl" && apt-get download -q -o APT::Sandbox::User=root "$kpkg=$debver" >&2) ||
    die "apt-get download $kpkg=$debver failed"
  [ -s "$deb" ] || die "apt-get download did not produce $deb"
fi

work=$(mktemp -d "$CACHE/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
log "extracting $(basename "$deb")"
dpkg -x "$deb" "$work/pkg"
moddir="$work/pkg/lib/modules/$kver"
[ -d "$moddir" ] || die "$deb has no lib/modules/$kver"
[ -s "$work/pkg/boot/vmlinuz-$kver" ] || die "$deb has no boot/vmlinuz-$kver"

# --- vmlinux from the bzImage ------------------------------------------------------------------
# Like the kernel's scripts/extract-vmlinux: try every offset of each compressor's magic and keep
# the first that decompresses to an ELF file.
bzimage="$work/pkg/boot/vmlinuz-$kver"
extract_vmlinux() { # out
  local magic tool offset fmt
  for fmt in xz lz4 gzip zstd; do
    case "$fmt" in
      xz) magic='\xfd7zXZ\x00'; tool=(xz -dc --single-stream) ;;
      lz4) magic='\x02\x21\x4c\x18'; tool=(lz4 -dc) ;;
      gzip) magic='\x1f\x8b\x08'; tool=(gzip -dc) ;;
      zstd) magic='\x28\xb5\x2f\xfd'; tool=(zstd -dc) ;;
    esac
    for offset in $(LC_ALL=C grep -obUaP "$magic" "$bzimage" | cut -d: -f1 | head -n 8); do
      if ! command -v "${tool[0]}" >/dev/null 2>&1; then
        die "the kernel is $fmt-compressed but '${tool[0]}' is missing: install the Debian package '${tool[0]}'"
      fi
      tail -c +"$((offset + 1))" "$bzimage" | "${tool[@]}" >"$1" 2>/dev/null || true
      if [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; then
        log "vmlinux: $fmt stream at byte $offset"
        return 0
      fi
    done
  done
  return 1
}
extract_vmlinux "$work/vmlinux" || die "no compressed ELF kernel found in $bzimage"

# --- modules -----------------------------------------------------------------------------------
# The package ships no modules.dep (Debian runs depmod at install time): compute it with busybox
# depmod on the extracted tree, then order what MODULES needs.
log "computing module dependencies (depmod)"
"$busybox_bin" depmod -b "$work/pkg" "$kver"
[ -s "$moddir/modules.dep" ] || die "depmod produced no modules.dep"

declare -A mod_path=() mod_deps=() visited=()
while IFS= read -r line; do
  path=${line%%:*}
  deps=${line#*:}
  base=${path##*/}
  name=${base%.ko}
  name=${name//-/_}
  mod_path[$name]=$path
  mod_deps[$name]=$deps
done <"$moddir/modules.dep"

order=() groups=()
visit() { # group, module name (normalised: '_' for '-')
  local group=$1 name=$2 dep depname
  [ -n "${visited[$group:$name]:-}" ] && return 0
  [ -n "${mod_path[$name]:-}" ] || die "module '$name' is not in $kpkg (check the module lists in $SELF)"
  visited[$group:$name]=1
  # modules.dep lists the whole closure; visiting each entry first keeps a valid order.
  for dep in ${mod_deps[$name]}; do
    depname=${dep##*/}
    depname=${depname%.ko}
    visit "$group" "${depname//-/_}"
  done
  order+=("$name")
  groups+=("$group")
}
for m in "${BUTTON_MODULES[@]}"; do visit button "${m//-/_}"; done
for m in "${PVPANIC_MODULES[@]}"; do visit pvpanic "${m//-/_}"; done
for m in "${DEVICE_MODULES[@]}"; do visit device "${m//-/_}"; done
for m in "${SEED_MODULES[@]}"; do visit seed "${m//-/_}"; done
for m in "${MEM_MODULES[@]}"; do visit mem "${m//-/_}"; done

# Debian signs its modules; the guest has no use for the signatures (not enforced) and checking
# them costs time under TCG. A signed module ends with: signature, struct module_signature
# (12 bytes, the last 4 being the big-endian signature length), "~Module signature appended~\n".
strip_signature() { # file
  local file=$1 size sig_len
  local marker='~Module signature appended~'
  size=$(stat -c %s "$file")
  [ "$(tail -c 28 "$file" | head -c 27)" = "$marker" ] || return 0
  sig_len=$(tail -c 32 "$file" | head -c 4 | od -An -tu1 | awk '{ print ($1 * 16777216) + ($2 * 65536) + ($3 * 256) + $4 }')
  [ "$sig_len" -gt 0 ] && [ "$sig_len" -lt "$size" ] || die "bad module signature length in $file"
  truncate -s $((size - 28 - 12 - sig_len)) "$file"
}

# --- initramfs ---------------------------------------------------------------------------------
root="$work/root"
mkdir -p "$root"/{bin,dev,proc,sys,run,tmp,lib/modules}
cp "$busybox_bin" "$root/bin/busybox"
for applet in $("$busybox_bin" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
install -m 0755 "$INIT_SRC" "$root/init"
# The kernel opens /dev/console before /init mounts devtmpfs.
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || log "cannot mknod dev/console (not root?): /init reopens it later"
: >"$root/lib/modules/load.list"
for i in "${!order[@]}"; do
  name=${order[$i]}
  path=${mod_path[$name]}
  if [ ! -e "$root/lib/modules/${path##*/}" ]; then
    cp "$moddir/$path" "$root/lib/modules/"
    strip_signature "$root/lib/modules/${path##*/}"
  fi
  printf '%s %s %s %s\n' "${groups[$i]}" "${path##*/}" "$name" "${MODULE_PARAMS[$name]:-}" >>"$root/lib/modules/load.list"
done
log "modules: button: ${BUTTON_MODULES[*]}; pvpanic: ${PVPANIC_MODULES[*]}; device: ${DEVICE_MODULES[*]}; seed: ${SEED_MODULES[*]}; mem: ${MEM_MODULES[*]} (+ dependencies: ${#order[@]} in all)"

# Uncompressed: QEMU hands the initrd over by fw_cfg DMA quickly, while decompressing it under
# TCG costs more than the bytes saved (measured: see guest/README.md).
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$work/initrd.img"

# --- install into the cache ----------------------------------------------------------------------
# Each file is renamed into place, so a QEMU reading the old one is never handed a partial file.
for pair in "$work/vmlinux:vmlinux" "$bzimage:vmlinuz" "$work/initrd.img:initrd.img"; do
  cp "${pair%:*}" "$CACHE/.${pair##*:}.tmp"
  chmod 0644 "$CACHE/.${pair##*:}.tmp"
  mv -f "$CACHE/.${pair##*:}.tmp" "$CACHE/${pair##*:}"
done
# Older kernel packages are of no further use.
for old_deb in "$CACHE"/dl/linux-image-*.deb; do
  [ -e "$old_deb" ] && [ "$old_deb" != "$deb" ] && rm -f "$old_deb"
done

json_str() { # escape for a JSON string: backslash and double quote (paths and versions only)
  local s=${1//\\/\\\\}
  printf '"%s"' "${s//\"/\\\"}"
}
tmp_manifest="$CACHE/.manifest.json.tmp"
{
  printf '{\n'
  printf '  "kernelVersion": %s,\n' "$(json_str "$kver")"
  printf '  "debVersion": %s,\n' "$(json_str "$debver")"
  printf '  "vmlinux": %s,\n' "$(json_str "$CACHE/vmlinux")"
  printf '  "vmlinuz": %s,\n' "$(json_str "$CACHE/vmlinuz")"
  printf '  "initrd": %s,\n' "$(json_str "$CACHE/initrd.img")"
  printf '  "initHash": %s,\n' "$(json_str "$init_hash")"
  printf '  "scriptHash": %s,\n' "$(json_str "$script_hash")"
  printf '  "builtAt": %s\n' "$(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
  printf '}\n'
} >"$tmp_manifest"
mv "$tmp_manifest" "$MANIFEST"
log "built $CACHE: vmlinux $(du -h "$CACHE/vmlinux" | cut -f1), initrd $(du -h "$CACHE/initrd.img" | cut -f1), kernel $kver"
