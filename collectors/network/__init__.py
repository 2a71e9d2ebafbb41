"""The `network` collector: interfaces, listening services, DNS servers and default gateways.

Live data comes from psutil (interfaces, addresses, sockets; Linux, Windows and
macOS alike). On Linux, sysfs adds driver, PCI address and link kind, and
/proc/net/route, /proc/net/ipv6_route and /etc/resolv.conf give routes and DNS,
all read through ctx so `--root` redirection applies. On Windows, `ipconfig /all`
gives gateways and DNS servers. The pure parsers live in `_linux.py` and
`_windows.py`; `components_from_ipconfig` turns recorded output into the same
components as a live scan.
"""
from __future__ import annotations

import os
import socket
import sys
from typing import Dict, Generator, Iterator, List, Optional, Tuple

from cbom import vocabulary as V
from cbom.collector import Collector, ScanContext
from cbom.model import Component, Gap, HostFact, Item, Platform

from ._common import UNKNOWN_PROCESS, InterfaceInfo, Socket, normalize_mac, services_from_sockets, with_prefix
from ._linux import (
    Route, classify_link, parse_ipv6_route, parse_proc_route, parse_resolv_conf, parse_uevent, pci_address,
)
from . import _darwin, _windows
from ._unix import parse_ifconfig, parse_ip_addr, parse_ip_route_defaults, parse_ss
from ._windows import Ipconfig, components_from_ipconfig, facts_from_ipconfig, interfaces_from_ipconfig, parse_ipconfig

__all__ = ["COLLECTORS", "components_from_ipconfig", "parse_ipconfig"]

# systemd-resolved keeps the real upstream servers here when /etc/resolv.conf points at its stub.
RESOLVED_UPSTREAM = "/run/systemd/resolve/resolv.conf"


class _Network(Collector):
    """Network interfaces, listening TCP/UDP services, DNS servers and default gateways."""

    timeout = 30.0
    default = True

    def collect(self, ctx: ScanContext) -> Iterator[Item]:
        return _collect(ctx)


class NetworkLinux(_Network):
    name = "network.linux"
    description = "interfaces, addresses, routes (/proc/net), listening services, DNS (resolv.conf)"
    platforms = frozenset({Platform.LINUX})


class NetworkWindows(_Network):
    name = "network.windows"
    description = "interfaces, addresses, gateways and DNS (ipconfig /all), listening services"
    platforms = frozenset({Platform.WINDOWS})


class NetworkDarwin(_Network):
    name = "network.macos"
    description = "interfaces, addresses, listening services, DNS (resolv.conf)"
    platforms = frozenset({Platform.DARWIN})


COLLECTORS = (NetworkLinux, NetworkWindows, NetworkDarwin)


def _collect(ctx: ScanContext) -> Iterator[Item]:
    routes: List[Route] = []
    if ctx.platform == Platform.LINUX:
        routes = yield from _linux_routes(ctx)
    ipconfig: Optional[Ipconfig] = None
    if ctx.platform == Platform.WINDOWS and ctx.live and not ctx.recorded:  # recorded: _recorded_interfaces
        ipconfig = yield from _windows_ipconfig(ctx)

    interfaces: List[Component] = []
    if ctx.recorded:
        # psutil would describe the machine running cbom: a recording's interfaces come from its
        # recorded command output, parsed per platform into the same InterfaceInfo records.
        yield from _recorded_interfaces(ctx, routes)
    elif ctx.live:
        infos = yield from _live_interfaces(ctx, routes)
        if ipconfig is not None:
            _add_ipconfig_routes(infos, ipconfig)
        interfaces = [i.component() for i in infos]
        yield from interfaces
        yield from _live_services(ctx, interfaces)
    else:
        # A mounted image: its interfaces and sockets are not the running host's.
        yield Gap("interfaces and listening services are only read from the running system (not under --root)")

    seen = set()
    for route in routes:
        if route.is_default and route.gateway and route.gateway not in seen:
            seen.add(route.gateway)
            yield HostFact(V.DEFAULT_GATEWAY, route.gateway)
    if ipconfig is not None:
        yield from facts_from_ipconfig(ipconfig)
    elif ctx.platform in (Platform.LINUX, Platform.DARWIN):
        yield from _resolv_conf(ctx)


