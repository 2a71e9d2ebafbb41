"""A Linux/Unix recording (collect.sh, or fixture folders of the same naming) → model items.

Every component is built by the live collectors' own functions (hardware,
firmware, os, software, network); only the text comes from files. collect.sh
also copies the sysfs attributes the live collector reads (`sys-class-dmi-id/`,
`sys-block/`, `sys-class-net/`, `sys-bus-usb-devices/`, `sys-cpu-vulnerabilities/`)
so disks, NICs and USB devices get the same identities (refs) as a live scan.
"""
from __future__ import annotations

from typing import Dict, Iterator, List, Optional

from cbom.model import Gap, HostFact, Item

from ..firmware import _linux as fw
from ..hardware import _linux as hw
from ..hardware import _refs
from ..hardware._common import Redactor, device, human_bytes, props
from ..network._common import services_from_sockets
from ..network._linux import classify_link, parse_resolv_conf, parse_uevent, pci_address
from ..osinfo import _linux as osl
from ..software import _linux as swl
from ..software._common import Distro, distro_from_os_release, summarise, to_component
from . import _parsers
from ._common import dmi_cpu_components
from cbom.recording import Recording

from ..osinfo._linux import uname_fields
from ._common import read_tree, subtrees

_LSPCI = ("lspci-nnmmv*", "lspci-vmmnn*", "lspci-nnvmm*", "lspci-nmmv*", "lspci-v-nn*", "lspci-nnv*", "lspci*")


def items(rec: Recording, redact: Redactor) -> Iterator[Item]:
    """Everything the Linux collectors would have yielded on the recorded machine."""
    yield from _os(rec)
    records = yield from _dmidecode(rec)
    dmi = read_tree(rec.folder("sys-class-dmi-id"))
    yield from _hardware_dmi(records, dmi, redact)
    uefi = _parsers.parse_boot_mode(rec.text("boot-mode.txt")) if rec.has("boot-mode.txt") else None
    yield from _firmware(records, dmi, uefi)
    yield from _cpu(rec, records)
    yield from _memory(rec)
    yield from _disks(rec, redact)
    yield from _pci(rec)
    yield from _usb(rec, redact)
    yield from _nics_and_interfaces(rec)
    yield from _software(rec)


def _gap_unparsed(name: str, why: str) -> Gap:
    return Gap(f"{name}: {why}")


# ---------------------------------------------------------------- os


def _os_info(rec: Recording) -> Dict[str, str]:
    for name in rec.find("os-release", "*os-release*"):
        info = osl.parse_os_release(rec.text(name))
        if info.get("ID") or info.get("NAME"):
            return info
    if rec.has("lsb-release"):
        info = osl.parse_lsb_release(rec.text("lsb-release"))
        if info.get("ID"):
            return info
    for name, dist_id in (("redhat-release", "rhel"), ("centos-release", "centos"), ("fedora-release", "fedora"),
                          ("SuSE-release", "sles")):
        if rec.has(name):
            info = osl.parse_release_line(rec.text(name), dist_id)
            if info:
                return info
    if rec.has("debian_version"):
        version = rec.text("debian_version").strip()
        if version:
            return {"ID": "debian", "NAME": "Debian GNU/Linux", "PRETTY_NAME": f"Debian GNU/Linux {version}",
                    "VERSION_ID": version.split(".")[0] if version[:1].isdigit() else ""}
    return {}


