"""Translations: the catalogues of `templates/i18n/`, French numbers and dates, and generated texts.

A catalogue `<lang>.json` is either a flat object (English text -> translation) or an object with
`"messages"` (the same mapping) and `"patterns"`. The report's own texts are looked up whole in
`messages`. Texts collectors wrote at scan time (a collection gap, a run's reason, a finding's title
and detail) are stored in English in the CBOM, which stays the record; they are translated when the
report is rendered by `patterns`: an English template whose `{placeholders}` stand for the collected
values, matched against the whole text, and its translation. A placeholder is kept as it was
collected (`{path}`), translated again as a generated text (`{why:text}`: a command's error inside a
gap), a list joined by ", " whose items are each translated so (`{names:list}`), or printed as a number
in the language's convention (`{n:n}`, whole or decimal). A text no pattern matches stays
English, as collected. `Translator.plural` picks a count's singular or plural text by the language's
rule (English: 1 only; French: 0 and 1, "0 composant", "2 composants").

French conventions (Imprimerie nationale, "Lexique des règles typographiques", and the CLDR `fr`
locale): a narrow no-break space (U+202F) groups thousands (12 345) and goes before `; ! ?`, a
no-break space (U+00A0) before `:` and `%` and inside « guillemets »; decimal comma (1,5 s);
dates "1er décembre 2026". The catalogue is written with ordinary spaces; `typography()` puts the
right space in when it is loaded, so the JSON stays easy to edit.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
import datetime as _dt
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Pattern, Tuple

__all__ = [
    "Catalogue", "Translator", "load_catalogue", "translate_message", "typography", "LANGS_DIR",
]

LANGS_DIR = "i18n"
NBSP = "\u00a0"   # no-break space: before ":" and "%", inside « »
NNBSP = "\u202f"  # narrow no-break space: thousands, before ";", "!", "?"
MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
             "novembre", "décembre")
_PLACEHOLDER = re.compile(r"\{(\w+)(?::(\w+))?\}")
_MAX_DEPTH = 6  # generated texts nest (a gap quoting a command's error): a bound, never a loop


def typography(text: str, lang: str) -> str:
    """`text` (a translation, never a collected value) with the spaces its language's punctuation needs."""
    if lang != "fr":
        return text
    text = re.sub(r" ([:%])", NBSP + r"\1", text)
    text = re.sub(r" ([;!?])", NNBSP + r"\1", text)
    return text.replace("« ", "«" + NBSP).replace(" »", NBSP + "»")


@dataclass(frozen=True)
class _Rule:
    """One pattern of a catalogue: the English template compiled, and its translation."""

    regex: Pattern[str]
    kinds: Tuple[Tuple[str, str], ...]  # (placeholder, kind): "" kept, "text"/"list" translated, "n" a number
    target: str
    weight: int  # characters of literal text: the most specific pattern is tried first
    # Only punctuation between the placeholders ("{path}: {why:text}"): the rule applies only when it
    # translated something, so a collected "name: value" keeps its own spacing.
    bare: bool = False


@dataclass(frozen=True)
class Catalogue:
    """A language's catalogue, loaded and checked."""

    lang: str
    messages: Dict[str, str]
    rules: Tuple[_Rule, ...] = ()
    sentences: Tuple[str, ...] = ()  # message keys that are whole sentences (a finding's explanation)


def _compile(english: str, target: str, where: str) -> _Rule:
    parts: List[str] = []
    kinds: List[Tuple[str, str]] = []
    pos = weight = 0
    for m in _PLACEHOLDER.finditer(english):
        literal = english[pos:m.start()]
        parts.append(re.escape(literal))
        weight += len(literal)
        name, kind = m.group(1), m.group(2) or ""
        if kind not in ("", "text", "list", "n"):
            raise ValueError(f"{where}: pattern {english!r}: unknown placeholder kind {kind!r}")
        if name in dict(kinds):
            raise ValueError(f"{where}: pattern {english!r}: placeholder {{{name}}} twice")
        kinds.append((name, kind))
        if kind == "n":
            parts.append(rf"(?P<{name}>-?\d[\d,]*(?:\.\d+)?)")
        elif literal.endswith("`"):  # a quoted command line: never past its closing backquote
            parts.append(rf"(?P<{name}>[^`]*?)")
        else:
            parts.append(rf"(?P<{name}>.*?)")
        pos = m.end()
    parts.append(re.escape(english[pos:]))
    weight += len(english) - pos
    unknown = {n for n, _k in _PLACEHOLDER.findall(target)} - {n for n, _k in kinds}
    if unknown:
        raise ValueError(f"{where}: pattern {english!r}: its translation uses {sorted(unknown)} it does not match")
    literal = _PLACEHOLDER.sub("", english)
    return _Rule(re.compile("".join(parts), re.DOTALL), tuple(kinds), target, weight,
                 bare=not re.search(r"[^\W\d_]", literal))


