"""`cbom diff --lang fr`: the diff in French (text, HTML, PDF), read back, no English of its own left.

Real documents: this machine's scan (tests/fixtures/diff/thishost.cdx.json) against a copy edited the
way a machine changes between two audits (a package downgraded, one upgraded, one removed, one added,
firmware rolled back, a disk swapped, Secure Boot turned off, a Modbus server, a new interface, an
industrial protocol and a host seen on the network), and the real Syft, Trivy and cyclonedx-py
documents (their "categories not compared" notes). Each is diffed by the real command, as an auditor
runs it; the PDF is read back with `pdftotext`. Once every value of the two documents is taken out,
no English word of the diff's vocabulary may remain (the check and its helpers are those of
test_report_fr.py). JSON is a machine format (`cbom-diff/1`): English whatever `--lang`.
`test_the_check_finds_english` shows the check failing on a catalogue with holes.
"""
from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterable, List, Set, Tuple

import pytest
from conftest import REPO
from test_report_fr import ENGLISH_WORDS as REPORT_WORDS
from test_report_fr import Recording, context, html_text, template_texts, without_values

from cbom import i18n
from cbom.diff import diff_scans, read_scan, write_text
from cbom.diff.writers import render_html, translator
from cbom.model import Category, Severity

FIX = REPO / "tests" / "fixtures" / "diff"
BASE = FIX / "thishost.cdx.json"
SYFT_OLD = FIX / "syft" / "dir-encoder-0d40f44.cdx.json"
SYFT_NEW = FIX / "syft" / "dir-encoder-16433d6.cdx.json"
TRIVY = FIX / "trivy" / "centos-7-cyclonedx.json"
VENV_A, VENV_B = FIX / "cyclonedx-py" / "venv-a.cdx.json", FIX / "cyclonedx-py" / "venv-b.cdx.json"
CATALOGUE = REPO / "templates" / "i18n" / "fr.json"
NNBSP, NBSP = "\u202f", "\u00a0"

# The report's English words, and the diff's own (its headings, labels, notable changes and notes).
ENGLISH_WORDS = REPORT_WORDS | frozenset("""
added removed changed change changes notable differences difference compared downgraded downgrade
upgrade rebuild same old new property hash field title times duplicated listed once scanned timestamp
swapped place appeared gone never industrial listens served now neither nor categories differ differs
vs because anyway machines supplier licenses group publisher interface turned off on image without
longer reported wrong ignored hold string number object array
""".split()) - {"interface"}  # "interface" is French too

# The categories as the JSON names them ("observed-protocol"): the diff names them in its language.
CATEGORY_IDS = frozenset(c.value for c in Category if "-" in c.value)

needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) not installed")


# --------------------------------------------------------------------------- documents


def _doc(path: Path = BASE) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _cat(c: dict) -> str:
    return next((p["value"] for p in c.get("properties", []) if p["name"] == "cbom:category"), "")


def _find(doc: dict, name: str, cat: str = "software") -> dict:
    return next(c for c in doc["components"] if c["name"] == name and _cat(c) == cat)


def _prop(c: dict, name: str, value: str) -> None:
    for p in c.setdefault("properties", []):
        if p["name"] == name:
            p["value"] = value
            return
    c["properties"].append({"name": name, "value": value})


def _write(tmp_path: Path, name: str, doc: dict) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


