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
printf '# script collect.sh version 2; host %s; started %s; uid %s; os %s\n' "$host" "$stamp" "$(id -u 2>/dev/null)" "$(uname -s 2>/dev/null)" >> "$manifest"

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
    return $rc
}

# sysattrs SRC DEST ATTR... : copy the readable sysfs attribute files ATTR (may contain '/') of SRC.
sysattrs() {
    src=$1; dst=$2; shift 2
    for a in "$@"; do
        [ -f "$src/$a" ] && [ -r "$src/$a" ] || continue
        mkdir -p "$dst/$(dirname "$a")"
        cat "$src/$a" > "$dst/$a" 2>/dev/null || rm -f "$dst/$a"
    done
}

# syslink LINK DEST : the resolved target of sysfs link LINK relative to /sys ("devices/pci0000:00/…"),
# or its last component with -b; FAT sticks cannot hold the symlinks themselves.
syslink() {
    t=$(readlink -f "$1" 2>/dev/null) || return 0
    [ -n "$t" ] || return 0
    case ${2:-} in
        -b) echo "${t##*/}" ;;
        *) echo "${t#/sys/}" ;;
    esac
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
copy proc-stat.txt /proc/stat
copy locale.conf /etc/default/locale
[ -r /etc/default/locale ] || copy locale.conf /etc/locale.conf
# Security modules as the live `os` collector reads them (absent file = module not active).
copy selinux-enforce.txt /sys/fs/selinux/enforce
copy selinux-config /etc/selinux/config
copy apparmor-enabled.txt /sys/module/apparmor/parameters/enabled
copy lsm.txt /sys/kernel/security/lsm
copy lockdown.txt /sys/kernel/security/lockdown

# DMI: dmidecode needs root; the sysfs files are partly world-readable.
rec dmidecode.txt dmidecode
if [ -d /sys/class/dmi/id ]; then
    mkdir -p "$out/sys-class-dmi-id"
    for f in /sys/class/dmi/id/*; do
        [ -f "$f" ] && [ -r "$f" ] && cat "$f" > "$out/sys-class-dmi-id/$(basename "$f")" 2>/dev/null
    done
fi
[ -d /sys/firmware/efi ] && echo uefi > "$out/boot-mode.txt" || echo legacy > "$out/boot-mode.txt"
if [ -d /sys/devices/system/cpu/vulnerabilities ]; then
    mkdir -p "$out/sys-cpu-vulnerabilities"
    for f in /sys/devices/system/cpu/vulnerabilities/*; do
        [ -r "$f" ] && cat "$f" > "$out/sys-cpu-vulnerabilities/${f##*/}" 2>/dev/null
    done
fi

# The sysfs attributes the live cbom reads for disks, NICs and USB devices, so that an ingested
# recording gives them the same identities (resolved device paths) as a live scan.
for d in /sys/block/*; do
    [ -e "$d/device" ] || continue
    n=${d##*/}
    case $n in loop*|ram*|zram*|dm-*|md*|nbd*) continue ;; esac
    sysattrs "$d" "$out/sys-block/$n" size removable queue/rotational wwid device/model device/vendor \
        device/serial device/firmware_rev device/rev device/wwid
    syslink "$d/device" > "$out/sys-block/$n/device-path"
done
for d in /sys/class/net/*; do
    [ -d "$d" ] || continue
    n=${d##*/}
    sysattrs "$d" "$out/sys-class-net/$n" address type uevent device/vendor device/device
    if [ -e "$d/device" ]; then
        syslink "$d/device" > "$out/sys-class-net/$n/device-path"
        syslink "$d/device/driver" -b > "$out/sys-class-net/$n/driver"
        syslink "$d/device/subsystem" -b > "$out/sys-class-net/$n/subsystem"
        sysattrs "$d/device/.." "$out/sys-class-net/$n/parent" vendor device
    fi
    { [ -e "$d/wireless" ] || [ -e "$d/phy80211" ]; } && echo 1 > "$out/sys-class-net/$n/wireless"
