"""Pure parts of the report's view-model: dates (`_dates`), text layout (`_layout`), cleaning, the chart."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from cbom._dates import age_years, parse_date
from cbom._layout import column_widths, text_lines
from cbom._report_view import (
    build_view,
    clean,
    _flow,
    finding_groups,
    protocol_chart,
)
from cbom.cyclonedx import conversation_property, parse_conversation_property
from cbom.model import (
    Category,
    CollectorRun,
    Component,
    Finding,
    Host,
    Kind,
    Scan,
    Severity,
    Status,
)


@pytest.mark.parametrize("text, expected", [
    ("04/01/2014", date(2014, 4, 1)),          # dmidecode / sysfs bios_date (SeaBIOS on this VM's kind)
    ("2019-11-05", date(2019, 11, 5)),
    ("20190415000000.000000+000", date(2019, 4, 15)),  # WMI Win32_BIOS.ReleaseDate
    ("2023-06-01T00:00:00Z", date(2023, 6, 1)),
    ("20210930", date(2021, 9, 30)),
    ("", None), ("unknown", None), ("13/45/2020", None),
])
def test_parse_date(text, expected):
    assert parse_date(text) == expected


def test_age_is_measured_on_the_scan_date():
    assert age_years(date(2014, 4, 1), date(2025, 3, 14)) == 11.0
    assert age_years(date(2024, 3, 14), date(2025, 3, 14)) == 1.0


def test_clean_makes_controls_visible():
    assert clean("a\x07b\u202ec\x9b") == "a<U+0007>b<U+202E>c<U+009B>"
    assert clean("tab\tnewline\n") == "tab\tnewline\n"
    assert clean(None) == "" and clean(3) == "3"
    assert clean("שלום 😀") == "שלום 😀"


def test_text_lines_keep_names_whole_and_columns_aligned():
    rows = [["bash", "5.2.15-2+b8", "amd64"], ["n" * 130, "1.0", "all"], ["libx", "v" * 50, "amd64"]]
    spec, out = text_lines(rows, [38, 30, 7], ["Name", "Version", "Arch"], width=60)
    head = spec.format("Name", "Version", "Arch")
    assert head.index("Version") == out[0][0].index("5.2.15")
    assert out[0] == [out[0][0]] and out[0][0].split() == ["bash", "5.2.15-2+b8", "amd64"]
    # A name longer than the whole line wraps; a shorter over-long name gets its own line.
    assert "".join(out[1][:3]) == "n" * 130 and out[1][3].split() == ["1.0", "all"]
    assert all(len(line) <= 60 for lines in out for line in lines)
    assert "".join(line[head.index("Version"):head.index("Arch")].strip() for line in out[2]) == "v" * 50


def test_an_over_long_name_keeps_its_values_on_its_line_when_they_fit():
    """Go module paths are longer than the name column: the row stays one line (a page break can
    never fall between a name and its version), the version right after the name, the arch at its
    column where the name left room."""
    rows = [["bash", "5.2.15-2+b8", "amd64"], ["github.com/aws/aws-sdk-go-v2/service/internal/endpoint-discovery",
                                              "v1.10.12", "amd64"], ["github.com/aws/aws-sdk-go-v2/service/ssooidc", "v1.2.13",
                                                                     "amd64"]]
    spec, out = text_lines(rows, [40, 12, 7], ["Name", "Version", "Arch"], width=110)
    head = spec.format("Name", "Version", "Arch")
    assert len(rows[2][0]) > head.index("Version") - 2  # wider than its column
    for row, lines in zip(rows[1:], out[1:]):
        assert len(lines) == 1 and lines[0].split() == row
        assert lines[0].index(row[1]) == len(row[0]) + 2  # the version right after the name
    assert out[2][0].index("amd64") == head.index("Arch") == out[0][0].index("amd64")  # where there is room
    # Too long for one line: the name alone, its values below, as before.
    spec, out = text_lines(rows, [40, 12, 7], ["Name", "Version", "Arch"], width=70)
    assert len(out[1]) == 2 and out[1][1].split() == ["v1.10.12", "amd64"]


def test_chart_scales_to_the_largest_and_groups_the_rest():
    chart = protocol_chart([(f"p{i}", 100 - i) for i in range(20)], top=3, width=200)
    assert [b["label"] for b in chart["bars"]] == ["p0", "p1", "p2", "(17 others)"]
    assert chart["bars"][0]["width"] == 200 and chart["height"] == 64
    assert protocol_chart([])["bars"] == []


# ------------------------------------------------------------------ exact collector formats


def test_conversation_properties_of_the_capture_collector_read_back_typed():
    # Values as the capture collector's conversations are written (the plant capture's first s7comm
    # flow, an IPv6 one, ARP): the reader gives the typed record, the writer the same text again.
    s7 = ("tcp 141.81.0.10:60673 141.81.0.146:102 1012 76444 "
          "2012-11-12T13:22:09.252Z 2012-11-12T13:22:30.549Z")
    ip = parse_conversation_property("cbom:net:conversation", s7)
    assert (ip.transport, ip.src, ip.dst, ip.packets, ip.bytes, ip.first, ip.last) == (
        "tcp", "141.81.0.10:60673", "141.81.0.146:102", 1012, 76444,
        "2012-11-12T13:22:09.252Z", "2012-11-12T13:22:30.549Z")
    assert conversation_property(ip) == ("cbom:net:conversation", s7)
    assert _flow("s7comm", ip) == {
        "protocol": "s7comm", "transport": "tcp", "src": "141.81.0.10:60673", "dst": "141.81.0.146:102",
        "src_addr": "141.81.0.10", "dst_addr": "141.81.0.146", "packets": 1012, "bytes": 76444,
        "first": "2012-11-12T13:22:09.252Z", "last": "2012-11-12T13:22:30.549Z"}
    v6 = _flow("udp", parse_conversation_property(
        "cbom:net:conversation", "udp [fe80::1]:546 [ff02::1:2]:547 2 236 2012-11-12T13:22:09.252Z 2012-11-12T13:22:09.300Z"))
    assert (v6["src_addr"], v6["dst_addr"], v6["transport"]) == ("fe80::1", "ff02::1:2", "udp")
    l2 = "78:e7:d1:e0:02:5e 00:13:95:07:81:a1 2 102 2012-11-12T13:22:10.787Z 2012-11-12T13:22:10.787Z"
    arp = parse_conversation_property("cbom:net:l2-conversation", l2)
    assert (arp.src, arp.transport, arp.packets, arp.bytes) == ("78:e7:d1:e0:02:5e", "", 2, 102)
    assert conversation_property(arp) == ("cbom:net:l2-conversation", l2)
    for bad in ("", "icmp a b 1 2", "tcp a:1 b:2 x 3", "tcp a:1"):
        assert parse_conversation_property("cbom:net:conversation", bad) is None


def _scan(components=(), host_props=(), runs=(), findings=()):
    return Scan(id="urn:uuid:00000000-0000-4000-8000-000000000001", tool_version="0.1.0",
                started=datetime(2025, 3, 14, 9, 0, tzinfo=timezone.utc), host=Host("h", properties=tuple(host_props)),
                components=tuple(components), runs=tuple(runs), findings=tuple(findings))


def test_flows_summary_counts_talkers_and_the_cap():
    # As the reader gives them: parsed conversations typed, an unparseable one left as its property.
    read = [parse_conversation_property(*p) for p in (
        ("cbom:net:conversation",
         "tcp 10.0.0.1:5000 10.0.0.2:502 10 1000 2025-03-14T09:00:00.000Z 2025-03-14T09:00:01.000Z"),
        ("cbom:net:conversation",
         "tcp 10.0.0.1:5001 10.0.0.3:502 20 3000 2025-03-14T09:00:00.500Z 2025-03-14T09:00:02.000Z"),
        ("cbom:net:l2-conversation",
         "02:00:00:00:00:01 ff:ff:ff:ff:ff:ff 1 60 2025-03-14T09:00:00.000Z 2025-03-14T09:00:00.000Z"))]
    proto = Component(Category.OBSERVED_PROTOCOL, Kind.DATA, "mbtcp", properties=(
        ("cbom:net:packets", "30"), ("cbom:net:conversation", "garbled")), conversations=tuple(read[:2]))
    arp = Component(Category.OBSERVED_PROTOCOL, Kind.DATA, "arp", conversations=(read[2],))
    host = Component(Category.OBSERVED_HOST, Kind.DEVICE, "plc-3", properties=(("cbom:net:ip", "10.0.0.3"),))
    scan = _scan([proto, arp, host],
                 host_props=[("cbom:capture:conversations", "2500"), ("cbom:capture:packets", "31")])
    flows = build_view(scan, "0" * 64, pdf=False)["flows"]
    assert (flows["count"], flows["ip"], flows["l2"]) == (4, 2, 1)
    assert flows["malformed"] == ["mbtcp: garbled"] and flows["transports"] == [{"name": "tcp", "count": 2}]
    assert flows["truncated"] and flows["date"] == "2025-03-14"
    # 10.0.0.1 took part in both conversations: 4,000 bytes; 10.0.0.3 is named after its observed host.
    assert flows["talkers"]["rows"][0] == ["10.0.0.1", "", "4,000", "30", "2", "2"]
    assert flows["talkers"]["rows"][1][:3] == ["10.0.0.3", "plc-3", "3,000"]
    assert flows["largest"]["rows"][0] == ["mbtcp/tcp", "10.0.0.1:5001", "10.0.0.3:502", "20", "3,000",
                                           "09:00:00.500", "09:00:02.000"]


def test_host_facts_are_routed_to_their_sections():
    scan = _scan(host_props=[
        ("cbom:default-gateway", "192.0.2.1"), ("cbom:default-gateway", "fd00::1"),
        ("cbom:dns-server", "10.255.255.53"),
        ("cbom:os", "Debian GNU/Linux 12 (bookworm)"), ("cbom:boot-mode", "uefi"), ("cbom:secure-boot", "enabled"),
        ("cbom:capture:mode", "live"), ("cbom:capture:kernel-drops", "3"), ("cbom:capture:queue-drops", "0"),
        ("cbom:capture:oui-database", "IEEE registry"), ("cbom:hardware:pci-ids", "pci.ids version 2023.04.10"),
        ("cbom:uptime", "3 days"),
    ], runs=[CollectorRun("capture", Status.OK, 1.0)])
    v = build_view(scan, "0" * 64)
    assert v["network_facts"] == [("Default gateways", "192.0.2.1, fd00::1"), ("DNS servers", "10.255.255.53")]
    assert v["firmware_facts"] == [("Boot mode", "uefi"), ("Secure Boot", "enabled")]
    assert v["os_reported"] == ["Debian GNU/Linux 12 (bookworm)"]
    assert v["machine_facts"] == [("uptime", "3 days")]
    assert v["capture"]["stats"] == [("Mode", "live"), ("Dropped by the kernel", "3"),
                                     ("Dropped by the analysis queue (memory bound)", "0")]
    assert v["capture"]["any_dropped"] and v["capture"]["dropped"] == "3"
    assert v["databases"] == [("MAC vendor names (OUI)", "IEEE registry"),
                              ("PCI device names", "pci.ids version 2023.04.10"),
                              ("USB device names", "not used: the hardware collector did not run")]


def test_findings_grouped_with_the_explanation_once():
    why = "A client changed coils or registers of a Modbus server; confirm it is an authorised master."
    fs = [Finding("CBOM-NET-ICS-WRITE", "Modbus write operations seen", Severity.MEDIUM, f"{why} {ev}",
                  (ev, "first packet 2012-11-12T13:22:09.304Z", "packets 70"), collector="capture")
          for ev in ("Modbus Write Multiple Coils (function 15) from 141.81.0.10 to 141.81.0.163",
                     "Modbus Write Multiple Coils (function 15) from 141.81.0.10 to 141.81.0.104")]
    fs.append(Finding("CBOM-NET-SMB1", "SMB version 1 in use", Severity.HIGH, "SMBv1 is deprecated.", ("e",)))
    groups = finding_groups(_scan(findings=fs))
    assert [(g["id"], g["count"]) for g in groups] == [("CBOM-NET-SMB1", 1), ("CBOM-NET-ICS-WRITE", 2)]
    modbus = groups[1]
    assert modbus["explanation"] == why
    assert [o["detail"] for o in modbus["occurrences"]] == ["", ""]  # the rest is the evidence itself
    assert modbus["occurrences"][1]["evidence"][0].endswith("to 141.81.0.104")
    assert groups[0]["explanation"] == "" and groups[0]["occurrences"][0]["detail"] == "SMBv1 is deprecated."


def test_column_widths_leave_the_details_room_and_keep_short_columns_whole():
    rows = [["eth0", "ether", "up", "02:fc:00:00:00:01", "192.0.2.2/24", "1400", "route=" + "x" * 200]]
    widths = column_widths(["Interface", "Kind", "State", "MAC address", "Addresses", "MTU", "Details"], rows,
                           [12, 8, 7, 17, 34, 5, 40])
    assert round(sum(widths)) == 100
    assert widths[3] >= 100 * 19 / 110 - 0.1  # a MAC address (17 characters) plus padding
    assert widths[-1] >= 29.9


def test_text_lines_detail_line_and_numbers():
    rows = [["Switch1", "00:1b:1b:02:e6:1f", "5", "lldp-system-description=Siemens, SIMATIC NET, SCALANCE X212-2"],
            ["ELAU_02:23:88", "00:04:17:02:23:88", "155", ""]]
    spec, out = text_lines(rows, [18, 17, 7, 60], ["Host", "MAC address", "Packets", "Identity"], width=50,
                           numeric=[2], detail_line=True)
    head = spec.format("Host", "MAC address", "Packets", "Identity")
    assert head.splitlines()[1] == "    Identity"
    assert out[0][0].endswith("      5") and out[1][0].endswith("    155")  # right-aligned under "Packets"
    assert all(line.startswith("    ") for line in out[0][1:]) and len(out[1]) == 1
    assert " ".join(x.strip() for x in out[0][1:]) == rows[0][3]



def test_numbers_are_never_wrapped_even_when_most_are_short():
    """A column is as wide as 97 % of its values: a byte count longer than the others would print
    "172," above "331" (the hosts of the plant capture did)."""
    rows = [["Siemens_02:e6:%02x" % i, "141.81.0.%d" % i, "1", "60"] for i in range(40)]
    rows.append(["Hewlett_6c:28:f0", "141.81.0.11", "369", "172,331"])
    spec, out = text_lines(rows, [18, 15, 7, 10], ["Host", "IP addresses", "Packets", "Bytes"], width=70,
                           numeric=[2, 3])
    assert len(out[-1]) == 1 and out[-1][0].split()[-2:] == ["369", "172,331"]
    assert out[-1][0].index("172,331") + len("172,331") == len(spec.format("Host", "IP addresses", "Packets", "Bytes"))


def test_ids_header_of_the_shipped_databases():
    from collectors.hardware import _ids_header, ids_fact, parse_ids_header

    assert parse_ids_header("#\n#\tList of PCI ID's\n#\n#\tVersion: 2023.04.10\n#\tDate:    2023-04-10 20:08:02\n#\n"
                            "0001  SafeNet\n# Version: 1999\n") == ("2023.04.10", "2023-04-10 20:08:02")
    fact = ids_fact("usb", _ids_header("usb"))
    assert fact.name == "cbom:hardware:usb-ids"
    assert fact.value.startswith("usb.ids version 2025.07.26, date 2025-07-26 20:34:01 (The Linux USB ID Repository")
    assert ids_fact("pci", None).reason.startswith("pci.ids database missing")


def test_whole_columns_are_never_wrapped():
    """A Debian version of 35 characters (libldb2 on Debian 12) stays on one line in the PDF listing."""
    from cbom._layout import text_lines

    rows = [["libldb2", "2:2.6.2+samba4.17.12+dfsg-0+deb12u4", "amd64", "LGPL-3.0-or-later"]]
    rows += [[f"package-with-a-rather-long-name-{i:04d}", f"1.{i}-1", "amd64", "Apache Software License " * 2]
             for i in range(60)]
    _, lines = text_lines(rows, (38, 40, 7, 40), ["Name", "Version", "Arch", "Licence"], whole=(1,))
    assert len(lines[0]) == 1 and "2:2.6.2+samba4.17.12+dfsg-0+deb12u4 " in lines[0][0]
    _, wrapped = text_lines(rows, (38, 40, 7, 40), ["Name", "Version", "Arch", "Licence"])
    assert len(wrapped[0]) == 2  # without `whole` the odd long version wraps (the 97 % rule)
