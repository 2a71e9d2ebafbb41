"""The report in French (`--lang fr`, templates/i18n/fr.json): real scans rendered, read back, no English left.

Three real scans, made by the CLI as a user makes them: this machine (`cbom scan --skip capture`), a
recorded French Windows 7 (`cbom ingest` of ../shared/fixtures/windows/wesng-7-sp1-x64-fr) and the
plant capture (`--pcap`, so capture findings appear). Each is rendered to French HTML and PDF by
`cbom report --lang fr`; the PDF is read back with `pdftotext`. In what is left once every collected
value (component names, versions, properties, evidence, quoted command lines) is taken out, no English
word of cbom's vocabulary may remain: neither a catalogue text whose French differs, nor a common English
word. `test_the_check_finds_english` shows the check failing on a catalogue with holes.
"""
from __future__ import annotations

import html as htmllib
import json
import re
import shutil
import subprocess
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Set, Tuple

import pytest
from conftest import REPO, SHARED, assert_finished_without_failure, run_cbom

from cbom import cyclonedx, i18n, output, report

CATALOGUE = REPO / "templates" / "i18n" / "fr.json"
PLANT = REPO / "tests" / "fixtures" / "capture" / "plant_mixed_modbus_s7comm_enip_profinet_lldp.pcap"
WINDOWS_FR = SHARED / "fixtures" / "windows" / "wesng-7-sp1-x64-fr"
NNBSP, NBSP = "\u202f", "\u00a0"

needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) not installed")

# Common English words of cbom's own sentences and labels. None may be left as a whole word in the
# French text once the collected values are removed. Words French spells the same are left out
# (total, site, mode, version, type, info, ok, page, source, date, capture, interfaces, services…).
ENGLISH_WORDS = frozenset("""
the and not of with from to by is are was were this that for collected collector collectors gaps gap found
read seen packets packet bytes recorded missing unknown cannot could only none has have been which when
every each its it at be after before than scan report summary hardware software firmware findings finding
devices hosts flows statistics evidence concerns method glossary tool status reason duration components
name vendor details address addresses host observed listening installed operating system network contents
category severity kind state user process first last peers identity serves release age years runs model
manufacturer serial number operator given started finished filter rows more shortened characters values
dropped kernel queue analysed received time times largest top talkers left chart share others other
unnamed incomplete partial skipped failed critical high medium low shipped copy dissector failed kept
""".split())
# Proper names quoted inside a translated text (the pci.ids/usb.ids headers name their source).
PROPER_NAMES = ("The PCI ID Repository", "The Linux USB ID Repository", "SecurityPolicy None")