@lru_cache(maxsize=8)
def load_catalogue(folder: str, lang: str) -> Catalogue:
    """The catalogue `<folder>/i18n/<lang>.json` (English: empty). ValueError (one line) when unusable."""
    if lang == "en":
        return Catalogue("en", {})
    if not re.fullmatch(r"[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})?", lang):  # a language tag, never a path
        raise ValueError(f"{lang!r} is not a language code such as en or fr")
    path = Path(folder) / LANGS_DIR / f"{lang}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"no report translation for language {lang!r} ({path} missing)") from None
    except (OSError, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ValueError(f"the report translation {path} cannot be read: {exc}") from None
    if isinstance(data, dict) and all(isinstance(v, str) for v in data.values()):
        data = {"messages": data}  # the flat form: messages only
    messages: Any = data.get("messages", {}) if isinstance(data, dict) else None
    patterns: Any = data.get("patterns", {}) if isinstance(data, dict) else None
    for part in (messages, patterns):
        if not isinstance(part, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in part.items()):
            raise ValueError(f"the report translation {path} is not an object of strings "
                             "(or of \"messages\" and \"patterns\" objects of strings)")
    lang = lang.lower()
    messages = {k: typography(v, lang) for k, v in messages.items()}
    rules = tuple(sorted((_compile(k, typography(v, lang), str(path)) for k, v in patterns.items()),
                         key=lambda r: -r.weight))
    sentences = tuple(sorted((k for k in messages if k.endswith((".", ")")) and " " in k), key=len, reverse=True))
    return Catalogue(lang, messages, rules, sentences)


class Translator:
    """The texts, numbers and dates of one report in one language (English: as they always were)."""

    def __init__(self, catalogue: Optional[Catalogue] = None) -> None:
        self.catalogue = catalogue or Catalogue("en", {})
        self.lang = self.catalogue.lang
        self.french = self.lang.split("-")[0].split("_")[0] == "fr"

    def __call__(self, text: str, **fields: Any) -> str:
        """A text of the report itself (`_()` of the templates), its `{fields}` filled in."""
        text = self.catalogue.messages.get(text, text)
        return text.format(**fields) if fields else text

    # --- generated texts -------------------------------------------------------------------------

    def generated(self, text: str) -> str:
        """A text a collector wrote at scan time, translated by the catalogue's patterns (else as it is)."""
        if not text or not self.catalogue.messages and not self.catalogue.rules:
            return text
        return self._generated(text, 0)

    def _generated(self, text: str, depth: int) -> str:
        found = self.catalogue.messages.get(text)
        if found is not None:
            return found
        if depth > _MAX_DEPTH:
            return text
        # A finding's detail: the kind's explanation (a known sentence), then what this occurrence saw.
        for sentence in self.catalogue.sentences:
            if text.startswith(sentence + " "):
                return self.catalogue.messages[sentence] + " " + self._generated(text[len(sentence) + 1:], depth + 1)
        for rule in self.catalogue.rules:
            m = rule.regex.fullmatch(text)
            if m:
                values = {}
                changed = False
                for name, kind in rule.kinds:
                    value = m.group(name)
                    if kind == "text":
                        value = self._generated(value, depth + 1)
                        changed = changed or value != m.group(name)
                    elif kind == "list":
                        value = ", ".join(self._generated(v, depth + 1) for v in value.split(", "))
                        changed = changed or value != m.group(name)
                    elif kind == "n":
                        value = self.numeral(value)
                    values[name] = value
                if rule.bare and not changed:
                    continue
                return _PLACEHOLDER.sub(lambda mm, v=values: v[mm.group(1)], rule.target)  # type: ignore[misc]
        # A run's reason joins its gap and its notes with "; ": each part on its own.
        parts = text.split("; ")
        if len(parts) > 1:
            done = [self._generated(p, depth + 1) for p in parts]
            if done != parts:
                return (NNBSP + "; " if self.french else "; ").join(done)
        return text

    def plural(self, n: int, one: str, many: str, **fields: Any) -> str:
        """The text of a count `n` (`{n}` in it, printed as `number`), singular or plural by the
        language's rule: English uses `one` for 1 only, French for 0 and 1 (CLDR `fr`: "0 composant")."""
        singular = n in (0, 1) if self.french else n == 1
        return self(one if singular else many, n=self.number(n), **fields)

    # --- numbers and dates -----------------------------------------------------------------------

    def number(self, n: Any) -> str:
        """A whole number: 12,345 (English), 12 345 (French, narrow no-break space)."""
        text = f"{int(n):,}"
        return text.replace(",", NNBSP) if self.french else text

    def decimal(self, x: float, digits: int) -> str:
        """A decimal number with `digits` decimals: 1.50 (English), 1,50 (French)."""
        text = f"{x:.{digits}f}"
        return text.replace(".", ",") if self.french else text

    def numeral(self, text: str) -> str:
        """A number already printed the English way (12,345 or 1.5) in this language; other text as it is."""
        if not self.french or not re.fullmatch(r"-?\d[\d,]*(\.\d+)?", text):
            return text
        whole, dot, decimals = text.replace(",", "").partition(".")
        return self.number(int(whole)) + ("," + decimals if dot else "")

    def date(self, d: Optional[_dt.date]) -> str:
        """A calendar date: 2019-04-15 (English), 15 avril 2019 (French)."""
        if d is None:
            return ""
        if not self.french:
            return d.isoformat()
        return f"{'1er' if d.day == 1 else d.day} {MONTHS_FR[d.month - 1]} {d.year}"

    def short_date(self, d: Optional[_dt.date]) -> str:
        """A date in a table column: 2019-04-15 (English), 15/04/2019 (French)."""
        if d is None:
            return ""
        return d.strftime("%d/%m/%Y") if self.french else d.isoformat()

    def time(self, when: Optional[_dt.datetime]) -> str:
        """A moment, in UTC to the second: 2026-12-01 17:38:05 UTC; 1er décembre 2026 à 17:38:05 UTC."""
        if when is None:
            return ""
        utc = when.astimezone(_dt.timezone.utc)
        if not self.french:
            return utc.strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"{self.date(utc.date())} à {utc.strftime('%H:%M:%S')} UTC"

    def iso_date(self, text: str) -> str:
        """A YYYY-MM-DD date as this language writes it in running text; other text as it is."""
        try:
            return self.date(_dt.date.fromisoformat(text)) if re.fullmatch(r"\d{4}-\d\d-\d\d", text) else text
        except ValueError:
            return text


def translate_message(text: str, lang: str, folder: Optional[str] = None) -> str:
    """One line of the command's own output (a progress line, a summary, an error) in `lang`.

    For `cbom.cli`/`cbom.runner`, called on the formatted line just before it is printed, e.g.
    `log.info("%s", translate_message(line, args.lang))`. The same catalogue as the report (its
    `messages`, then its `patterns`, as for a gap). A line laid out in columns (two spaces or more
    between fields, as the progress lines `  name  status  0.12 s  3 components  reason`) is
    translated field by field, each field starting where it started in English when it fits.
    A line it does not know is returned as it is. Never raises: a missing or broken catalogue
    leaves the line English (the `--lang` check has said why, once)."""
    if not text or lang == "en":
        return text
    try:
        if folder is None:
            from .render import templates_dir

            folder = str(templates_dir())
        translator = Translator(load_catalogue(folder, lang))
    except (ValueError, OSError):
        return text
    stripped = text.strip()
    if not stripped:
        return text
    head = text[: len(text) - len(text.lstrip())]
    if not re.search(r"\S {2,}\S", stripped):
        return head + translator.generated(stripped)
    # Columns: translate each field, keep each one's starting column where the text before allows.
    out = head
    for m in re.finditer(r"(\S(?:.*?\S)??)(?= {2,}\S|\s*$)", stripped):
        start = len(head) + m.start()
        if out.strip():
            out += " " * max(2, start - len(out))
        out += translator.generated(m.group(1))
    return out