done
for d in /sys/bus/usb/devices/*; do
    n=${d##*/}
    case $n in usb*|*:*) continue ;; esac
    [ -r "$d/idVendor" ] || continue
    sysattrs "$d" "$out/sys-bus-usb-devices/$n" idVendor idProduct manufacturer product serial bcdDevice \
        version bDeviceClass speed
done

rec lspci-nnmmv.txt lspci -nnmmv
rec lsusb.txt lsusb
rec lsusb-v.txt lsusb -v
rec lsblk.txt lsblk -a
# The columns the live collector asks for (util-linux >= 2.27 has -J; WWN needs >= 2.23).
rec lsblk-J.json lsblk -J -b -d -o NAME,MODEL,SERIAL,REV,SIZE,ROTA,RM,TRAN,VENDOR,TYPE,WWN ||
    rec lsblk-J.json lsblk -J -b -d -o NAME,MODEL,SERIAL,REV,SIZE,ROTA,RM,TRAN,VENDOR,TYPE

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

# Security posture and cryptographic assets (cbom's posture.* and crypto.linux collectors): the files they
# read, under the names cbom/host.py FILES gives them. Symlinks are followed (cp -RL): a FAT stick holds none.
# Never copied: password hashes, private keys (/etc/ssl/private, /etc/pki/tls/private, ssh_host_*_key).
# tree NAME SRC : copy folder SRC (links followed) as NAME, recorded in the manifest.
tree() {
    if [ -d "$2" ] && [ -r "$2" ]; then
        cp -RL "$2" "$out/$1" 2>/dev/null; rc=$?
    else
        rc=1
    fi
    printf '%s\t%s\t%s\t%s\n' "$1" "$rc" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "cp -RL $2" >> "$manifest"
}
copy passwd /etc/passwd
copy group /etc/group
copy login.defs /etc/login.defs
# shadow METADATA: the shadow(5) format, every field kept but the password, which becomes a marker of its
# state alone ("" empty, "!" locked without password, "!redacted" locked password, "*" none, "$redacted$"
# set) — the states cbom's parse_shadow tells apart; the hash never reaches the stick. Needs root.
if [ -r /etc/shadow ]; then
    awk -F: 'BEGIN { OFS = ":" } {
        p = $2; c = substr(p, 1, 1)
        if (p == "") s = ""
        else if (c == "!") { r = p; sub(/^!+/, "", r); s = (r == "" || r == "*" || r == "x") ? "!" : "!redacted" }
        else if (c == "*" || c == "x" || (length(p) < 13 && c != "$")) s = "*"
        else s = "$redacted$"
        $2 = s; print }' /etc/shadow > "$out/shadow-metadata" 2>/dev/null; rc=$?
    [ -s "$out/shadow-metadata" ] || rm -f "$out/shadow-metadata"
else
    rc=1
fi
printf '%s\t%s\t%s\t%s\n' shadow-metadata "$rc" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "awk (password field replaced by its state) /etc/shadow" >> "$manifest"
copy sudoers /etc/sudoers
tree etc-sudoers.d /etc/sudoers.d
# lastlog is sparse, indexed by uid: its first 4 MiB (uids below ~14000) at most.
if [ -r /var/log/lastlog ]; then
    dd if=/var/log/lastlog of="$out/lastlog" bs=4096 count=1024 2>/dev/null; rc=$?
    [ -s "$out/lastlog" ] || rm -f "$out/lastlog"
else
    rc=1