def _catalogue() -> dict:
    return json.loads(CATALOGUE.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- the check


def html_text(page: str) -> str:
    """What a reader of the HTML sees: no head, style or script; tags removed, entities decoded."""
    page = re.sub(r"<head>.*?</head>|<style>.*?</style>|<script>.*?</script>", " ", page, flags=re.S)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", page))


def collected_values(doc: dict) -> List[str]:
    """Every value the CBOM holds as collected (longest first): component fields and properties,
    property names as the report prints them (`cbom:` dropped, each `:` part), finding evidence.
    Not the texts cbom itself wrote for the report to translate: run reasons and gaps, finding
    titles and details (CycloneDX `description`/`detail` of a vulnerability)."""
    out = set()

    def walk(x: object) -> None:
        if isinstance(x, dict):
            name, value = x.get("name"), x.get("value")
            if isinstance(name, str) and isinstance(value, str):  # a property
                if name.startswith("cbom:collector:") and name.endswith((":reason", ":gap")):
                    return
                out.update([value, name] + name.split(":") + [name.split(":", 1)[-1]])
                return
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
        elif isinstance(x, str):
            out.add(x)

    walk(doc.get("components", []))
    walk(doc.get("metadata", {}).get("component", {}))
    walk(doc.get("metadata", {}).get("properties", []))
    # The scan's serial number, printed on the cover: random hex, which can spell "be" or "face".
    walk(doc.get("serialNumber", ""))
    for p in doc.get("metadata", {}).get("properties", []):
        if p["name"].startswith("cbom:collector:"):
            out.add(p["name"].split(":")[2])  # the collector's name
    for v in doc.get("vulnerabilities", []):
        walk(v.get("properties", []))  # the evidence
        walk(v.get("affects", []))
    out.update(PROPER_NAMES)
    # An area named in "the {area} collector did not run" (a collector's name, an identifier).
    out.update(f"le collecteur {area}" for area in ("hardware", "firmware", "software", "network", "os", "capture"))
    return sorted((s for s in out if len(s.strip()) > 1), key=len, reverse=True)


def without_values(text: str, values: Iterable[str]) -> str:
    """`text` with every collected value blanked out. Whitespace and hyphens are ignored in the
    comparison: the PDF wraps a long value over lines (and pdftotext joins a word cut at a hyphen).
    A short all-letter value ("tcp", "file") is removed as a whole word only."""
    values = list(values)
    keep = [i for i, ch in enumerate(text) if not ch.isspace() and ch != "-"]
    squashed = "".join(text[i] for i in keep)
    dead = bytearray(len(squashed))
    for value in values:
        sv = re.sub(r"[\s-]+", "", value)
        if not sv or re.fullmatch(r"[A-Za-z]{1,5}", value):
            continue
        spans, start = [], 0
        while True:
            at = squashed.find(sv, start)
            if at < 0:
                break
            spans.append((at, at + len(sv)))
            start = at + 1
        for a, b in spans:
            dead[a:b] = b"\x01" * (b - a)
    chars = list(text)
    for j, i in enumerate(keep):
        if dead[j]:
            chars[i] = " "
    text = "".join(chars)
    for value in values:  # then the short words, where the spaces still separate them
        if re.fullmatch(r"[A-Za-z]{1,5}", value):
            text = re.sub(rf"(?<![A-Za-z]){value}(?![A-Za-z])", " " * len(value), text)
    return text


def without_fragments(text: str, blanked: str, values: Iterable[str]) -> str:
    """`blanked` (`text` once `without_values` took the values out, same length) without the pieces
    of collected values it could not find whole. A long value wrapped inside a column of a PDF
    table (a certificate's issuer, a unit's description) comes out of pdftotext one piece per
    line, with the cells printed beside it in between, and a piece may share its line with a
    piece of the next cell: the longest start and the longest end of such a line of `text` that
    are a piece of one collected value are blanked. Only lines where `blanked` still holds a word
    of ENGLISH_WORDS are looked at."""
    blob = "\x00".join(re.sub(r"[\s-]+", "", v) for v in values)

    def piece(words: List[str]) -> bool:
        squashed = re.sub(r"[\s-]+", "", "".join(words))
        return len(squashed) >= 3 and re.search(r"[A-Za-z]", squashed) is not None and squashed in blob

    out = []
    for line, done in zip(text.split("\n"), blanked.split("\n")):
        if {w.lower() for w in re.findall(r"[A-Za-z]+", done)} & ENGLISH_WORDS:
            spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", line)]
            words = [line[a:b] for a, b in spans]
            end = next((k for k in range(len(words)) if piece(words[k:])), len(words))
            start = next((k for k in range(end, 0, -1) if piece(words[:k])), 0)
            keep = spans[start:end]
            done = "".join(ch if any(a <= j < b for a, b in keep) else (" " if ch.strip() else ch)
                           for j, ch in enumerate(done)) if keep != spans else done
        out.append(done)
    return "\n".join(out)


def english_left(text: str, doc: dict, catalogue: dict, wrapped: bool = False) -> Tuple[List[str], List[str], str]:
    """(English words, English catalogue texts) left in `text` outside collected values, and that rest.
    `wrapped`: `text` is a PDF's, whose table columns wrap long values (see `without_fragments`)."""
    rest = re.sub(r"`[^`]{0,300}`", " ", text)  # a command line quoted in a reason, as it was run
    rest = re.sub(r"cbom\s+report\s+cbom\.cdx\.json", " ", rest)  # a command to type, in the method
    # Catalogue texts of two words or more whose French differs (a one-word text is covered by the
    # words below), looked for before the values are taken out (a value may be a word of them).
    whole = " ".join(rest.split())
    phrases = sorted(k for k, v in catalogue["messages"].items()
                     if v != k and " " in k.strip() and "{" not in k and k in whole)
    values = collected_values(doc)
    blanked = without_values(rest, values)
    rest = without_fragments(rest, blanked, values) if wrapped else blanked
    rest = re.sub(r"\S*/\S*", " ", rest)  # paths and URLs
    flat = " ".join(rest.split())
    # Words of letters only: "lsb-release", "win32_operatingsystem" and "SecurityPolicy" are names.
    words = sorted({w for w in re.findall(r"[\w-]+", flat) if re.fullmatch(r"[A-Za-z]+", w) and w.lower() in ENGLISH_WORDS})
    return words, phrases, flat


def context(rest: str, word: str) -> str:
    m = re.search(rf"\b{re.escape(word)}\b", rest)
    return rest[max(0, m.start() - 80): m.end() + 40] if m else ""


def assert_french(text: str, doc: dict, catalogue: dict, what: str, wrapped: bool = False) -> None:
    words, phrases, rest = english_left(text, doc, catalogue, wrapped)
    assert not phrases, f"{what}: English texts left: {phrases[:10]}"
    assert not words, f"{what}: English words left: " + "; ".join(f"{w!r} in …{context(rest, w)}…" for w in words[:8])


# --------------------------------------------------------------------------- real scans


def _rendered(out: Path) -> Dict[str, object]:
    """`cbom report --lang fr` of out/cbom.cdx.json: the HTML, the PDF's text, and the JSON."""
    rendered = out / "fr"
    proc = run_cbom("report", str(out / "cbom.cdx.json"), "--lang", "fr", "--format", "html,pdf", "-o", str(rendered))
    assert proc.returncode == 0, proc.stderr[-2000:]
    pdf_text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(rendered / "cbom.pdf"), "-"],
                              capture_output=True, check=True).stdout.decode("utf-8")
    return {"doc": json.loads((out / "cbom.cdx.json").read_text(encoding="utf-8")),
            "html": (rendered / "cbom.html").read_text(encoding="utf-8"), "pdf": pdf_text, "dir": rendered}