def _recorded_interfaces(ctx: ScanContext, routes: List[Route]) -> Iterator[Item]:
    """Interfaces and listening services of a recorded machine, from its recorded command output
    (Windows: ipconfig /all, netstat -ano; macOS: ifconfig; Linux: ip addr/route, ss), parsed into
    the same InterfaceInfo/Socket records the live psutil reading gives."""
    if ctx.platform == Platform.WINDOWS:
        yield from _windows.recorded_items(ctx)  # ipconfig /all, netstat -ano, tasklist
        return
    if ctx.platform == Platform.DARWIN:
        yield from _darwin.recorded_items(ctx)  # ifconfig -a
        return
    yield from _recorded_linux_interfaces(ctx)


def _recorded_linux_interfaces(ctx: ScanContext) -> Iterator[Item]:
    """`ip addr` (else `ifconfig -a`), `ip route`, `ss -ltnup` and collect.sh's copy of /sys/class/net.

    collect.sh cannot keep sysfs symlinks on a FAT stick: it writes the resolved
    `device` link as a `device-path` file and the driver/subsystem links' names.
    """
    infos: List[InterfaceInfo] = []
    result = ctx.run(["ip", "addr"])
    if result.ok:
        infos = parse_ip_addr(result.stdout)
        if not infos:
            yield Gap("ip addr: no interface found (not `ip addr` output?)")
    if not infos:
        result = ctx.run(["ifconfig", "-a"])
        if result.ok:
            infos = parse_ifconfig(result.stdout)
    route = ctx.run(["ip", "route"])
    defaults = parse_ip_route_defaults(route.stdout if route.ok else "")
    for info in infos:
        attrs = _recorded_sysfs(ctx, info.name)
        if attrs:
            path = attrs.get("device-path", "")
            info.driver = attrs.get("driver", "") if path else ""
            info.bus = pci_address("/" + path, attrs.get("subsystem", "")) if path else ""
            arphrd = attrs.get("type", "")
            info.kind = classify_link(int(arphrd) if arphrd.isdigit() else None,
                                      parse_uevent(attrs.get("uevent", "")).get("DEVTYPE", ""), bool(path),
                                      attrs.get("wireless", "") == "1")
        info.routes = [f"default via {gw}" for gw, dev in defaults if dev == info.name]
    interfaces = [i.component() for i in infos]
    yield from interfaces
    for gateway in dict.fromkeys(gw for gw, _ in defaults):
        yield HostFact(V.DEFAULT_GATEWAY, gateway)
    for argv in (["ss", "-ltnup"], ["netstat", "-ltnup"]):
        result = ctx.run(argv)
        if result.ok:
            yield from services_from_sockets(parse_ss(result.stdout), interfaces)
            break


def _recorded_sysfs(ctx: ScanContext, name: str) -> Dict[str, str]:
    """The attributes collect.sh copied from /sys/class/net/NAME ({} when none)."""
    out: Dict[str, str] = {}
    for attr in ("device-path", "driver", "subsystem", "type", "uevent", "wireless"):
        try:
            out[attr] = ctx.read(f"/sys/class/net/{name}/{attr}").strip()
        except OSError:
            continue
    return out


def _linux_routes(ctx: ScanContext) -> Generator[Item, None, List[Route]]:
    routes: List[Route] = []
    if ctx.recorded:
        return routes  # a recording holds `ip route`, read with its interfaces
    for path, parse in (("/proc/net/route", _parse_v4), ("/proc/net/ipv6_route", parse_ipv6_route)):
        try:
            text = ctx.read(path)
        except OSError as exc:
            if not ctx.live and isinstance(exc, FileNotFoundError):
                continue  # a mounted image has no /proc: its routes are simply not there
            # No IPv6 in the kernel (ipv6.disable=1) leaves no ipv6_route: nothing to report.
            if not (path.endswith("ipv6_route") and not ctx.exists("/proc/net/if_inet6")):
                yield Gap(f"routes not read: {path}: {exc.strerror or exc}")
            continue
        found, problems = parse(text)
        routes += found
        for problem in problems[:3]:
            yield Gap(problem)
    return routes


