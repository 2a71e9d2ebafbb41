"""CISA ICS advisories (CSAF 2.0): product tree leaves and `vers:` ranges, matched by vendor/product
text with the confidence stated."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from cbom import vulndb
from cbom.model import Category, Component, Host, Kind, Scan
from cbom.vulndb._csaf import version_in

from vulndb_support import DATA, dbdir  # noqa: F401 (dbdir: a fixture)


def _scan(*components):
    return Scan(id="urn:uuid:00000000-0000-0000-0000-000000000001", started=datetime(2026, 12, 1, tzinfo=timezone.utc),
                tool_version="test", host=Host(name="h"), components=components)


def test_device_named_like_the_advisory(dbdir):
    doc = json.loads((DATA / "csaf" / "2024" / "icsa-24-030-03.json").read_text())
    vendor = doc["product_tree"]["branches"][0]["name"]  # "Mitsubishi Electric"
    product = doc["product_tree"]["branches"][0]["branches"][0]["name"]  # "WS0-GETH00200", all versions
    dev = Component(category=Category.HARDWARE, kind=Kind.DEVICE, name=product, version="1.04",
                    manufacturer=vendor)
    s = vulndb.apply(_scan(dev), dbdir)
    hits = [v for v in s.vulnerabilities if v.source == "CISA ICS ICSA-24-030-03"]
    assert [v.id for v in hits] == [doc["vulnerabilities"][0]["cve"]]
    assert hits[0].confidence == "name/version text"
    assert hits[0].score == doc["vulnerabilities"][0]["scores"][0]["cvss_v3"]["baseScore"]
    assert hits[0].severity.value == "medium"


def test_other_vendor_not_matched(dbdir):
    dev = Component(category=Category.HARDWARE, kind=Kind.DEVICE, name="WS0-GETH00200", version="1.0",
                    manufacturer="Siemens")
    s = vulndb.apply(_scan(dev), dbdir)
    assert not [v for v in s.vulnerabilities if "ICSA-24-030-03" in v.source]


def test_vers_ranges():
    assert version_in("vers:all/*", "") is True
    assert version_in("vers:intdot/<4.2", "4.1.9") is True
    assert version_in("vers:intdot/<4.2", "4.2") is False
    assert version_in("vers:intdot/>=1.0|<2.0", "1.5") is True
    assert version_in("vers:intdot/<4.2", "") is None
    # the most frequent forms of the 2024 slice (leaf names of product_version_range branches)
    assert version_in("<V2.4", "V2.3") is True and version_in("<V2.4", "2.4") is False
    assert version_in("<=4.1.5", "4.1.5") is True
    assert version_in("All versions < V223.0 Update 10", "V223.0 Update 9") is True
    assert version_in("All versions < V223.0 Update 10", "V223.0 Update 11") is False