@pytest.fixture(scope="module")
def scans(tmp_path_factory) -> Dict[str, Dict[str, object]]:
    """The three real scans, each rendered in French."""
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils (pdftotext) not installed")
    base = tmp_path_factory.mktemp("fr")
    out: Dict[str, Dict[str, object]] = {}
    proc = run_cbom("scan", "--skip", "capture", "--format", "json", "-o", str(base / "machine"), "--operator", "pytest")
    assert_finished_without_failure(proc.returncode, json.loads((base / "machine" / "cbom.cdx.json").read_text()), proc.stderr)
    out["machine"] = _rendered(base / "machine")
    if PLANT.is_file():
        proc = run_cbom("scan", "--only", "capture", "--pcap", str(PLANT), "--format", "json", "-o", str(base / "plant"))
        assert proc.returncode == 0, proc.stderr[-2000:]
        out["plant"] = _rendered(base / "plant")
    if WINDOWS_FR.is_dir():
        proc = run_cbom("ingest", str(WINDOWS_FR), "--format", "json", "-o", str(base / "windows"))
        assert proc.returncode in (0, 3), proc.stderr[-2000:]
        out["windows"] = _rendered(base / "windows")
    return out


@pytest.mark.slow
@pytest.mark.live
@needs_poppler
@pytest.mark.parametrize("name", ["machine", "plant", "windows"])
def test_french_report_has_no_english_left(scans, name):
    """HTML and PDF: no English catalogue text, no common English word outside collected values."""
    if name not in scans:
        pytest.skip(f"{name}: its recording or capture is not present here")
    rep, catalogue = scans[name], _catalogue()
    assert_french(html_text(str(rep["html"])), rep["doc"], catalogue, f"{name} HTML")
    assert_french(str(rep["pdf"]), rep["doc"], catalogue, f"{name} PDF", wrapped=True)


@pytest.mark.slow
@pytest.mark.live
@needs_poppler
def test_every_generated_text_of_the_real_scans_is_translated(scans):
    """Each collection gap, run reason, finding title and explanation these real scans hold has a
    French pattern: a text left English would show here by name, before the word check."""
    translator = i18n.Translator(i18n.load_catalogue(str(report.templates_dir()), "fr"))
    texts = set()
    for rep in scans.values():
        doc = rep["doc"]
        for p in doc["metadata"].get("properties", []):
            if p["name"].startswith("cbom:collector:") and p["name"].endswith((":reason", ":gap")) and p["value"]:
                texts.add(p["value"])
        for v in doc.get("vulnerabilities", []):
            texts.update(t for t in (v.get("description", ""), v.get("detail", "")) if t)
    assert len(texts) > 10
    left = sorted(t for t in texts if translator.generated(t) == t)
    assert not left, left[:10]

    # Translated whole, not only in part (a pattern of punctuation alone, "{path}: {why:text}",
    # translates the error at the end of a gap no pattern of its own knows). The collected values a
    # text quotes (a certificate's name and fingerprint in a finding's title) are left out first.
    values = sorted({v for rep in scans.values() for v in collected_values(rep["doc"])}, key=len, reverse=True)

    def english(text: str) -> List[str]:  # words of letters only, as english_left reads them
        text = re.sub(r"\S*/\S*", " ", without_values(re.sub(r"`[^`]*`", " ", text), values))
        return [w for w in re.findall(r"[\w-]+", text) if re.fullmatch(r"[A-Za-z]+", w) and w.lower() in ENGLISH_WORDS]

    partly = {t: english(translator.generated(t)) for t in texts if english(translator.generated(t))}
    assert not partly, list(partly.items())[:5]