def _next_visit() -> Tuple[dict, dict]:
    """(old, new): this machine, then the same machine at the next visit, with a change of every kind
    the diff calls notable (cbom/diff/rules.py and categories.py)."""
    old, new = _doc(), _doc()
    for d, state in ((old, "enabled"), (new, "disabled")):
        _prop(d["metadata"]["component"], "cbom:secure-boot", state)
    new["serialNumber"] = "urn:uuid:5d0c3f5e-8d7e-4b8a-9a39-2f4f6c0a0b11"
    new["metadata"]["timestamp"] = "2026-12-01T09:00:00Z"
    comps = new["components"]
    z = _find(new, "zstd")  # upgraded
    z["version"], z["purl"] = "1.5.4+dfsg2-6", z["purl"].replace("1.5.4%2Bdfsg2-5", "1.5.4%2Bdfsg2-6")
    o = _find(new, "openssl")  # downgraded
    o["purl"] = o["purl"].replace(o["version"].replace("+", "%2B"), "3.0.11-1~deb12u1")
    o["version"] = "3.0.11-1~deb12u1"
    comps.remove(_find(new, "adduser"))  # removed
    comps.append({"type": "library", "bom-ref": "software:0123456789abcdef", "name": "libsnap7-1",
                  "version": "1.4.2-1", "purl": "pkg:deb/debian/libsnap7-1@1.4.2-1?arch=amd64&distro=debian-12",
                  "properties": [{"name": "cbom:category", "value": "software"},
                                 {"name": "cbom:package-manager", "value": "dpkg"}]})
    _find(new, "coreutils")["supplier"] = {"name": "Debian"}  # a field changed
    _find(new, "bash")["hashes"] = [{"alg": "SHA-256", "content": "ab" * 32}]  # rebuilt
    _find(new, "CPU microcode", "firmware")["version"] = "0x1000054"  # firmware rolled back
    _prop(_find(new, "vda", "hardware"), "cdx:device:serialNumber", "S5GXNX0R812345")  # disk swapped
    svc = copy.deepcopy(next(c for c in comps if _cat(c) == "listening-service"))  # a Modbus server
    svc["bom-ref"], svc["name"] = "listening-service:aaaaaaaaaaaaaaaa", "modbusd"
    _prop(svc, "cbom:port", "502")
    _prop(svc, "cbom:process", "modbusd")
    comps.append(svc)
    _prop(_find(new, "eth0", "network-interface"), "cdx:device:macAddress", "02:fc:00:00:00:99")
    comps.remove(_find(new, "lo", "network-interface"))
    comps += [
        {"type": "device", "name": "eth9", "properties": [
            {"name": "cbom:category", "value": "network-interface"},
            {"name": "cdx:device:macAddress", "value": "02:00:00:00:00:09"}]},
        {"type": "device", "name": "USB flash drive", "version": "1.00", "properties": [
            {"name": "cbom:category", "value": "hardware"}, {"name": "cbom:usb:port", "value": "1-2"}]},
        {"type": "data", "name": "S7comm", "properties": [{"name": "cbom:category", "value": "observed-protocol"}]},
        {"type": "data", "name": "HTTP", "properties": [{"name": "cbom:category", "value": "observed-protocol"}]},
        {"type": "device", "name": "192.0.2.50", "properties": [
            {"name": "cbom:category", "value": "observed-host"},
            {"name": "cdx:device:macAddress", "value": "00:1b:1b:12:34:56"}, {"name": "cbom:ipv4", "value": "192.0.2.50"}]},
        copy.deepcopy(_find(new, "zstd")),  # listed twice: a duplicate
    ]
    return old, new


def _bump_openssl(tmp_path: Path) -> Path:
    """Trivy's document after `yum update openssl-libs` (as test_diff_other_tools.py makes it)."""
    text = TRIVY.read_text(encoding="utf-8")
    new = (text.replace("openssl-libs@1.0.2k-16.el7", "openssl-libs@1.0.2k-19.el7")
               .replace('"version": "1.0.2k-16.el7"', '"version": "1.0.2k-19.el7"')
               .replace('"value": "16.el7"', '"value": "19.el7"'))
    p = tmp_path / "centos-7-after-update.json"
    p.write_text(new, encoding="utf-8")
    return p


# --------------------------------------------------------------------------- the check


def document_values(*paths: Path) -> List[str]:
    """Every value the two documents hold (longest first), as the diff prints them: names, versions,
    purls, refs, hashes, property names (whole and each `:` part) and values, host, tool, serial
    number, file names. Not the category of a component (`cbom:category`, which the diff names in
    its language), nor the texts cbom wrote to be translated (a collector's reason and gaps)."""
    out: Set[str] = set()

    def walk(x: object, key: str = "") -> None:
        if isinstance(x, dict):
            name, value = x.get("name"), x.get("value")
            if isinstance(name, str) and isinstance(value, str) and set(x) <= {"name", "value"}:  # a property
                if name == "cbom:category" or (name.startswith("cbom:collector:")
                                               and name.endswith((":reason", ":gap", ":status"))):
                    return
                out.update([value, name] + name.split(":") + [name.split(":", 1)[-1]])
                return
            for k, v in x.items():
                if k not in ("type", "bomFormat", "specVersion", "$schema", "status"):
                    walk(v, k)
        elif isinstance(x, list):
            for v in x:
                walk(v, key)
        elif isinstance(x, str):
            out.add(x)

    for path in paths:
        doc = _doc(path)
        walk(doc)
        out.update([str(path), path.name])
        for p in doc.get("metadata", {}).get("properties", []):
            if p["name"].startswith("cbom:collector:"):
                out.add(p["name"].split(":")[2])  # a collector's name
    return sorted((s for s in out if len(s.strip()) > 1), key=len, reverse=True)


