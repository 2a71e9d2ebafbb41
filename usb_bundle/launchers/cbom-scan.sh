#!/bin/sh
# cbom-scan.sh - run a cbom scan of this Linux machine from the USB stick.
#
# Usage: sh cbom-scan.sh [--verify] [--wheelhouse] [cbom scan options...]
#   --verify      check the stick against SHA256SUMS first (sha256sum, else cbom verify-bundle);
#                 refuse to scan when a file is missing, changed or added
#   --verify-only only do that check
#   --wheelhouse  use the host's Python 3.9+ and the wheels on the stick instead of the
#                 self-contained build (e.g. aarch64, or a glibc older than the build's)
#   anything else goes to `cbom scan`, e.g. --operator "J. Doe" --site "Plant 2" -o /mnt/other
#
# Reports go to reports/<host>-<UTC time>/ next to this script unless -o/--output is given.
# Nothing is installed and nothing is written outside the output folder; the wheelhouse path also
# uses a temporary folder (on the stick, or under $TMPDIR when the stick is read-only) removed at exit.
set -u
umask 077
here=$(cd "$(dirname "$0")" && pwd -P) || exit 2

# No bytecode, no pip cache or config, no user site, no host Python settings.
PYTHONDONTWRITEBYTECODE=1; PIP_NO_CACHE_DIR=1; PIP_CONFIG_FILE=/dev/null; PIP_NO_INPUT=1
PIP_DISABLE_PIP_VERSION_CHECK=1; PYTHONNOUSERSITE=1; CBOM_TEMPLATES="$here/templates"
export PYTHONDONTWRITEBYTECODE PIP_NO_CACHE_DIR PIP_CONFIG_FILE PIP_NO_INPUT PIP_DISABLE_PIP_VERSION_CHECK
export PYTHONNOUSERSITE CBOM_TEMPLATES
unset PYTHONPATH PYTHONHOME PYTHONSTARTUP PYTHONUSERBASE PIP_FIND_LINKS PIP_INDEX_URL \
      PIP_EXTRA_INDEX_URL PIP_REQUIRE_VIRTUALENV PIP_TARGET PIP_PREFIX 2>/dev/null

say() { printf 'cbom-scan: %s\n' "$*" >&2; }

verify=0; verify_only=0; mode=auto; has_output=0
n=$#; i=0
while [ "$i" -lt "$n" ]; do
    a=$1; shift; i=$((i + 1))
    case $a in
        --verify) verify=1 ;;
        --verify-only) verify=1; verify_only=1 ;;
        --wheelhouse) mode=wheelhouse ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *)
            case $a in -o|--output|--output=*|-o?*) has_output=1 ;; esac
            set -- "$@" "$a" ;;
    esac
done