@pytest.mark.slow
@pytest.mark.live
@needs_poppler
def test_french_conventions_in_the_pdf(scans):
    """Dates, numbers, page numbers and punctuation as French writes them; accents printed."""
    rep = scans["machine"]
    text, doc = str(rep["pdf"]), rep["doc"]
    started = datetime.fromisoformat(doc["metadata"]["timestamp"].replace("Z", "+00:00")).astimezone(timezone.utc)
    day = "1er" if started.day == 1 else str(started.day)
    assert f"{day} {i18n.MONTHS_FR[started.month - 1]} {started.year} à {started:%H:%M:%S} UTC" in text
    assert re.search(r"Page 1 sur \d+", text)
    assert "Synthèse" in text and "Système d'exploitation" in text and "Éléments cryptographiques" in text
    total = len(doc["components"])
    # 1 042: a narrow no-break space in the HTML; pdftotext prints it as a space (as the NBSP below).
    assert total < 1000 or f"{total:,}".replace(",", " ") in text
    assert total < 1000 or f"{total:,}".replace(",", NNBSP) in html_text(str(rep["html"]))
    assert "État de l'inventaire : partiel" in text or "État de l'inventaire : ok" in text
    assert re.search(r"\b0,\d\d\b", text)  # durations with a decimal comma
    html = str(rep["html"])
    assert '<html lang="fr">' in html
    assert f"État de l'inventaire{NBSP}:" in html_text(html)  # a no-break space before the colon (pdftotext prints a space)


# --------------------------------------------------------------------------- the check can fail


def test_the_check_finds_english(tmp_path, monkeypatch):
    """With holes in the catalogue (a heading and a finding's title), the same check
    names what stayed English: it is not a check that passes whatever the report says."""
    if not PLANT.is_file():
        pytest.skip(f"{PLANT} missing")
    out = tmp_path / "plant"
    proc = run_cbom("scan", "--only", "capture", "--pcap", str(PLANT), "--format", "json", "-o", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = (out / "cbom.cdx.json").read_text(encoding="utf-8")
    document = output.Document(cyclonedx.load(str(out / "cbom.cdx.json")), json.loads(text), text)
    doc, catalogue = json.loads(text), _catalogue()
    complete = report.render_html(document, lang="fr").decode("utf-8")
    assert_french(html_text(complete), doc, catalogue, "complete catalogue")

    holed = json.loads(json.dumps(catalogue))
    for key in ("Collection gaps", "Modbus write operations seen"):
        del holed["messages"][key]
    folder = tmp_path / "templates"
    shutil.copytree(report.templates_dir(), folder)
    (folder / "i18n" / "fr.json").write_text(json.dumps(holed, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("CBOM_TEMPLATES", str(folder))
    page = html_text(report.render_html(document, lang="fr").decode("utf-8"))
    words, phrases, _rest = english_left(page, doc, catalogue)
    assert {"Collection gaps", "Modbus write operations seen"} <= set(phrases)
    assert {"gaps", "seen"} <= {w.lower() for w in words}


def template_texts(folder: Path, names: Iterable[str]) -> Set[str]:
    """The text of every `_("…")` call of the templates `names` of `folder`, read from their syntax
    tree (a `_(value)` call, whose text is a value, is left out: its values are checked apart)."""
    import jinja2
    import jinja2.ext

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)))
    keys = set()
    for name in names:
        source = (folder / name).read_text(encoding="utf-8")
        for _line, _func, msg in jinja2.ext.extract_from_ast(env.parse(source), gettext_functions=("_",)):
            first = msg if isinstance(msg, str) or msg is None else msg[0]
            if first:
                keys.add(first)
    return keys


class Recording(i18n.Translator):
    """A translator that notes every text it is asked for in `seen` (a set the caller may share)."""

    def __init__(self, catalogue: Optional[i18n.Catalogue] = None, seen: Optional[Set[str]] = None) -> None:
        super().__init__(catalogue)
        self.seen = set() if seen is None else seen

    def __call__(self, text: str, **fields: object) -> str:
        self.seen.add(text)
        return super().__call__(text, **fields)