def _os(rec: Recording) -> Iterator[Item]:
    info = _os_info(rec)
    if not info:
        if any(rec.has(n) for n in ("os-release", "lsb-release", "redhat-release", "debian_version")):
            yield Gap("os-release: no distribution ID or NAME found (garbled or truncated?)")
        return
    facts: List[Tuple[str, str]] = []
    release, version, machine = uname_fields(rec.text("uname-a.txt"))
    facts.append(("cbom:kernel", release))
    facts.append(("cbom:kernel-version", version))
    facts.append(("cbom:arch", machine))
    host = rec.text("hostname.txt").strip().split("\n")[0].strip() or rec.manifest.host
    facts.append(("cbom:hostname", host))
    if rec.has("proc-stat.txt"):
        facts.append(("cbom:boot-time", osl.parse_btime(rec.text("proc-stat.txt"))))
    facts.append(("cbom:timezone", rec.text("timezone").strip().split("\n")[0].strip()))
    facts.append(("cbom:locale", osl.parse_locale_conf(rec.text("locale.conf"))))
    facts += _security(rec)
    if info.get("ID") == "debian":
        text = rec.text("debian_version").strip()
        if text[:1].isdigit():
            facts.append(("cbom:point-release", text))
    comp = osl.component(info, facts)
    if comp is not None:
        yield comp
        yield HostFact("cbom:os", comp.description or f"{comp.name} {comp.version}".strip())


def _security(rec: Recording) -> List[Tuple[str, str]]:
    """SELinux/AppArmor/LSM/lockdown facts, with the live collector's meaning of an absent file."""
    out: List[Tuple[str, str]] = []
    if rec.recorded("selinux-enforce.txt"):
        text = rec.text("selinux-enforce.txt").strip()
        out.append(("cbom:selinux", {"1": "enforcing", "0": "permissive", "": "disabled"}.get(text, text)))
    if rec.has("selinux-config"):
        out.append(("cbom:selinux-config", osl.parse_os_release(rec.text("selinux-config")).get("SELINUX", "")))
    if rec.recorded("apparmor-enabled.txt"):
        text = rec.text("apparmor-enabled.txt").strip()
        out.append(("cbom:apparmor", {"Y": "enabled", "N": "disabled", "": "not loaded"}.get(text, text)))
    if rec.text("lsm.txt").strip():
        out.append(("cbom:lsm", rec.text("lsm.txt").strip().strip(",")))
    if rec.text("lockdown.txt").strip():
        out.append(("cbom:lockdown", osl.parse_lockdown(rec.text("lockdown.txt"))))
    return out


# ---------------------------------------------------------------- hardware and firmware


def _dmidecode(rec: Recording):
    records: List[hw.DmiRecord] = []
    name = rec.first("dmidecode.txt", "dmidecode*")
    if name is None:
        return records
    text = rec.text(name)
    records = hw.parse_dmidecode(text)
    if not records:
        why = rec.why_failed(name) or "no SMBIOS structure found (garbled or truncated?)"
        yield _gap_unparsed(name, why)
    return records


def _hardware_dmi(records: List[hw.DmiRecord], dmi: Dict[str, str], redact: Redactor) -> Iterator[Item]:
    # Same order of preference as the live collector: dmidecode's system record, else sysfs.
    if records and hw.dmi_by_type(records, 1):
        yield from hw.dmi_components(records, redact)
        return
    if dmi:
        yield from hw.dmi_sysfs_components(dmi, redact)
    for item in hw.dmi_components(records, redact):
        if getattr(item, "prop", None) and item.prop("cbom:device-type") not in ("system", "baseboard", "chassis"):
            yield item


def _firmware(records: List[hw.DmiRecord], dmi: Dict[str, str], uefi: Optional[bool]) -> Iterator[Item]:
    bios = fw.dmi_from_dmidecode(records) or {k: v for k, v in dmi.items() if k.startswith(("bios_", "ec_"))}
    for comp in (fw.bios_component(bios, uefi), fw.ec_component(bios)):
        if comp:
            yield comp
    if uefi is False:
        # Secure Boot state needs the efivars; collect.sh records only the boot mode.
        yield from fw.secure_boot_items(uefi, None, None)
    elif uefi:
        yield HostFact("cbom:boot-mode", "uefi")


