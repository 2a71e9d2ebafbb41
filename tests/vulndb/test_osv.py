"""OSV range semantics on real records: every version a publisher enumerates in `versions[]` must
be inside its own ranges (evaluated without that list), fixed versions outside; Debian-family
versions ordered the dpkg way; end to end on the real Ubuntu 18.04 dpkg status of the shared fixtures."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import yaml

from cbom import vulndb
from cbom.model import Category, Component, Host, Kind, Scan
from cbom.vulndb import _osv

from vulndb_support import DATA, SHARED, dbdir, needs_shared  # noqa: F401 (dbdir: a fixture)

RECORDS = sorted((DATA / "osv" / "pypi").rglob("*.yaml"))


def _load(path):
    return yaml.safe_load(path.read_text())


def test_slice_is_a_few_hundred_records():
    assert len(RECORDS) >= 200


def test_enumerated_versions_are_inside_their_ranges():
    checked = inside = 0
    for path in RECORDS:
        for a in _load(path).get("affected") or []:
            ranges = [r for r in a.get("ranges") or [] if r.get("type") == "ECOSYSTEM"]
            if not ranges:
                continue
            for v in a.get("versions") or []:
                checked += 1
                inside += _osv.affects(ranges, [], "PyPI", str(v))
    assert checked > 5000
    # the publisher's list and ranges come from one computation; a handful of versions PEP 440
    # cannot parse (legacy "0.8.0-alpha2"…) may fall outside
    assert inside / checked >= 0.99, (inside, checked)


def test_fixed_versions_are_outside():
    checked = 0
    for path in RECORDS:
        for a in _load(path).get("affected") or []:
            ranges = [r for r in a.get("ranges") or [] if r.get("type") == "ECOSYSTEM"]
            for fixed in _osv.fixed_versions(ranges):
                checked += 1
                # a fixed version is unaffected unless a later range re-introduces it
                intro = [str(e["introduced"]) for r in ranges for e in r["events"] if "introduced" in e]
                if fixed not in intro:
                    assert not _osv.affects(ranges, [], "PyPI", fixed), (path.name, fixed)
    assert checked > 200


def test_last_affected_is_inclusive():
    rec = _load(DATA / "osv" / "pypi" / "py" / "PYSEC-2022-42969.yaml")  # "through 1.11.0"
    ranges = rec["affected"][0]["ranges"]
    assert _osv.affects(ranges, [], "PyPI", "1.11.0")
    assert not _osv.affects(ranges, [], "PyPI", "1.11.1")


def test_debian_ordering_on_dsa_3029():
    import json
    rec = json.loads((DATA / "osv" / "debian" / "DSA-3029-1.json").read_text())
    ranges = rec["affected"][0]["ranges"]  # Debian:7 nginx, fixed 1.2.1-2.2+wheezy3
    assert _osv.affects(ranges, [], "Debian:7", "1.2.1-2.2+wheezy2")
    assert _osv.affects(ranges, [], "Debian:7", "1.2.1-2.2")  # "" < "+wheezy3" in dpkg order
    assert not _osv.affects(ranges, [], "Debian:7", "1.2.1-2.2+wheezy3")
    assert not _osv.affects(ranges, [], "Debian:7", "1.2.1-2.2+wheezy3.1")
    assert not _osv.affects(ranges, [], "Debian:7", "1:1.0")  # an epoch outranks any version


def _scan(components):
    return Scan(id="urn:uuid:00000000-0000-0000-0000-000000000000", started=datetime(2026, 12, 1, tzinfo=timezone.utc),
                tool_version="test", host=Host(name="h"), components=tuple(components))


def _pypi(name, version):
    return Component(category=Category.SOFTWARE, kind=Kind.LIBRARY, name=name, version=version,
                     purl=f"pkg:pypi/{name}@{version}")


def test_pypi_matched_and_fixed_not(dbdir):
    # PYSEC-2023-74 (requests): introduced 2.3.0, fixed 2.31.0 in the record
    s = vulndb.apply(_scan([_pypi("requests", "2.25.1"), _pypi("Jinja2", "3.1.4")]), dbdir)
    ids = {(v.id, v.refs[0]) for v in s.vulnerabilities}
    req = _pypi("requests", "2.25.1").ref
    assert ("PYSEC-2023-74", req) in ids
    v = next(v for v in s.vulnerabilities if v.id == "PYSEC-2023-74")
    assert v.recommendation == "Upgrade to 2.31.0" and "CVE-2023-32681" in v.aliases
    s2 = vulndb.apply(_scan([_pypi("requests", "2.31.0")]), dbdir)
    assert "PYSEC-2023-74" not in {v.id for v in s2.vulnerabilities}


def _ubuntu_1804_components():
    """Components of the shared Ubuntu 18.04 dpkg status, made by cbom's own dpkg parser."""
    from collectors.software._common import Distro, to_component
    from collectors.software._linux import parse_dpkg_status

    text = (SHARED / "linux" / "packages" /
            "claircore-ubuntu-18.04-texlive.dpkg-status").read_text(encoding="utf-8")
    packages, _problems = parse_dpkg_status(text)
    distro = Distro(id="ubuntu", version_id="18.04", codename="bionic")
    os_c = Component(category=Category.OPERATING_SYSTEM, kind=Kind.OPERATING_SYSTEM, name="ubuntu", version="18.04")
    return [os_c] + [to_component(p, distro) for p in packages]