def test_catalogue_has_every_text_of_the_templates_and_the_view():
    """Every `_()` text of the templates (read from their syntax tree) and every label the view-model
    translates while rendering a real report is in fr.json."""
    messages = _catalogue()["messages"]
    keys = template_texts(report.templates_dir(),
                          ("report.html.j2", "macros.html.j2", "report-print.css", "report-browser.css"))
    assert len(keys) > 100
    keys |= {"ok", "partial", "skipped", "failed", "critical", "high", "medium", "low", "info", "none", "unknown"}
    assert not sorted(keys - set(messages))

    # The view's labels: record every text looked up while a real scan (recorded, so the same
    # everywhere) is rendered, PDF and HTML.
    from cbom._report_view import build_view

    seen: Set[str] = set()
    sys_path = REPO / "tests" / "fixtures" / "report"
    import sys

    sys.path.insert(0, str(sys_path))
    import realistic

    for scan in (realistic.sparse_scan(), realistic.large_scan()):
        document, _errors = output.build(scan)
        for pdf in (True, False):
            build_view(document.scan, "0" * 64, pdf=pdf, translate=Recording(seen=seen))
    assert len(seen) > 45
    assert not sorted(seen - set(messages))


# --------------------------------------------------------------------------- the mechanism


@pytest.fixture(scope="module")
def fr() -> i18n.Translator:
    return i18n.Translator(i18n.load_catalogue(str(report.templates_dir()), "fr"))


def test_numbers_and_dates(fr):
    en = i18n.Translator()
    assert en.number(12345) == "12,345" and fr.number(12345) == f"12{NNBSP}345"
    assert en.decimal(1.5, 2) == "1.50" and fr.decimal(1.5, 2) == "1,50"
    assert fr.date(date(2019, 4, 15)) == "15 avril 2019" and fr.date(date(2026, 12, 1)) == "1er décembre 2026"
    assert fr.short_date(date(2019, 4, 5)) == "05/04/2019" and en.short_date(date(2019, 4, 5)) == "2019-04-05"
    when = datetime(2026, 12, 1, 17, 38, 5, tzinfo=timezone.utc)
    assert en.time(when) == "2026-12-01 17:38:05 UTC"
    assert fr.time(when) == "1er décembre 2026 à 17:38:05 UTC"


def test_patterns_keep_collected_values_and_nest(fr):
    # The gap keeps its values; the command's error inside it is translated too.
    assert fr.generated("dmidecode gave no SMBIOS table (`dmidecode` exited 1: /dev/mem: No such file or directory): "
                        "memory modules and slots not collected") == (
        f"dmidecode n'a fourni aucune table SMBIOS (`dmidecode` s'est terminée avec le code 1{NBSP}: /dev/mem{NBSP}: "
        f"Fichier ou dossier inexistant){NBSP}: modules mémoire et emplacements non collectés")
    # A run's reason: "N gaps: first; …", with the count as a French number.
    assert fr.generated("1234 gaps: fwupd devices not listed (fwupd daemon not running); …") == (
        f"1{NNBSP}234 lacunes{NBSP}: périphériques fwupd non listés (le démon fwupd ne fonctionne pas){NNBSP}; …")
    # A finding's detail: the known explanation, then the occurrence (a pattern of its own).
    assert fr.generated("SMBv1 is deprecated and was the vector of WannaCry/NotPetya; disable it where possible. "
                        "SMBv1 between 10.0.0.1 and 10.0.0.2").endswith("SMBv1 entre 10.0.0.1 et 10.0.0.2")
    # Collected "name: value" evidence is left exactly as collected (no pattern translates a part of it).
    assert fr.generated("retbleed: Vulnerable") == "retbleed: Vulnerable"
    assert fr.generated("something no pattern knows") == "something no pattern knows"
    # English is the identity.
    assert i18n.Translator().generated("fwupd devices not listed (fwupd daemon not running)") == \
        "fwupd devices not listed (fwupd daemon not running)"


def test_a_broken_catalogue_is_refused(tmp_path):
    (tmp_path / "i18n").mkdir()
    (tmp_path / "i18n" / "xx.json").write_text('{"patterns": {"a {x} b": "c {y} d"}}', encoding="utf-8")
    with pytest.raises(ValueError, match="does not match"):
        i18n.load_catalogue(str(tmp_path), "xx")
    (tmp_path / "i18n" / "xy.json").write_text('{"messages": {"a": 1}}', encoding="utf-8")
    with pytest.raises(ValueError, match="not an object of strings"):
        i18n.load_catalogue(str(tmp_path), "xy")