def _cpu(rec: Recording, records: List[hw.DmiRecord]) -> Iterator[Item]:
    names = rec.find("proc-cpuinfo.txt", "*cpuinfo*")
    if not names:
        yield from dmi_cpu_components(records)  # no /proc/cpuinfo recorded: the SMBIOS sockets
        return
    # One file on a real recording; a folder of samples (../shared/fixtures/linux/cpuinfo) has many.
    for name in names:
        packages = hw.parse_cpuinfo(rec.text(name))
        if not packages:
            yield _gap_unparsed(name, "no processor found (garbled or truncated?)")
            continue
        vulns = read_tree(rec.folder("sys-cpu-vulnerabilities"))
        yield from hw.cpu_components(packages, vulns, hw.dmi_processors(records))
        yield from fw.microcode_components(packages)


def _memory(rec: Recording) -> Iterator[Item]:
    name = rec.first("proc-meminfo.txt", "*meminfo*")
    if name is None:
        return
    total = hw.parse_meminfo_total(rec.text(name))
    if not total:
        yield _gap_unparsed(name, "no MemTotal line")
        return
    yield device(_refs.memory_ref(), name="System memory", description=human_bytes(total),
                 properties=props(("cbom:device-type", "memory"), ("cbom:memory:total-bytes", str(total))))


def block_devices_from_tree(tree: Dict[str, Dict[str, str]]) -> List[hw.BlockDevice]:
    """BlockDevice records from collect.sh's sys-block/NAME/… copy (the live collector's sysfs reads)."""
    out = []
    for name in sorted(tree):
        a = tree[name]
        identity = a.get("device-path", "") or f"block/{name}"
        size, rota, rm = a.get("size", ""), a.get("queue/rotational", ""), a.get("removable", "")
        out.append(hw.BlockDevice(
            name=name, identity=identity, model=a.get("device/model", ""), vendor=a.get("device/vendor", ""),
            serial=a.get("device/serial", ""), firmware=a.get("device/firmware_rev", "") or a.get("device/rev", ""),
            size=int(size) * 512 if size.isdigit() else 0,
            rotational=(rota == "1") if rota in ("0", "1") else None,
            removable=(rm == "1") if rm in ("0", "1") else None,
            transport=hw._transport(name, identity), wwn=a.get("device/wwid", "") or a.get("wwid", ""),
        ))
    return out


def _disks(rec: Recording, redact: Redactor) -> Iterator[Item]:
    disks = block_devices_from_tree(subtrees(read_tree(rec.folder("sys-block"))))
    lsblk: Dict[str, Dict[str, object]] = {}
    name = rec.first("lsblk-j.json", "lsblk*.json")
    if name:
        try:
            lsblk = hw.parse_lsblk_json(rec.text(name))
        except ValueError as exc:
            yield _gap_unparsed(name, f"not lsblk JSON ({exc})")
    else:
        for text_name in rec.find("lsblk.txt", "lsblk*.txt"):
            lsblk = {r["name"]: dict(r) for r in _parsers.parse_lsblk_text(rec.text(text_name))}
            if lsblk:
                break
    if disks:
        hw.merge_lsblk(disks, lsblk)
    else:
        # No sysfs copy (older collect.sh, other recorders): lsblk alone; identity is the kernel name.
        for dname, row in sorted(lsblk.items()):
            if str(row.get("type", "disk")) not in ("disk", ""):
                continue
            if dname.startswith(("loop", "ram", "zram", "dm-", "md", "nbd")):
                continue
            dev = hw.BlockDevice(name=dname, identity=f"block/{dname}")
            rota = row.get("rota")
            dev.rotational = rota if isinstance(rota, bool) else ({"1": True, "0": False}.get(str(rota)))
            rm = row.get("rm")
            dev.removable = rm if isinstance(rm, bool) else ({"1": True, "0": False}.get(str(rm)))
            hw.merge_lsblk([dev], {dname: {k: v for k, v in row.items() if k != "size" or str(v).isdigit()}})
            dev.transport = dev.transport or hw._transport(dname, dev.identity)
            disks.append(dev)
    yield from hw.block_components(disks, redact)
    yield from fw.disk_firmware_components(disks)