def _parse_v4(text: str) -> Tuple[List[Route], List[str]]:
    return parse_proc_route(text, little_endian=sys.byteorder == "little")


def _windows_ipconfig(ctx: ScanContext) -> Generator[Item, None, Optional[Ipconfig]]:
    result = ctx.run(["ipconfig", "/all"])
    if not result.ok:
        yield Gap(f"DNS servers and gateways not read: {result.why()}")
        return None
    parsed = parse_ipconfig(result.stdout)
    if parsed.problems and not parsed.adapters:
        # Localised Windows prints translated labels this parser does not know.
        yield Gap(f"DNS servers and gateways not read: {parsed.problems[0]}")
        return None
    return parsed


def _add_ipconfig_routes(infos: List[InterfaceInfo], ipconfig: Ipconfig) -> None:
    """Gateways, DNS servers and descriptions that psutil lacks on Windows, matched by adapter name."""
    by_name = {i.name: i for i in interfaces_from_ipconfig(ipconfig)}
    for info in infos:
        if info.name in by_name:
            info.routes += by_name[info.name].routes
            info.extra += by_name[info.name].extra  # DNS servers, DHCP
            info.description = info.description or by_name[info.name].description


def _live_interfaces(ctx: ScanContext, routes: List[Route]) -> Generator[Item, None, List[InterfaceInfo]]:
    import psutil

    try:
        addrs = psutil.net_if_addrs()
    except Exception as exc:  # psutil raises OSError/AccessDenied on odd systems
        yield Gap(f"network interfaces not read: {type(exc).__name__}: {exc}")
        return []
    try:
        stats = psutil.net_if_stats()
    except Exception as exc:
        yield Gap(f"interface state/MTU/speed not read: {type(exc).__name__}: {exc}")
        stats = {}
    link_family = getattr(psutil, "AF_LINK", None)
    # Linux IPv4 alias labels ("eth0:1", set by ifconfig or `ip addr add ... label`) are
    # addresses of eth0, not interfaces: getifaddrs() reports them under the label.
    for label in [n for n in addrs if ":" in n and n.split(":", 1)[0] in addrs]:
        base = addrs[label.split(":", 1)[0]]
        addrs[label.split(":", 1)[0]] = list(base) + [a for a in addrs.pop(label) if a.family == socket.AF_INET]
        stats.pop(label, None)
    infos: List[InterfaceInfo] = []
    for name in sorted(set(addrs) | set(stats)):
        info = InterfaceInfo(name=name)
        for a in addrs.get(name, ()):
            if a.family == link_family and not info.mac:
                info.mac = normalize_mac(a.address)
            elif a.family == socket.AF_INET:
                info.ipv4.append(with_prefix(a.address, a.netmask))
            elif a.family == socket.AF_INET6:
                info.ipv6.append(with_prefix(a.address, a.netmask))
        st = stats.get(name)
        if st is not None:
            info.mtu = st.mtu or None
            info.speed_mbps = st.speed or None  # psutil gives 0 when unknown
            info.state = "up" if st.isup else "down"
            flags = getattr(st, "flags", "") or ""
            if "loopback" in flags.split(","):
                info.kind = "loopback"
        if ctx.platform == Platform.LINUX:
            _add_sysfs(ctx, info)
            if info.kind == "loopback" and info.mac == "00:00:00:00:00:00":
                # No hardware address: a recording's `ip addr` ("link/loopback 00:00:…") gives none
                # either, and the MAC is part of the ref, so a live scan and an ingest agree on lo.
                info.mac = ""
        elif not info.kind and "loopback" in name.lower():
            info.kind = "loopback"
        info.routes = [r.text() for r in routes if r.iface == name]
        infos.append(info)
    return infos


def _read(ctx: ScanContext, path: str) -> str:
    try:
        return ctx.read(path).strip()
    except OSError:
        return ""