fi
printf '%s\t%s\t%s\t%s\n' lastlog "$rc" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "dd if=/var/log/lastlog bs=4096 count=1024" >> "$manifest"
# What starts by itself: enablement links (copied as the unit files they name) and the vendor units.
tree etc-systemd-system /etc/systemd/system
tree etc-systemd-user /etc/systemd/user
if [ -d /usr/lib/systemd/system ]; then tree usr-lib-systemd-system /usr/lib/systemd/system
else tree usr-lib-systemd-system /lib/systemd/system; fi
if [ -d /usr/lib/systemd/user ]; then tree usr-lib-systemd-user /usr/lib/systemd/user
else tree usr-lib-systemd-user /lib/systemd/user; fi
copy crontab /etc/crontab
copy anacrontab /etc/anacrontab
copy rc.local /etc/rc.local
for d in cron.d cron.hourly cron.daily cron.weekly cron.monthly rc2.d rc3.d rc4.d rc5.d; do tree "etc-$d" "/etc/$d"; done
tree var-spool-cron-crontabs /var/spool/cron/crontabs
# Settings: security sysctls, firewall, disk encryption, serial ports, neighbours, hosts, mounts, sources.
for k in net/ipv4/ip_forward net/ipv6/conf/all/forwarding net/ipv4/conf/all/accept_redirects \
    net/ipv4/conf/all/send_redirects net/ipv4/conf/all/accept_source_route net/ipv4/conf/all/rp_filter \
    net/ipv4/tcp_syncookies kernel/randomize_va_space kernel/kptr_restrict kernel/dmesg_restrict \
    kernel/yama/ptrace_scope kernel/unprivileged_bpf_disabled fs/protected_symlinks fs/protected_hardlinks \
    fs/suid_dumpable kernel/sysrq; do
    [ -r "/proc/sys/$k" ] || continue
    mkdir -p "$out/proc-sys/$(dirname "$k")"
    cat "/proc/sys/$k" > "$out/proc-sys/$k" 2>/dev/null || rm -f "$out/proc-sys/$k"
done
copy proc-net-arp.txt /proc/net/arp
copy proc-mounts.txt /proc/mounts
copy fstab /etc/fstab
copy hosts /etc/hosts
copy crypttab /etc/crypttab
copy nftables.conf /etc/nftables.conf
copy iptables-rules.v4 /etc/iptables/rules.v4
copy ufw.conf /etc/ufw/ufw.conf
copy proc-net-ip_tables_names.txt /proc/net/ip_tables_names
copy proc-tty-driver-serial.txt /proc/tty/driver/serial
for d in /sys/class/tty/*; do
    [ -e "$d/device" ] || continue
    n=${d##*/}
    sysattrs "$d" "$out/sys-class-tty/$n" type port irq
    syslink "$d/device" > "$out/sys-class-tty/$n/device-path"
    syslink "$d/device/driver" -b > "$out/sys-class-tty/$n/driver"
done
copy apt-sources.list /etc/apt/sources.list
tree etc-apt-sources.list.d /etc/apt/sources.list.d
tree etc-yum.repos.d /etc/yum.repos.d
# Crypto: trust stores, SSH server configuration and PUBLIC host keys, package-signing keys.
tree etc-ssl-certs /etc/ssl/certs
tree usr-local-share-ca-certificates /usr/local/share/ca-certificates
tree etc-pki-ca-trust-source-anchors /etc/pki/ca-trust/source/anchors
tree etc-pki-tls-certs /etc/pki/tls/certs
tree etc-pki-rpm-gpg /etc/pki/rpm-gpg
copy apt-trusted.gpg /etc/apt/trusted.gpg
tree etc-apt-trusted.gpg.d /etc/apt/trusted.gpg.d
if [ -d /etc/ssh ]; then
    mkdir -p "$out/etc-ssh"
    for f in /etc/ssh/sshd_config /etc/ssh/ssh_host_*_key.pub; do
        [ -f "$f" ] && [ -r "$f" ] && cat "$f" > "$out/etc-ssh/${f##*/}" 2>/dev/null
    done
    [ -d /etc/ssh/sshd_config.d ] && cp -RL /etc/ssh/sshd_config.d "$out/etc-ssh/sshd_config.d" 2>/dev/null
    printf '%s\t%s\t%s\t%s\n' etc-ssh 0 "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "cat /etc/ssh/sshd_config /etc/ssh/ssh_host_*_key.pub" >> "$manifest"
