"""The diff of two scans names the posture changes an auditor looks for first (issue 15): a new
administrator account, a new locally added trust anchor, a new enabled service. OLD is a real scan of
this machine's accounts, startup items and certificates; NEW is the same document with those three
added (copies of real components under new names), as a later scan would hold them."""
from __future__ import annotations

import json

from conftest import run_cbom

from cbom import vocabulary as V


def _with(comp: dict, name: str, ref: str, props: dict) -> dict:
    out = json.loads(json.dumps(comp))
    out["name"], out["bom-ref"] = name, ref
    out["properties"] = [p for p in out["properties"] if p["name"] not in props] + [
        {"name": k, "value": v} for k, v in props.items()]
    return out


def test_new_admin_trust_anchor_and_service_are_notable(tmp_path):
    proc = run_cbom("scan", "--only", "posture,crypto", "--format", "json", "-o", str(tmp_path / "old"))
    assert proc.returncode in (0, 3), proc.stderr
    old = tmp_path / "old" / "cbom.cdx.json"
    doc = json.loads(old.read_text(encoding="utf-8"))

    def prop(c: dict, name: str) -> str:
        return next((p["value"] for p in c.get("properties", []) if p["name"] == name), "")

    account = next(c for c in doc["components"] if prop(c, V.POSTURE_KIND) == "account")
    startup = next(c for c in doc["components"] if prop(c, V.POSTURE_KIND) == "startup")
    cert = next(c for c in doc["components"] if prop(c, V.CRYPTO_ASSET_TYPE) == "certificate")
    doc["components"] += [
        _with(account, "maint", "posture:test-maint", {V.ACCOUNT_ADMIN: "group sudo"}),
        _with(startup, "remote-helper.service", "posture:test-startup", {}),
        _with(cert, "Plant Interception CA", "crypto:test-ca", {V.CRYPTO_STORE: "local-trust",
                                                                V.CRYPTO_LOCAL_ANCHOR: "true"}),
    ]
    new = tmp_path / "new.cdx.json"
    new.write_text(json.dumps(doc), encoding="utf-8")
    proc = run_cbom("diff", str(old), str(new), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    notable = {(n["id"], n["severity"]) for n in json.loads(proc.stdout)["notable"]}
    assert ("CBOM-DIFF-NEW-ADMIN", "high") in notable
    assert ("CBOM-DIFF-NEW-TRUSTED-CA", "high") in notable  # added locally: high
    assert ("CBOM-DIFF-NEW-STARTUP", "medium") in notable
    same = run_cbom("diff", str(old), str(old))
    assert same.returncode == 0, same.stdout
