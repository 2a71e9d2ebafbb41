"""posture.*: accounts, startup items, serial ports and security settings of a Linux machine.

Truth comes from the system's own tools, never from cbom: `getent passwd` and `passwd -S -a`
(shadow-utils) for accounts, the enablement links of /etc/systemd/system listed with os.listdir,
/proc/tty/driver/serial for the UARTs, `sysctl -n`. The same collectors under --root of a
debootstrap image must describe that image, not this machine.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cbom import vocabulary as V
from cbom.collector import Note, ScanContext
from cbom.model import Category, Component, Finding, Gap, HostFact, Kind, Scan, Host, Severity
from cbom.posture_view import cryptographic_assets, notable_change, security_posture
from collectors.posture import collect_accounts, collect_serial, collect_settings, collect_startup
from collectors.posture._accounts import parse_shadow, parse_sudoers, password_state
from collectors.posture._linux import parse_crontab, parse_proc_serial, parse_unit
from conftest import is_root

DEBIAN = Path(__file__).resolve().parents[2] / "fixtures" / "posture" / "debian12-packages"
linux_only = pytest.mark.skipif(not Path("/etc/passwd").is_file(), reason="needs a Linux /etc/passwd")


def _comps(items, kind=""):
    return [i for i in items if isinstance(i, Component) and (not kind or i.prop(V.POSTURE_KIND) == kind)]


def _getent(root: str = "") -> list:
    argv = (["chroot", root] if root else []) + ["getent", "passwd"]
    return [ln.split(":")[0] for ln in subprocess.run(argv, capture_output=True, text=True, check=True)
            .stdout.splitlines() if ln]


@linux_only
def test_every_account_of_getent_passwd_appears_with_its_passwd_S_state():
    items = list(collect_accounts(ScanContext()))
    accounts = {c.name: c for c in _comps(items, "account")}
    assert sorted(accounts) == sorted(_getent())
    # Every group with explicit members (getent group, 4th field) is a component with those members.
    explicit = {ln.split(":")[0]: set(ln.split(":")[3].split(",")) for ln in subprocess.run(
        ["getent", "group"], capture_output=True, text=True, check=True).stdout.splitlines() if ln.split(":")[3]}
    groups = {c.name: set(c.props(V.GROUP_MEMBER)) for c in _comps(items, "group")}
    assert all(explicit[g] <= groups[g] for g in explicit)
    if not is_root():
        assert any(isinstance(i, Gap) and "/etc/shadow" in i.reason for i in items)
        return
    # passwd -S: P usable password, NP none (empty), L locked or no password (shadow-utils passwd.c).
    states = {"P": {"set"}, "NP": {"empty"}, "L": {"locked", "none"}}
    out = subprocess.run(["passwd", "-S", "-a"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        name, status, *_rest = line.split()
        assert accounts[name].prop(V.ACCOUNT_PASSWORD) in states[status], name
        max_days = _rest[2]
        assert accounts[name].prop(V.ACCOUNT_PASSWORD_MAX_DAYS) == ("never" if max_days in ("99999", "-1")
                                                                    else max_days)
    root = accounts["root"]
    assert root.prop(V.ACCOUNT_UID) == "0" and "uid 0" in root.props(V.ACCOUNT_ADMIN)
    assert root.kind == Kind.DATA


def test_no_password_hash_reaches_a_property():
    text = ("root:$y$j9T$abcdefghijklmnop$QRSTUVWXYZabcdefghijklmnopqrstuvwxyz012345:20228:0:99999:7:::\n"
            "op:!$6$salt$hashhashhashhashhash:20000:0:90:7::20500:\nsvc:*:20228::::::\nkiosk::20228:0:99999:7:::\n")
    parsed = parse_shadow(text)
    assert {k: v.password for k, v in parsed.items()} == {"root": "set", "op": "locked", "svc": "none",
                                                           "kiosk": "empty"}
    assert parsed["op"].max_days == 90 and parsed["op"].expires.isoformat() == "2026-02-16"  # date -d @$((20500*86400))
    assert "$" not in repr(parsed)
    assert password_state("!") == "none" and password_state("!*") == "none"


@linux_only
def test_every_enabled_unit_under_etc_systemd_system_appears():
    base = Path("/etc/systemd/system")
    expected = {u for d in base.glob("*.wants") for u in os.listdir(d)} if base.is_dir() else set()
    items = list(collect_startup(ScanContext()))
    names = {c.name for c in _comps(items, "startup") if c.prop(V.STARTUP_TYPE).startswith("systemd")}
    assert expected <= names
    for c in _comps(items, "startup"):
        if c.name in expected:
            wanted = {d.name[:-len(".wants")] for d in base.glob("*.wants") if (d / c.name).exists()
                      or (d / c.name).is_symlink()}
            assert wanted <= set(c.props(V.STARTUP_WANTED_BY))


def test_debootstrap_root_reports_its_own_accounts_and_units(debootstrap_root):
    root = str(debootstrap_root)
    ctx = ScanContext(root=Path(root))
    accounts = {c.name for c in _comps(collect_accounts(ctx), "account")}
    assert accounts == set(_getent(root))
    host_only = set(_getent()) - accounts
    assert not (host_only & accounts)
    base = debootstrap_root / "etc/systemd/system"
    expected = {u for d in base.glob("*.wants") for u in os.listdir(d)}
    units = {c.name for c in _comps(collect_startup(ctx), "startup") if c.prop(V.STARTUP_TYPE).startswith("systemd")}
    assert units == expected
    host = {u for d in Path("/etc/systemd/system").glob("*.wants") for u in os.listdir(d)}
    assert not ((host - expected) & units)  # e.g. postgresql.service of this machine is not reported
    # Serial ports and sysctls belong to a running kernel: an image has none, and says so.
    assert [type(i) for i in collect_serial(ctx)] == [Note]
    settings = list(collect_settings(ctx))
    assert not any(isinstance(i, HostFact) and i.name == V.posture_fact("net.ipv4.ip_forward") for i in settings)


@pytest.mark.skipif(not Path("/proc/tty/driver/serial").is_file() or not is_root(),
                    reason="needs root and the 8250 driver's /proc/tty/driver/serial")
def test_every_real_serial_port_appears_with_its_uart():
    truth = {}
    for line in Path("/proc/tty/driver/serial").read_text().splitlines():
        m = re.match(r"^(\d+): uart:(\S+)", line)
        if m and m.group(2) != "unknown" and Path(f"/sys/class/tty/ttyS{m.group(1)}/device").exists():
            truth[f"/dev/ttyS{m.group(1)}"] = m.group(2)
    items = list(collect_serial(ScanContext()))
    ports = {c.prop(V.SERIAL_DEVICE): c.prop(V.SERIAL_UART) for c in items
             if isinstance(c, Component) and c.prop(V.DEVICE_TYPE) == "serial" and c.name.startswith("ttyS")}
    assert ports == truth
    assert all(c.category == Category.HARDWARE for c in items if isinstance(c, Component))


@pytest.mark.skipif(not shutil.which("sysctl"), reason="needs sysctl")
def test_sysctl_facts_equal_sysctl_n():
    facts = {i.name: i.value for i in collect_settings(ScanContext()) if isinstance(i, HostFact)}
    checked = 0
    for key in ("net.ipv4.ip_forward", "kernel.randomize_va_space", "fs.protected_hardlinks"):
        proc = subprocess.run(["sysctl", "-n", key], capture_output=True, text=True)
        if proc.returncode == 0:
            assert facts[V.posture_fact(key)] == proc.stdout.strip()
            checked += 1
    assert checked
    assert V.posture_fact("firewall") in facts and V.posture_fact("disk-encryption") in facts


# --- parsers on real text -------------------------------------------------------------------------


def test_parsers_on_text_of_this_machine_and_the_debian_packages():
    # /proc/tty/driver/serial of this machine (Linux 6.x, 8250 driver: one real UART, placeholders).
    proc = ("serinfo:1.0 driver revision:\n0: uart:16550A port:000003F8 irq:4 tx:218 rx:0 RTS|CTS|DTR|DSR|CD\n"
            "1: uart:unknown port:000002F8 irq:3\n2: uart:unknown port:000003E8 irq:4\n")
    assert parse_proc_serial(proc) == {0: {"uart": "16550A", "port": "000003F8", "irq": "4", "tx": "218", "rx": "0"}}
    # /etc/cron.d/e2scrub_all of e2fsprogs 1.47 (Debian 12).
    cron = ("30 3 * * 0 root test -e /run/systemd/system || SERVICE_MODE=1 "
            "/usr/lib/x86_64-linux-gnu/e2fsprogs/e2scrub_all_cron\n"
            "10 3 * * * root test -e /run/systemd/system || SERVICE_MODE=1 /sbin/e2scrub_all -A -r\n")
    jobs = parse_crontab(cron, system=True)
    assert [(j.schedule, j.user) for j in jobs] == [("30 3 * * 0", "root"), ("10 3 * * *", "root")]
    assert parse_crontab("SHELL=/bin/sh\n@reboot /opt/hmi/start\n", system=False)[0].schedule == "@reboot"
    unit = parse_unit("[Unit]\nDescription=PostgreSQL RDBMS\n\n[Service]\nType=oneshot\nExecStart=/bin/true\n"
                      "ExecReload=/bin/true\nRemainAfterExit=on\n\n[Install]\nWantedBy=multi-user.target\n")
    assert unit["Service.ExecStart"] == ["/bin/true"] and unit["Install.WantedBy"] == ["multi-user.target"]
    # Debian 12's /etc/sudoers (tests/fixtures/posture/SOURCES.md), then an alias rule of our own.
    sudoers = (DEBIAN / "sudoers").read_text()
    assert parse_sudoers(sudoers) == ({"root"}, {"sudo"}, ["dir:/etc/sudoers.d"])
    users, groups, _ = parse_sudoers(sudoers + "User_Alias OPS = alice, bob\nOPS ALL = (root) NOPASSWD: /bin/ls\n")
    assert users == {"root", "alice", "bob"} and groups == {"sudo"}


def _debian_like_root(tmp_path: Path) -> Path:
    """A root holding Debian 12's stock sudoers, sshd_config and ssh.service, with ssh enabled
    the way `systemctl enable ssh` does it, and an operator in group sudo."""
    root = tmp_path / "root"
    for d in ("etc/ssh", "etc/systemd/system/multi-user.target.wants", "lib/systemd/system", "usr/sbin",
              "etc/sudoers.d"):
        (root / d).mkdir(parents=True)
    shutil.copy(DEBIAN / "sudoers", root / "etc/sudoers")
    shutil.copy(DEBIAN / "sshd_config", root / "etc/ssh/sshd_config")
    shutil.copy(DEBIAN / "ssh.service", root / "lib/systemd/system/ssh.service")
    os.symlink("/lib/systemd/system/ssh.service", root / "etc/systemd/system/multi-user.target.wants/ssh.service")
    os.symlink("/lib/systemd/system/ssh.service", root / "etc/systemd/system/sshd.service")
    (root / "usr/sbin/sshd").write_bytes(b"")
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\nop:x:1000:1000:Op,,,:/home/op:/bin/bash\n"
                                     "kiosk:x:1001:1001::/home/kiosk:/bin/bash\n")
    (root / "etc/group").write_text("root:x:0:\nsudo:x:27:op\nop:x:1000:\nkiosk:x:1001:\n")
    (root / "etc/shadow").write_text("root:*:20228:0:99999:7:::\nop:$y$j9T$aaaa$bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb:"
                                     "20228:0:99999:7:::\nkiosk::20228:0:99999:7:::\n")
    return root


def test_debian_stock_files_give_sshd_defaults_admins_and_the_enabled_ssh_service(tmp_path):
    from collectors.crypto import collect_linux

    root = _debian_like_root(tmp_path)
    ctx = ScanContext(root=root)
    accounts = {c.name: c for c in _comps(collect_accounts(ctx), "account")}
    assert accounts["op"].props(V.ACCOUNT_ADMIN) == ("sudoers %sudo",)
    assert accounts["root"].props(V.ACCOUNT_ADMIN) == ("uid 0", "sudoers")  # Debian: "root ALL=(ALL:ALL) ALL"
    assert accounts["kiosk"].prop(V.ACCOUNT_PASSWORD) == "empty"
    groups = {c.name: c for c in _comps(collect_accounts(ctx), "group")}
    assert set(groups) == {"root", "sudo"}  # privileged ones; "op" and "kiosk" have no explicit members
    assert groups["sudo"].props(V.GROUP_MEMBER) == ("op",) and groups["sudo"].prop(V.ACCOUNT_ADMIN) == "sudoers %sudo"
    assert groups["root"].props(V.GROUP_MEMBER) == ("root",)  # by primary gid
    grown = Component(category=groups["sudo"].category, kind=Kind.DATA, name="sudo", ref=groups["sudo"].ref,
                      properties=groups["sudo"].properties + ((V.GROUP_MEMBER, "kiosk"),))
    assert notable_change(groups["sudo"], grown) == [(Severity.HIGH, "CBOM-DIFF-NEW-ADMIN",
                                                      "new member(s) of privileged group sudo: kiosk")]
    findings = {f.id for f in collect_accounts(ctx) if isinstance(f, Finding)}
    assert {"CBOM-ACCOUNT-EMPTY-PASSWORD", "CBOM-ACCOUNT-PASSWORD-NEVER-EXPIRES"} <= findings
    startup = {c.name: c for c in _comps(collect_startup(ctx), "startup")}
    ssh = startup["ssh.service"]
    assert ssh.prop(V.STARTUP_COMMAND) == "/usr/sbin/sshd -D $SSHD_OPTS"
    assert ssh.prop(V.STARTUP_PATH) == "/lib/systemd/system/ssh.service"
    assert ssh.description == "OpenBSD Secure Shell server"
    facts = {i.value for i in collect_settings(ctx) if isinstance(i, HostFact)}
    assert "OpenSSH server: installed, enabled (ssh.service)" in facts
    # Debian's sshd_config sets neither: OpenSSH's defaults apply, so no root-password finding.
    crypto = list(collect_linux(ctx))
    values = {i.name: i.value for i in crypto if isinstance(i, HostFact)}
    assert values[V.posture_fact("sshd-permit-root-login")] == "prohibit-password"
    assert values[V.posture_fact("sshd-password-authentication")] == "yes"
    assert not any(isinstance(i, Finding) and i.id == "CBOM-SSH-ROOT-PASSWORD" for i in crypto)


# --- report rows and diff -------------------------------------------------------------------------


@linux_only
def test_report_tables_and_notable_changes_from_a_live_scan():
    from datetime import datetime, timezone

    from collectors.crypto import collect_linux

    ctx = ScanContext()
    items = list(collect_accounts(ctx)) + list(collect_startup(ctx)) + list(collect_serial(ctx)) + \
        list(collect_settings(ctx)) + list(collect_linux(ctx))
    comps = tuple(i for i in items if isinstance(i, Component))
    host = Host(name="t").with_facts(i for i in items if isinstance(i, HostFact))
    scan = Scan(id="urn:uuid:x", started=datetime.now(timezone.utc), tool_version="t", host=host, components=comps,
                findings=tuple(i for i in items if isinstance(i, Finding)))
    tables = {t.key: t for t in security_posture(scan) + cryptographic_assets(scan)}
    assert len(tables["accounts"].rows) == len(_comps(comps, "account"))
    assert tables["accounts"].rows[0][0] == "root"  # administrators first
    assert len(tables["startup"].rows) == len(_comps(comps, "startup"))
    assert all(len(r) == len(t.columns) for t in tables.values() for r in t.rows)
    assert len(tables["certificates"].rows) == sum(c.prop(V.CRYPTO_ASSET_TYPE) == "certificate" for c in comps)
    assert any(k == "firewall" for k, _ in tables["settings"].rows)
    root = next(c for c in comps if c.name == "root" and c.prop(V.POSTURE_KIND) == "account")
    assert notable_change(None, root)[0][:2] == (Severity.HIGH, "CBOM-DIFF-NEW-ADMIN")
    unit = _comps(comps, "startup")[0]
    assert notable_change(None, unit)[0][1] == "CBOM-DIFF-NEW-STARTUP"
    assert notable_change(unit, unit) == []
    cert = next(c for c in comps if c.prop(V.CRYPTO_ASSET_TYPE) == "certificate")
    assert notable_change(None, cert)[0][1] == "CBOM-DIFF-NEW-TRUSTED-CA"


def test_a_recording_without_these_files_gives_gaps_never_none_found(tmp_path):
    """collect.sh does not copy /etc/passwd, /etc/ssl or /proc/sys yet: absent there is unknown."""
    from cbom.host import RecordedHost
    from cbom.recording import Recording
    from collectors.crypto import collect_linux
    from collectors.software._extra import collect_npm_global

    rec_dir = tmp_path / "rec"
    rec_dir.mkdir()
    (rec_dir / "os-release").write_text('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n')
    (rec_dir / "uname-a.txt").write_text("Linux plc-pc 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 "
                                         "x86_64 GNU/Linux\n")
    rec = Recording(str(rec_dir))
    ctx = ScanContext(platform=rec.platform, host=RecordedHost(rec), admin=True)
    for collect in (collect_accounts, collect_startup, collect_serial, collect_settings, collect_linux,
                    collect_npm_global):
        items = list(collect(ctx))
        assert len(items) == 1 and isinstance(items[0], Gap) and "the recording holds no" in items[0].reason, items


def test_the_debootstrap_image_has_no_certificates_of_this_machine(debootstrap_root):
    from collectors.crypto import collect_linux

    items = list(collect_linux(ScanContext(root=debootstrap_root)))
    certs = [c for c in items if isinstance(c, Component) and c.prop(V.CRYPTO_ASSET_TYPE) == "certificate"]
    on_disk = list((debootstrap_root / "etc/ssl/certs").glob("*")) if (debootstrap_root / "etc/ssl/certs").is_dir() \
        else []
    assert len(certs) <= len(on_disk)  # minbase installs no ca-certificates: none, not the host's store
    assert not [i for i in items if isinstance(i, Gap)]


def test_crypttab_lines_of_the_crypttab_5_examples():
    from collectors.posture._linux import parse_crypttab

    # The EXAMPLES of crypttab(5), cryptsetup 2.6.1 (Debian 12), roff escapes removed (SOURCES.md).
    rows = parse_crypttab((DEBIAN / "crypttab-5-examples.txt").read_text())
    assert [r[0] for r in rows] == ["cswap", "cdisk0", "tdisk0", "cdisk1", "cdisk2", "cdisk3"]
    assert rows[0] == ("cswap", "/dev/sda6", "plain,cipher=aes-xts-plain64,size=256,hash=sha1,swap")
    assert rows[1] == ("cdisk0", "UUID=12345678-9abc-def012345-6789abcdef01", "luks,discard")