fi

# macOS (collect.sh runs there too): the sources `cbom ingest` reads for a Mac.
if [ "$(uname -s 2>/dev/null)" = Darwin ]; then
    rec sw_vers.txt sw_vers
    rec system_profiler.xml system_profiler -xml SPHardwareDataType SPSoftwareDataType SPSerialATADataType \
        SPNVMeDataType SPUSBDataType
    rec SPApplicationsDataType.xml system_profiler -xml SPApplicationsDataType
    # machdep.cpu.*features and hw.optional: the CPU's crypto and security instructions (collectors/hardware/_cpuid.py)
    rec sysctl.txt sysctl hw.model hw.memsize hw.physicalcpu machdep.cpu.brand_string kern.hostname kern.osrelease \
        machdep.cpu.features machdep.cpu.leaf7_features machdep.cpu.extfeatures hw.optional
    rec ifconfig.txt ifconfig -a
    # Security posture and trust store (collectors/posture/_darwin.py, collectors/crypto/_darwin.py).
    # Never /var/db/dslocal (it holds the password hashes): dscl is asked for ids, shells, homes and
    # the names of the authentication authorities only.
    rec dscl-readall-users.txt dscl . -readall /Users RecordName UniqueID PrimaryGroupID NFSHomeDirectory \
        UserShell RealName AuthenticationAuthority
    rec dscl-list-users-usershell.txt dscl . -list /Users UserShell
    rec dscl-list-groups-groupmembership.txt dscl . -list /Groups GroupMembership
    rec dscl-list-groups-primarygroupid.txt dscl . -list /Groups PrimaryGroupID
    rec dscl-read-groups-admin.txt dscl . -read /Groups/admin
    rec launchctl-list.txt launchctl list
    rec fdesetup-status.txt fdesetup status
    rec csrutil-status.txt csrutil status
    rec spctl-status.txt spctl --status
    rec socketfilterfw-getglobalstate.txt /usr/libexec/ApplicationFirewall/socketfilterfw --getglobalstate
    rec socketfilterfw-getstealthmode.txt /usr/libexec/ApplicationFirewall/socketfilterfw --getstealthmode
    rec systemsetup-getremotelogin.txt systemsetup -getremotelogin
    rec security-systemrootcertificates.pem security find-certificate -a -p \
        /System/Library/Keychains/SystemRootCertificates.keychain
    rec security-system-keychain.pem security find-certificate -a -p /Library/Keychains/System.keychain
    copy launchd-disabled.plist /private/var/db/com.apple.xpc.launchd/disabled.plist
    copy com.apple.alf.plist /Library/Preferences/com.apple.alf.plist
    # launchd job folders, one plist a file (library-launchdaemons/, system-library-launchagents/…).
    for d in /Library/LaunchDaemons /Library/LaunchAgents /System/Library/LaunchDaemons /System/Library/LaunchAgents; do
        n=$(printf '%s' "${d#/}" | tr '/' '-' | tr 'A-Z' 'a-z')
        mkdir -p "$out/$n"
        for f in "$d"/*.plist; do
            [ -f "$f" ] && [ -r "$f" ] && cat "$f" > "$out/$n/${f##*/}"
        done
        printf '%s\t%s\t%s\t%s\n' "$n" 0 "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "cp $d/*.plist" >> "$manifest"
    done
fi

# The manifest is complete before it is hashed with the rest.
printf '# finished %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >> "$manifest"
# Checksums of every file recorded (sha256sum from coreutils or busybox).
if command -v sha256sum >/dev/null 2>&1; then
    (cd "$out" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | sort | while read -r f; do sha256sum "$f"; done > SHA256SUMS)
fi
echo "$out"