def english_left(text: str, values: Iterable[str], catalogue: dict) -> Tuple[List[str], List[str], str]:
    """(English words, English catalogue texts) left in `text` outside the documents' values, and that rest."""
    rest = re.sub(r"`[^`]{0,300}`", " ", text)  # a command line quoted in a reason, as it was run
    whole = " ".join(rest.split())
    phrases = sorted(k for k, v in catalogue["messages"].items()
                     if v != k and " " in k.strip() and "{" not in k and k in whole)
    rest = without_values(rest, values)
    rest = re.sub(r"\S*/\S*", " ", rest)  # paths and URLs
    flat = " ".join(rest.split())
    words = sorted({w for w in re.findall(r"[\w-]+", flat) if re.fullmatch(r"[A-Za-z]+", w) and w.lower() in ENGLISH_WORDS}
                   # a category as JSON names it, looked for before the values are taken out (their
                   # property names hold its words: "cbom:protocol")
                   | {w for w in re.findall(r"[\w:./-]+", whole) if w in CATEGORY_IDS})
    return words, phrases, flat


def assert_french(text: str, values: List[str], what: str) -> None:
    words, phrases, rest = english_left(text, values, json.loads(CATALOGUE.read_text(encoding="utf-8")))
    assert not phrases, f"{what}: English texts left: {phrases[:10]}"
    assert not words, f"{what}: English words left: " + "; ".join(f"{w!r} in …{context(rest, w)}…" for w in words[:8])


def _diff(*argv: str) -> subprocess.CompletedProcess:
    """The real command, as an auditor runs it."""
    return subprocess.run([sys.executable, "-m", "cbom", "diff", *argv], capture_output=True, text=True,
                          encoding="utf-8", timeout=300, cwd=REPO)


def _pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True).stdout.decode("utf-8")


# --------------------------------------------------------------------------- real diffs


@pytest.fixture(scope="module")
def visit(tmp_path_factory) -> Dict[str, object]:
    """The next-visit diff in French, by the real command: text, HTML and PDF (read back)."""
    base = tmp_path_factory.mktemp("difffr")
    old, new = _next_visit()
    a, b = _write(base, "old.cdx.json", old), _write(base, "new.cdx.json", new)
    out: Dict[str, object] = {"old": a, "new": b, "values": document_values(a, b)}
    for fmt in ("text", "html"):
        proc = _diff(str(a), str(b), "--lang", "fr", "--format", fmt)
        assert (proc.returncode, proc.stderr) == (1, ""), proc.stderr
        out[fmt] = proc.stdout
    if shutil.which("pdftotext"):
        pdf = base / "diff.pdf"
        proc = _diff(str(a), str(b), "--lang", "fr", "--format", "pdf", "-o", str(pdf))
        assert proc.returncode == 1 and proc.stderr.startswith("PDF produit par "), proc.stderr  # its one line
        out["pdf"] = _pdf_text(pdf)
    return out