tmp=""
cleanup() { [ -n "$tmp" ] && rm -rf "$tmp"; tmp=""; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- verification: coreutils only, so a tampered cbom cannot vouch for itself ------------------
verify_stick() {
    if [ ! -f "$here/SHA256SUMS" ]; then say "no SHA256SUMS next to $0: cannot verify"; return 2; fi
    if command -v sha256sum >/dev/null 2>&1; then
        bad=$(cd "$here" && sha256sum -c SHA256SUMS 2>&1 | grep -v ': OK$')
        extra=$(cd "$here" && find . \( -path './reports' -o -path './recordings' -o -path './.cbom-tmp-*' \
                    -o -path './System Volume Information' -o -path './$RECYCLE.BIN' -o -path './.Trashes' \
                    -o -path './.Spotlight-V100' -o -path './.fseventsd' \) -prune -o \
                    \( -type f -o -type l \) ! -path ./SHA256SUMS -print | sed 's|^\./||' |
                awk 'NR == FNR { listed[substr($0, 67)] = 1; next } !($0 in listed) { print "extra: " $0 }' \
                    SHA256SUMS -)
        printf 'SHA256SUMS sha256 %s\n' "$(sha256sum "$here/SHA256SUMS" | cut -d' ' -f1)"
        if [ -n "$bad$extra" ]; then
            [ -n "$bad" ] && printf '%s\n' "$bad"
            [ -n "$extra" ] && printf '%s\n' "$extra"
            say "the stick was ALTERED since it was built: not scanning"; return 1
        fi
        say "stick intact: every file matches SHA256SUMS"; return 0
    fi
    return 3  # no sha256sum here: the caller asks cbom verify-bundle
}

# --- choose how to run cbom ---------------------------------------------------------------------
frozen="$here/linux-x86_64/cbom"
run_cbom() { "$frozen" "$@"; }
use_frozen() {
    [ "$(uname -m 2>/dev/null)" = x86_64 ] || { say "this is $(uname -m), the self-contained build is x86-64"; return 1; }
    [ -f "$frozen" ] || { say "no self-contained build on the stick"; return 1; }
    if ! "$frozen" --version >/dev/null 2>&1; then
        need=$(sed -n 's/.*"glibc_required": *"\([0-9.]*\)".*/\1/p' "$here/BUNDLE-INFO.json" 2>/dev/null)
        have=$(getconf GNU_LIBC_VERSION 2>/dev/null | cut -d' ' -f2)
        say "the self-contained build does not start here (it needs glibc >= ${need:-?}, this host has ${have:-no glibc}; or the stick is mounted noexec)"
        return 1
    fi
}

make_tmp() {
    tmp=$(mktemp -d "$here/.cbom-tmp-XXXXXX" 2>/dev/null) ||
        { tmp=$(mktemp -d "${TMPDIR:-/tmp}/cbom-tmp-XXXXXX") && say "stick is read-only: temporary folder $tmp (removed at exit)"; } ||
        { say "cannot create a temporary folder"; exit 2; }
}

use_wheelhouse() {
    py=${CBOM_PYTHON:-}
    if [ -z "$py" ]; then
        for c in python3 python3.13 python3.12 python3.11 python3.10 python3.9 python; do
            if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
                py=$c; break
            fi
        done
    fi
    if [ -z "$py" ]; then
        say "no Python 3.9+ on this machine for the wheelhouse; record the machine with: sh $here/collect/collect.sh"
        exit 2
    fi
    pipwhl=$(ls "$here"/wheelhouse/pip-*.whl 2>/dev/null | tail -n 1)
    [ -n "$pipwhl" ] || { say "no pip wheel in $here/wheelhouse"; exit 2; }
    make_tmp
    TMPDIR="$tmp"; export TMPDIR
    say "installing cbom from the wheelhouse into $tmp with $("$py" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
    "$py" -m venv --without-pip "$tmp/venv" || { say "python -m venv failed"; exit 2; }
    # PATH emptied for pip: its user-agent code runs `rustc --version`, and a rustup proxy on PATH
    # then creates ~/.rustup. Installing wheels needs no external program.
    if ! PATH="$tmp/no-programs" "$tmp/venv/bin/python" "$pipwhl/pip" install --quiet --no-index --no-compile \
            --find-links "$here/wheelhouse" cbom-scanner; then
        say "cannot install cbom from the wheelhouse for this Python/platform"; exit 2
    fi
    run_cbom() { "$tmp/venv/bin/python" -m cbom "$@"; }
}

vrc=3
if [ "$verify" = 1 ]; then
    verify_stick; vrc=$?
    [ "$vrc" = 1 ] || [ "$vrc" = 2 ] && exit "$vrc"
    [ "$vrc" = 0 ] && [ "$verify_only" = 1 ] && exit 0
fi
if [ "$mode" = wheelhouse ] || ! use_frozen; then
    use_wheelhouse
fi
if [ "$vrc" = 3 ] && [ "$verify" = 1 ]; then
    run_cbom verify-bundle "$here" || { say "the stick was ALTERED or cannot be checked: not scanning"; exit 1; }
fi
[ "$verify_only" = 1 ] && exit 0

if [ "$has_output" = 0 ]; then
    host=$(hostname 2>/dev/null || uname -n)
    out="$here/reports/$(printf '%s' "$host" | tr -c 'A-Za-z0-9._-' _)-$(date -u +%Y%m%dT%H%M%SZ)"
    if ! mkdir -p "$out" 2>/dev/null; then
        say "cannot write $out (read-only stick?): give another folder with -o DIR"; exit 2
    fi
    set -- -o "$out" "$@"
fi
# The stick's offline vulnerability database (db/, from `usb_bundle/build --db`): named explicitly,
# as cbom run from the wheelhouse is not beside it. A --db given by the user comes later and wins.
if [ -f "$here/db/cbom-vulndb.sqlite" ]; then
    set -- --db "$here/db" "$@"
fi
run_cbom scan "$@"
rc=$?
if [ "$has_output" = 0 ]; then
    printf '\ncbom-scan: reports are in %s\n' "$out"
    ls -l "$out" 2>/dev/null
fi
exit "$rc"