def test_translate_message_for_the_command_line():
    """The lead's hook for the CLI's stderr lines: known lines in French, columns kept, others as they are."""
    folder = str(report.templates_dir())
    assert i18n.translate_message("not fully collected:", "fr", folder) == f"collecte incomplète{NBSP}:"
    line = "  software.kmod     partial  kernel modules: cannot read /proc/modules: No such file or directory"
    assert i18n.translate_message(line, "fr", folder) == (
        f"  software.kmod     partiel  modules du noyau{NBSP}: impossible de lire /proc/modules{NBSP}: "
        "Fichier ou dossier inexistant")
    assert i18n.translate_message("something else", "fr", folder) == "something else"
    assert i18n.translate_message("not fully collected:", "en", folder) == "not fully collected:"


def test_scan_says_its_progress_in_french(tmp_path):
    """`cbom scan --lang fr`: the command's own stderr lines are French; collector names stay."""
    proc = run_cbom("scan", "--only", "os,network", "--lang", "fr", "--format", "json,html", "-o", str(tmp_path))
    assert proc.returncode in (0, 3), proc.stderr
    err = proc.stderr
    assert "inventaire de" in err and "écrit dans" in err and "composants" in err, err
    for english in ("scanning", "components", "wrote ", "not fully collected"):
        assert english not in err, (english, err)
    assert "os.linux" in err  # a collector's name is not translated
    bad = run_cbom("report", str(tmp_path / "missing.cdx.json"), "--lang", "fr", "--format", "html")
    assert bad.returncode == 2 and "cbom report" in bad.stderr


GOLDENS = sorted((REPO / "tests" / "golden").glob("*/*.json"))


@pytest.mark.slow
@pytest.mark.skipif(not GOLDENS, reason="no golden CBOM in tests/golden")
def test_every_golden_cbom_in_french():
    """The golden CBOMs of every shared recorded machine and capture (tests/golden: their components
    and findings; the collector runs are normalised out) rendered in French: no English left."""
    catalogue, left = _catalogue(), {}
    for path in GOLDENS:
        text = path.read_text(encoding="utf-8")
        document = output.Document(cyclonedx.load(str(path)), json.loads(text), text)
        page = html_text(report.render_html(document, lang="fr").decode("utf-8"))
        words, phrases, rest = english_left(page, json.loads(text), catalogue)
        if words or phrases:
            left[path.name] = (phrases[:3], [context(rest, w) for w in words[:3]])
    assert len(GOLDENS) > 50
    assert not left, list(left.items())[:5]


@pytest.mark.slow
def test_french_numbers_sort_by_value_in_the_html(tmp_path):
    """The HTML page sorts a column of French numbers ("13 472", "1 749 800") by their value:
    a click on "Octets" in a real browser (Debian's chromium, installed by .ci/setup)."""
    browser = shutil.which("chromium")
    if browser is None:
        pytest.fail("chromium is installed by .ci/setup")
    golden = REPO / "tests" / "golden" / "capture" / "plant_mixed_modbus_s7comm_enip_profinet_lldp.json"
    proc = run_cbom("report", str(golden), "--lang", "fr", "--format", "html", "-o", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    probe = """<script>
      var t = document.getElementById("t-protocols"), ths = t.tHead.rows[0].cells, col = -1;
      for (var i = 0; i < ths.length; i++) { if (ths[i].textContent === "Octets") { col = i; } }
      ths[col].click();
      var v = Array.prototype.map.call(t.tBodies[0].rows, function (r) { return r.cells[col].textContent; });
      document.body.setAttribute("data-sorted", v.join("|"));
    </script></body>"""
    page = tmp_path / "probe.html"
    page.write_text((tmp_path / "cbom.html").read_text(encoding="utf-8").replace("</body>", probe), encoding="utf-8")
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'p'}",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    shown = htmllib.unescape(re.search(r'data-sorted="([^"]*)"', dom).group(1)).split("|")
    values = [int(re.sub(r"\s", "", v)) for v in shown if v.strip()]
    assert len(values) > 10 and max(values) >= 1_000_000  # numbers grouped by no-break spaces
    assert values == sorted(values), shown  # before: "1 749 800" read as 1
