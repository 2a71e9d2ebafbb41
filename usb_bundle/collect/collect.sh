#!/bin/sh
# cbom collect.sh — record what a Linux/Unix machine's own commands say, for `cbom ingest`.
#
# For machines that cannot run cbom itself (old glibc, no Python, no foreign executables allowed).
# Uses only a POSIX shell and the machine's own tools (busybox is enough); installs nothing and
# writes nothing outside the output folder. Every command is optional: a missing tool is recorded
# in the manifest with exit code 127 and the collection goes on.
#
# Usage: sh collect.sh [OUTPUT_DIR]
#   default OUTPUT_DIR: recordings/<hostname>-<UTC time>/ next to this script (on the stick).
# Then, on any machine with cbom: cbom ingest OUTPUT_DIR
set -u
umask 077
LC_ALL=C; LANG=C; export LC_ALL LANG

here=$(cd "$(dirname "$0")" && pwd)
host=$(hostname 2>/dev/null || uname -n 2>/dev/null || echo unknown)
stamp=$(date -u +%Y%m%dT%H%M%SZ 2>/dev/null || echo unknown-time)
out=${1:-"$here/recordings/$host-$stamp"}
mkdir -p "$out" || { echo "collect.sh: cannot create $out" >&2; exit 2; }
manifest="$out/manifest.txt"
printf '# cbom collect.sh manifest: file<TAB>exit code<TAB>UTC time<TAB>command\n' > "$manifest"
printf '# script collect.sh version 1; host %s; started %s; uid %s\n' "$host" "$stamp" "$(id -u 2>/dev/null)" >> "$manifest"

# rec FILE CMD ARGS... : run a command, its stdout into FILE, stderr into FILE.stderr when not empty.
rec() {
    file=$1; shift
    if command -v "$1" >/dev/null 2>&1; then
        "$@" > "$out/$file" 2> "$out/$file.stderr"
        rc=$?
    else
        rc=127
        echo "$1: not found" > "$out/$file.stderr"
    fi
    [ -s "$out/$file.stderr" ] || rm -f "$out/$file.stderr"
    [ -s "$out/$file" ] || rm -f "$out/$file"
    printf '%s\t%s\t%s\t%s\n' "$file" "$rc" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >> "$manifest"
}

# copy FILE SRC : copy a readable file as is.
copy() {
    if [ -r "$2" ]; then
        cat "$2" > "$out/$1" 2>/dev/null; rc=$?
    else
        rc=1
    fi
    [ -s "$out/$1" ] || rm -f "$out/$1"
    printf '%s\t%s\t%s\t%s\n' "$1" "$rc" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "cat $2" >> "$manifest"
}

rec uname-a.txt uname -a
rec hostname.txt hostname
copy os-release /etc/os-release
[ -r /etc/os-release ] || copy os-release /usr/lib/os-release
copy lsb-release /etc/lsb-release
copy debian_version /etc/debian_version
copy redhat-release /etc/redhat-release
copy proc-cpuinfo.txt /proc/cpuinfo
copy proc-meminfo.txt /proc/meminfo
copy proc-version.txt /proc/version
copy proc-modules.txt /proc/modules
copy proc-cmdline.txt /proc/cmdline
copy timezone /etc/timezone

# DMI: dmidecode needs root; the sysfs files are partly world-readable.
rec dmidecode.txt dmidecode
if [ -d /sys/class/dmi/id ]; then
    mkdir -p "$out/sys-class-dmi-id"
    for f in /sys/class/dmi/id/*; do
        [ -f "$f" ] && [ -r "$f" ] && cat "$f" > "$out/sys-class-dmi-id/$(basename "$f")" 2>/dev/null
    done
fi
[ -d /sys/firmware/efi ] && echo uefi > "$out/boot-mode.txt" || echo legacy > "$out/boot-mode.txt"

rec lspci-nnmmv.txt lspci -nnmmv
rec lsusb.txt lsusb
rec lsusb-v.txt lsusb -v
rec lsblk.txt lsblk -a
rec lsblk-J.json lsblk -J -o NAME,TYPE,SIZE,MODEL,SERIAL,REV,VENDOR,ROTA,TRAN

# Software: copy the package databases rather than asking the tools (exact, and no locale quirks).
copy dpkg-status /var/lib/dpkg/status
copy apk-installed /lib/apk/db/installed
rec rpm-qai.txt rpm -qai

# Network: configuration and listening sockets (no traffic is sent).
rec ip-addr.txt ip addr
rec ip-route.txt ip route
rec ifconfig-a.txt ifconfig -a
copy resolv.conf /etc/resolv.conf
if command -v ss >/dev/null 2>&1; then
    rec ss-ltnup.txt ss -ltnup
else
    rec netstat-ltnup.txt netstat -ltnup
fi

# Checksums of every file recorded (sha256sum from coreutils or busybox).
if command -v sha256sum >/dev/null 2>&1; then
    (cd "$out" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | sort | while read -r f; do sha256sum "$f"; done > SHA256SUMS)
fi
printf '# finished %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >> "$manifest"
echo "$out"