def test_french_text_of_real_changes(visit):
    """The terminal diff: every heading, label, category, notable change in French; no English left."""
    text = str(visit["text"])
    assert_french(text, visit["values"], "text")  # type: ignore[arg-type]
    lines = text.splitlines()
    assert lines[0].startswith(f"ANCIEN{NBSP}: ") and "inventorié le 23 novembre 2026 à 20:00:00 UTC" in lines[0]
    assert lines[1].startswith(f"NOUVEAU{NBSP}: ") and "inventorié le 1er décembre 2026 à 09:00:00 UTC" in lines[1]
    assert lines[0].endswith(", 33 composants") and lines[1].endswith(", 39 composants")
    for expected in (
        "Changements notables (12)",
        "version rétrogradée (micrologiciels) : CPU microcode 0x1000065 → 0x1000054",
        "matériel remplacé au même emplacement : numéro de série (vide) → S5GXNX0R812345",
        "Secure Boot désactivé (enabled → disabled)",
        "protocole jamais vu auparavant : S7comm (industriel)",
        "nouveau service en écoute tcp/502 (modbusd) sur 0.0.0.0",
        "interface eth0 : adresse MAC changée 02:fc:00:00:00:01 → 02:fc:00:00:00:99",
        "nouvel hôte sur le réseau : 192.0.2.50",
        "interface réseau disparue : lo",
        "version rétrogradée (logiciels) : openssl 3.0.19-1~deb12u2 → 3.0.11-1~deb12u1",
        "[RÉTROGRADATION]", "[mise à niveau]", "[reconstruction]",
        "fournisseur : Michael Stone → Debian",
        "propriété cbom:secure-boot : enabled → disabled",
        "NOUVEAU : logiciels pkg:deb/debian/zstd?arch=amd64 1.5.4+dfsg2-6 (2 fois)",
    ):
        assert expected.replace(" :", NBSP + ":") in text, expected
    # Columns laid out for the French labels: each count right under the end of its heading.
    head = next(line for line in lines if line.lstrip().startswith("catégorie"))
    assert head.split() == ["catégorie", "ajoutés", "supprimés", "modifiés"]
    total = next(line for line in lines if line.lstrip().startswith("total"))
    assert [m.end() for m in re.finditer(r"\S+", total)][1:] == [m.end() for m in re.finditer(r"\S+", head)][1:]
    assert re.search(r"^  ÉLEVÉE   protocoles observés  ", text, re.M)


def test_french_html_of_real_changes(visit):
    page = str(visit["html"])
    assert '<html lang="fr">' in page
    shown = html_text(page)
    assert_french(shown, visit["values"], "HTML")  # type: ignore[arg-type]
    for expected in ("Ce qui a changé depuis le dernier inventaire", "Changements notables (12)", "Synthèse",
                     "Gravité", "Catégorie", "Ajoutés", "Supprimés", "Modifiés", "[rétrogradation]",
                     "Composants en double", "services en écoute (+1 −0 ~0)"):
        assert expected in shown, expected
    assert f"empreinte SHA-256{NBSP}: (vide) → {'ab' * 32}" in shown
    assert "&#39;" in page or "'" not in shown  # French apostrophes are escaped like any text


@needs_poppler
@pytest.mark.slow
def test_french_pdf_of_real_changes(visit):
    text = str(visit["pdf"])
    assert_french(text, visit["values"], "PDF")  # type: ignore[arg-type]
    text = " ".join(text.split())  # lines wrapped where the page is full
    assert "Ce qui a changé depuis le dernier inventaire" in text and "Changements notables (12)" in text
    assert "1er décembre 2026 à 09:00:00 UTC" in text and "protocoles observés" in text


def test_json_stays_english(visit):
    """JSON is the machine format `cbom-diff/1`: byte for byte the same whatever the language."""
    a, b = str(visit["old"]), str(visit["new"])
    fr, en = _diff(a, b, "--lang", "fr", "--format", "json"), _diff(a, b, "--format", "json")
    assert fr.returncode == en.returncode == 1 and fr.stdout == en.stdout
    assert "firmware downgraded: CPU microcode 0x1000065 → 0x1000054" in fr.stdout


def test_english_is_unchanged_by_the_catalogue(visit):
    """`--lang en` is the default and prints the diff's English texts as they always were."""
    a, b = str(visit["old"]), str(visit["new"])
    for fmt in ("text", "html"):
        en, default = _diff(a, b, "--lang", "en", "--format", fmt), _diff(a, b, "--format", fmt)
        assert en.stdout == default.stdout
    text = _diff(a, b).stdout
    assert "Notable changes (12)" in text and ", 33 components" in text and "scanned 2026-12-01 09:00 UTC" in text
    assert "  category              added  removed  changed" in text