def _pci(rec: Recording) -> Iterator[Item]:
    name = rec.first(*_LSPCI)
    if name is None:
        return
    devices = hw.parse_lspci(rec.text(name))
    for dev in devices:
        if dev.device == "Device":
            dev.device = ""  # lspci's "Device [0d57]" means unnamed: same fallback name as a sysfs read
    if not devices:
        yield _gap_unparsed(name, "no PCI device found (not lspci output, or truncated)")
        return
    yield from hw.pci_components(devices)


def usb_devices_from_tree(tree: Dict[str, Dict[str, str]]) -> List[hw.UsbDevice]:
    """UsbDevice records from collect.sh's sys-bus-usb-devices/PORT/… copy."""
    out = []
    for port in sorted(tree):
        a = tree[port]
        if ":" in port or port.startswith("usb") or not a.get("idVendor"):
            continue
        out.append(hw.UsbDevice(
            port=port, vendor_id=a["idVendor"].lower(), product_id=a.get("idProduct", "").lower(),
            manufacturer=a.get("manufacturer", ""), product=a.get("product", ""), serial=a.get("serial", ""),
            bcd_device=a.get("bcdDevice", ""), usb_version=a.get("version", ""),
            device_class=a.get("bDeviceClass", "").lower(), speed=a.get("speed", ""),
        ))
    return out


def _usb(rec: Recording, redact: Redactor) -> Iterator[Item]:
    devices = usb_devices_from_tree(subtrees(read_tree(rec.folder("sys-bus-usb-devices"))))
    if not devices:
        names = rec.find("lsusb-v*.txt") or rec.find("lsusb.txt")
        for name in names:
            found = hw.parse_lsusb_v(rec.text(name))
            if not found and rec.text(name).strip():
                yield _gap_unparsed(name, "no 'Bus NNN Device NNN: ID' line (not lsusb output?)")
            devices += found
    yield from hw.usb_components(devices, redact)


def _nics_and_interfaces(rec: Recording) -> Iterator[Item]:
    net = subtrees(read_tree(rec.folder("sys-class-net")))
    adapters = []
    for name in sorted(net):
        a = net[name]
        path = a.get("device-path", "")
        if not path:
            continue
        bus_addr = path.rstrip("/").rsplit("/", 1)[-1]
        vid, did = hw._hex4(a.get("device/vendor", "")), hw._hex4(a.get("device/device", ""))
        if a.get("subsystem") == "virtio":
            parent = path.rstrip("/").rsplit("/", 2)[-2] if path.count("/") else ""
            if pci_address("/" + path, "virtio"):
                bus_addr = parent
                vid, did = hw._hex4(a.get("parent/vendor", "")), hw._hex4(a.get("parent/device", ""))
        adapters.append(hw.NetAdapter(name=name, identity=path, driver=a.get("driver", ""), bus_address=bus_addr,
                                      mac=a.get("address", ""), vendor_id=vid, device_id=did, bus=a.get("subsystem", "")))
    yield from hw.nic_components(adapters)
    # Interfaces (category network-interface), as the network collector describes them.
    infos = []
    name = rec.first("ip-addr.txt", "ip-a*.txt")
    if name:
        infos = _parsers.parse_ip_addr(rec.text(name))
        if not infos:
            yield _gap_unparsed(name, "no interface found (not `ip addr` output?)")
    if not infos and rec.first("ifconfig-a.txt", "ifconfig*.txt"):
        name = rec.first("ifconfig-a.txt", "ifconfig*.txt")
        infos = _parsers.parse_ifconfig(rec.text(name))
    defaults = _parsers.parse_ip_route_defaults(rec.text("ip-route.txt"))
    for info in infos:
        a = net.get(info.name, {})
        if a:
            path = a.get("device-path", "")
            info.driver = a.get("driver", "") if path else ""
            info.bus = pci_address("/" + path, a.get("subsystem", "")) if path else ""
            arphrd = a.get("type", "")
            info.kind = classify_link(int(arphrd) if arphrd.isdigit() else None,
                                      parse_uevent(a.get("uevent", "")).get("DEVTYPE", ""), bool(path),
                                      a.get("wireless", "") == "1")
        info.routes = [f"default via {gw}" for gw, dev in defaults if dev == info.name]
    comps = [i.component() for i in infos]
    yield from comps
    for gw in dict.fromkeys(gw for gw, _ in defaults):
        yield HostFact("cbom:default-gateway", gw)
    for name in rec.find("ss-ltnup.txt", "netstat-ltnup.txt"):
        yield from services_from_sockets(_parsers.parse_ss(rec.text(name)), comps)
        break
    if rec.has("resolv.conf"):
        conf = parse_resolv_conf(rec.text("resolv.conf"))
        for server in conf.nameservers:
            yield HostFact("cbom:dns-server", server)
        for domain in conf.search:
            yield HostFact("cbom:dns-search", domain)