def _add_sysfs(ctx: ScanContext, info: InterfaceInfo) -> None:
    """Driver, PCI address and link kind from /sys/class/net/IF (Linux)."""
    base = f"/sys/class/net/{info.name}"
    has_device = ctx.exists(base + "/device")
    if has_device:
        info.driver = os.path.basename(ctx.readlink(base + "/device/driver"))
        subsystem = os.path.basename(ctx.readlink(base + "/device/subsystem"))
        # The device link resolved inside the scanned machine, relative to its /sys (an image's links
        # stay in it): ctx.path() leaves the running system's own links unresolved, which gave "".
        real = ctx.sys_link(base + "/device")
        info.bus = pci_address("/" + real, subsystem) if real else ""
    arphrd_text = _read(ctx, base + "/type")
    arphrd = int(arphrd_text) if arphrd_text.isdigit() else None
    devtype = parse_uevent(_read(ctx, base + "/uevent")).get("DEVTYPE", "")
    wireless = ctx.exists(base + "/wireless") or ctx.exists(base + "/phy80211")
    info.kind = classify_link(arphrd, devtype, has_device, wireless)


def _live_services(ctx: ScanContext, interfaces: List[Component]) -> Iterator[Item]:
    import psutil

    try:
        conns = psutil.net_connections(kind="inet")
    except Exception as exc:  # macOS: AccessDenied unless root
        detail = f"{type(exc).__name__}: {exc}" if str(exc).strip() else type(exc).__name__
        hint = "" if ctx.admin else " (run as root/Administrator)"
        yield Gap(f"listening services not read: {detail}{hint}")
        return
    procs: Dict[int, Tuple[str, str, str]] = {}
    sockets: List[Socket] = []
    unowned = 0
    for c in conns:
        if not c.laddr:
            continue
        if c.type == socket.SOCK_STREAM and c.status == psutil.CONN_LISTEN:
            protocol = "tcp"
        elif c.type == socket.SOCK_DGRAM and not c.raddr:
            protocol = "udp"
        else:
            continue
        process, exe, user = UNKNOWN_PROCESS, "", ""
        if c.pid is None:
            unowned += 1
        else:
            if c.pid not in procs:
                procs[c.pid] = _process_info(psutil, c.pid)
            process, exe, user = procs[c.pid]
        sockets.append(Socket(protocol, c.laddr.ip.split("%", 1)[0], c.laddr.port, process, exe, user))
    yield from services_from_sockets(sockets, interfaces)
    if unowned:
        if ctx.admin:
            why = "process not visible: another PID namespace or container"
        else:
            why = "run as root/Administrator to see them"
        yield Gap(f"{unowned} of {len(sockets)} listening sockets: owning process could not be read ({why})")


def _process_info(psutil, pid: int) -> Tuple[str, str, str]:
    """(name, exe, user) of `pid`; the parts psutil may not read stay empty."""
    try:
        proc = psutil.Process(pid)
        name = proc.name() or UNKNOWN_PROCESS
    except Exception:  # NoSuchProcess, AccessDenied, ZombieProcess
        return UNKNOWN_PROCESS, "", ""
    values = [name]
    for getter in (proc.exe, proc.username):
        try:
            values.append(getter() or "")
        except Exception:
            values.append("")
    return values[0], values[1], values[2]


def _resolv_conf(ctx: ScanContext) -> Iterator[Item]:
    try:
        text = ctx.read("/etc/resolv.conf")
    except FileNotFoundError:
        return  # no resolver configured: nothing to report
    except OSError as exc:
        yield Gap(f"DNS servers not read: /etc/resolv.conf: {exc.strerror or exc}")
        return
    conf = parse_resolv_conf(text)
    servers = list(conf.nameservers)
    for problem in conf.problems[:3]:
        yield Gap(problem)
    if any(s.startswith("127.0.0.53") for s in servers):
        try:
            upstream = parse_resolv_conf(ctx.read(RESOLVED_UPSTREAM), RESOLVED_UPSTREAM)
        except OSError:
            upstream = None
        if upstream is not None:
            servers += [s for s in upstream.nameservers if s not in servers]
    for server in servers:
        yield HostFact(V.DNS_SERVER, server)
    for domain in conf.search:
        yield HostFact(V.DNS_SEARCH, domain)