@needs_shared
def test_ubuntu_sudo_baron_samedit(dbdir):
    comps = _ubuntu_1804_components()
    sudo = next(c for c in comps if c.name == "sudo")
    assert sudo.version == "1.8.21p2-3ubuntu1.2"  # the recorded machine's sudo
    s = vulndb.apply(_scan(comps), dbdir)
    hits = [v for v in s.vulnerabilities if v.id == "CVE-2021-3156"]
    assert [v.refs for v in hits] == [(sudo.ref,)]
    assert hits[0].severity.value == "high"  # ubuntu_priority of the record
    assert hits[0].score == 7.8  # CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H per NVD
    assert hits[0].recommendation == "Upgrade to 1.8.21p2-3ubuntu1.4"
    # the same machine with the fixed sudo of the record's Ubuntu:18.04:LTS range
    fixed = [c if c.name != "sudo" else Component(category=c.category, kind=c.kind, name=c.name,
                                                  version="1.8.21p2-3ubuntu1.4",
                                                  purl=c.purl.replace("1.8.21p2-3ubuntu1.2", "1.8.21p2-3ubuntu1.4"),
                                                  properties=c.properties) for c in comps]
    s2 = vulndb.apply(_scan(fixed), dbdir)
    assert "CVE-2021-3156" not in {v.id for v in s2.vulnerabilities}


@needs_shared
def test_other_ubuntu_release_not_matched(dbdir):
    # the same sudo version on a machine stated as Ubuntu 20.04: the 18.04 range does not apply
    comps = _ubuntu_1804_components()
    comps[0] = Component(category=Category.OPERATING_SYSTEM, kind=Kind.OPERATING_SYSTEM, name="ubuntu", version="20.04")
    comps = [comps[0]] + [Component(category=c.category, kind=c.kind, name=c.name, version=c.version,
                                    purl=c.purl.replace("distro=ubuntu-18.04", "distro=ubuntu-20.04"),
                                    properties=c.properties) for c in comps[1:]]
    s = vulndb.apply(_scan(comps), dbdir)
    sudo = [v for v in s.vulnerabilities if v.id == "CVE-2021-3156"]
    # 20.04's range: fixed 1.8.31-1ubuntu1.2; 1.8.21p2 is below it, so it is affected there too
    assert len(sudo) == 1 and "Ubuntu:20.04:LTS" in sudo[0].affected


@pytest.mark.parametrize("vector, score", [
    ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),   # CVE-2021-3156 (NVD)
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),   # NVD's most common critical
    ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:N", 5.9),   # ICSA-24-030-03 states baseScore 5.9
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),   # reflected XSS (NVD)
])
def test_cvss3_base_score(vector, score):
    from cbom.vulndb._match import cvss3_base_score
    assert cvss3_base_score(vector) == score


def test_upgrade_shows_as_fixed_in_the_diff(dbdir):
    old = vulndb.apply(_scan([_pypi("requests", "2.25.1")]), dbdir)
    new = vulndb.apply(_scan([_pypi("requests", "2.31.0")]), dbdir)
    changes = vulndb.vulnerability_changes(old, new)
    assert ("fixed", "PYSEC-2023-74") in {(c.change, c.id) for c in changes}
    assert not [c for c in changes if c.change == "introduced" and c.id == "PYSEC-2023-74"]


def test_vers_range_written_and_valid(dbdir):
    from cbom import cyclonedx, validate
    s = vulndb.apply(_scan([_pypi("requests", "2.25.1")]), dbdir)
    v = next(v for v in s.vulnerabilities if v.id == "PYSEC-2023-74")
    assert v.vers == "vers:pypi/>=2.3.0|<2.31.0"  # the record's ECOSYSTEM range
    doc = cyclonedx.to_dict(s)
    assert validate.errors(doc, "1.6") == []
    assert cyclonedx.from_dict(doc).vulnerabilities == s.vulnerabilities