# ---------------------------------------------------------------- software


def _distro(rec: Recording) -> Distro:
    for name in rec.find("os-release", "*os-release*"):
        return distro_from_os_release(rec.text(name))
    return Distro()


def _software(rec: Recording) -> Iterator[Item]:
    distro = _distro(rec)
    for name in rec.find("dpkg-status", "*.dpkg-status", "*dpkg-status*"):
        packages, problems = swl.parse_dpkg_status(rec.text(name))
        if problems:
            yield Gap(summarise(name, problems))
        if not packages and not problems:
            yield _gap_unparsed(name, "no installed package stanza")
        for pkg in packages:
            yield to_component(pkg, distro)
    for name in rec.find("rpm-qai.txt", "*rpm-qai*"):
        packages, problems = _parsers.parse_rpm_qai(rec.text(name))
        if problems:
            yield Gap(summarise(name, problems))
        if not packages and not problems and rec.text(name).strip():
            yield _gap_unparsed(name, "no 'Name :' block (not `rpm -qai` output?)")
        for pkg in packages:
            yield to_component(pkg, distro)
    for name in rec.find("rpm-qa.txt", "*.rpm-qa.txt"):
        packages, problems = swl.parse_rpm_qa(rec.text(name))
        if problems:
            yield Gap(summarise(name, problems))
        for pkg in packages:
            yield to_component(pkg, distro)
    for name in rec.find("apk-installed", "*apk-installed*"):
        packages, problems = swl.parse_apk_installed(rec.text(name))
        if problems:
            yield Gap(summarise(name, problems))
        for pkg in packages:
            yield to_component(pkg, distro)
    for name in rec.find("*.dpkg-query.txt", "dpkg-query*.txt"):
        yield from _dpkg_query(name, rec.text(name), distro)
    if rec.has("proc-modules.txt"):
        release, _, _ = uname_fields(rec.text("uname-a.txt"))
        modules, problems = swl.parse_proc_modules(rec.text("proc-modules.txt"))
        if problems:
            yield Gap(summarise("proc-modules.txt", problems))
        for mname, size, used_by, state in modules:
            yield swl.kernel_module_component(mname, size, used_by, state, "", "", release)


def _dpkg_query(name: str, text: str, distro: Distro) -> Iterator[Item]:
    """GLPI's `dpkg-query -W -f '${Package}\\t${Architecture}\\t${Version}\\t${Installed-Size}\\t${Section}'`."""
    from ..software._common import Package

    problems = []
    for number, line in enumerate(text.replace("\r", "").split("\n"), 1):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) < 3 or not cols[0] or not cols[2]:
            problems.append(f"line {number}: {line[:40]!r}")
            continue
        size = cols[3] if len(cols) > 3 else ""
        yield to_component(Package(manager="dpkg", name=cols[0], version=cols[2], arch=cols[1],
                                   size=int(size) * 1024 if size.isdigit() else None,
                                   section=cols[4] if len(cols) > 4 else ""), distro)
    if problems:
        yield Gap(summarise(name, problems))