@pytest.mark.parametrize("pair", ["syft", "trivy", "cyclonedx-py", "cbom-vs-cyclonedx-py", "all-fields"])
def test_french_diff_of_other_tools_and_notes(pair, tmp_path):
    """Real Syft, Trivy and cyclonedx-py documents: the notes (categories not compared, collectors
    that did not run in one of the two) and every heading in French, in text and HTML."""
    if pair == "syft":
        a, b = SYFT_OLD, SYFT_NEW
    elif pair == "trivy":
        a, b = TRIVY, _bump_openssl(tmp_path)
    elif pair == "cyclonedx-py":
        a, b = VENV_A, VENV_B
    elif pair == "cbom-vs-cyclonedx-py":
        a, b = BASE, VENV_A
    else:  # --all: the document's own fields (serial number, timestamp) compared too
        old, new = _next_visit()
        a, b = _write(tmp_path, "old.json", old), _write(tmp_path, "new.json", new)
    extra = ["--all"] if pair == "all-fields" else []
    values = document_values(a, b)
    text = _diff(str(a), str(b), "--lang", "fr", *extra)
    page = _diff(str(a), str(b), "--lang", "fr", "--format", "html", *extra)
    assert text.returncode == page.returncode == 1 and text.stderr == page.stderr == ""
    assert_french(text.stdout, values, f"{pair} text")
    assert_french(html_text(page.stdout), values, f"{pair} HTML")
    if pair in ("syft", "trivy", "cyclonedx-py"):
        assert f"catégories non comparées{NBSP}: matériel, micrologiciels" in text.stdout
        assert f"catégories non comparées{NBSP}: matériel, micrologiciels" in html_text(page.stdout)
    if pair == "cbom-vs-cyclonedx-py":
        assert "matériel                               non comparé" in text.stdout
        assert f"non comparé{NBSP}: NOUVEAU (cyclonedx-py 7.5.0) n'a aucun composant «{NBSP}matériel{NBSP}»" in text.stdout
        assert f"collecteur os{NBSP}: ok dans l'ANCIEN, absent dans le NOUVEAU" in text.stdout
        assert "sans horodatage" in text.stdout
    if pair == "all-fields":
        assert f"numéro de série du document{NBSP}: urn:uuid:" in text.stdout


@needs_poppler
@pytest.mark.slow
def test_french_pdf_of_third_party_notes(tmp_path):
    pdf = tmp_path / "d.pdf"
    proc = _diff(str(SYFT_OLD), str(SYFT_NEW), "--lang", "fr", "--format", "pdf", "-o", str(pdf))
    assert proc.returncode == 1 and proc.stderr.startswith("PDF produit par "), proc.stderr
    text = _pdf_text(pdf)
    assert_french(text, document_values(SYFT_OLD, SYFT_NEW), "syft PDF")
    assert "catégories non comparées" in " ".join(text.split())


def test_errors_in_french_and_unknown_language(tmp_path):
    """An unknown `--lang` is a usage error (exit 2, one line), as for `cbom report`; the diff's own
    errors are said in the language asked for."""
    for lang in ("xx", "../fr"):
        proc = _diff(str(BASE), str(BASE), "--lang", lang)
        assert proc.returncode == 2 and proc.stdout == "", proc
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(f"cbom diff: --lang {lang}: "), proc.stderr
    other = _doc()
    other["metadata"]["component"]["name"] = "hmi-line-2"
    path = _write(tmp_path, "other.json", other)
    proc = _diff(str(BASE), str(path), "--lang", "fr")
    assert proc.returncode == 2 and proc.stderr == (
        f"cbom diff{NBSP}: {BASE} et {path} sont des inventaires de machines différentes{NBSP}: les noms d'hôte "
        "diffèrent (testhost contre hmi-line-2) (--force pour comparer quand même)\n")
    proc = _diff(str(BASE), str(path), "--lang", "fr", "--force")
    assert proc.returncode == 1
    assert (f"machines différentes (les noms d'hôte diffèrent (testhost contre hmi-line-2)){NNBSP}; "
            "comparées quand même (--force)") in proc.stdout
    proc = _diff(str(BASE), str(BASE), "--lang", "fr", "--format", "pdf")
    assert proc.returncode == 2 and proc.stderr.startswith(f"cbom diff{NBSP}: --format pdf nécessite -o FICHIER")


# --------------------------------------------------------------------------- the catalogue


def _real_diffs(tmp_path: Path) -> list:
    old, new = _next_visit()
    a, b = _write(tmp_path, "old.json", old), _write(tmp_path, "new.json", new)
    diffs = [diff_scans(read_scan(str(a)).scan, read_scan(str(b)).scan, old_side=read_scan(str(a)),
                        new_side=read_scan(str(b)), include_volatile=volatile) for volatile in (False, True)]
    for x, y in ((SYFT_OLD, SYFT_NEW), (BASE, VENV_A), (VENV_A, VENV_B), (TRIVY, TRIVY), (BASE, BASE)):
        so, sn = read_scan(str(x)), read_scan(str(y))
        diffs.append(diff_scans(so.scan, sn.scan, old_side=so, new_side=sn))
    return diffs


def test_catalogue_has_every_text_of_the_diff(tmp_path):
    """Every `_()` text of diff.html.j2 (read from its syntax tree), every label the writers look up
    while writing real diffs (text and HTML), and every generated text of those diffs (notable
    changes, notes, field names) is in fr.json."""
    messages = json.loads(CATALOGUE.read_text(encoding="utf-8"))["messages"]
    keys = template_texts(REPO / "templates", ("diff.html.j2",))
    assert len(keys) > 30
    # What the template translates from values: severities, categories, sides, version changes.
    keys |= {s.value for s in Severity} | {c.value for c in Category} | {"host", "finding", "old", "new"}
    keys |= {f"[{c}]" for c in ("upgrade", "downgrade", "rebuild", "same", "changed")} | {"[DOWNGRADE]"}
    assert not sorted(keys - set(messages))

    fr = translator("fr")
    rec = Recording(fr.catalogue)
    generated = set()
    for d in _real_diffs(tmp_path):
        write_text(d, rec)
        render_html(d, rec)
        generated |= {n.title for n in d.notable} | set(d.notes) | {c.note for c in d.categories if c.note}
        generated |= {f.field for f in d.host} | {f.field for c in d.categories for ch in c.changed for f in ch.fields}
    assert len(rec.seen) > 40
    assert not sorted(rec.seen - set(messages))
    left = sorted(t for t in generated if fr.generated(t) == t and t not in ("purl", "cpe", "version"))
    assert not left, left[:10]


def test_the_check_finds_english(tmp_path, monkeypatch):
    """With holes in the catalogue (a heading, a category and a notable change), the same check names
    what stayed English: it is not a check that passes whatever the diff says."""
    old, new = _next_visit()
    a, b = _write(tmp_path, "old.json", old), _write(tmp_path, "new.json", new)
    so, sn = read_scan(str(a)), read_scan(str(b))
    d = diff_scans(so.scan, sn.scan, old_side=so, new_side=sn)
    values = document_values(a, b)
    assert_french(write_text(d, translator("fr")), values, "complete catalogue")

    catalogue = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    holed = json.loads(json.dumps(catalogue))
    for key in ("Duplicated components (listed more than once in one file)", "observed-protocol"):
        del holed["messages"][key]
    del holed["patterns"]["new listening service {svc:text}"]
    folder = tmp_path / "templates"
    shutil.copytree(REPO / "templates", folder)
    (folder / "i18n" / "fr.json").write_text(json.dumps(holed, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("CBOM_TEMPLATES", str(folder))
    for shown in (write_text(d, translator("fr")), html_text(render_html(d, translator("fr")))):
        words, phrases, _rest = english_left(shown, values, catalogue)
        assert {"observed-protocol", "listening"} <= {w.lower() for w in words}, words
    words, phrases, _rest = english_left(write_text(d, translator("fr")), values, catalogue)
    assert "Duplicated components (listed more than once in one file)" in phrases


# --------------------------------------------------------------------------- the mechanism


def test_plural_and_lists():
    fr = translator("fr")
    en = i18n.Translator()
    assert [fr.plural(n, "{n} component", "{n} components") for n in (0, 1, 2, 12345)] == [
        "0 composant", "1 composant", "2 composants", f"12{NNBSP}345 composants"]
    assert [en.plural(n, "{n} component", "{n} components") for n in (0, 1, 2)] == [
        "0 components", "1 component", "2 components"]
    # `{x:list}`: each item of a ", " list translated; a name no catalogue knows kept as it is.
    assert fr.generated("categories not compared: hardware, crypto, my-own: neither OLD (syft 1.0) nor NEW "
                        "(another tool) has components of these categories") == (
        f"catégories non comparées{NBSP}: matériel, cryptographie, my-own{NBSP}: ni l'ANCIEN (syft 1.0) ni le "
        "NOUVEAU (un autre outil) n'a de composant de ces catégories")
    assert en.generated("hardware swapped in the same place: name a → b") == "hardware swapped in the same place: name a → b"
