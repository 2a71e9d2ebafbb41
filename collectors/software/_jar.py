"""Java archives outside a package manager's knowledge: name and version from their own metadata.

A jar is a zip file (JAR File Specification, Oracle JDK docs "JAR Manifest"): META-INF/MANIFEST.MF
holds "Name: value" headers, lines of at most 72 bytes continued by a line starting with one
space, the main section ending at the first blank line; Implementation-Title/-Version (the
JAR spec) and Bundle-SymbolicName/-Version (OSGi Core R7 §3.2.1) name it. Maven writes
META-INF/maven/<groupId>/<artifactId>/pom.properties (java.util.Properties: key=value or
key: value, # and ! comments), which gives the coordinates a pkg:maven PURL needs; a "fat"
jar carries one per library shaded into it, listed as its dependencies.

Bounded: at most MAX_JARS archives, each at most MAX_JAR_BYTES (the zip directory is at the end
of the file, so a jar is read whole), only the metadata members are decompressed (at most
MAX_MEMBER bytes each).
"""
from __future__ import annotations

import io
import os
import posixpath
import re
import zipfile
from dataclasses import dataclass
from typing import Dict, Iterator, List, Set, Tuple

from cbom import vocabulary as V
from cbom.collector import Collector, ScanContext
from cbom.model import Category, Component, Gap, Item, Kind, Platform, make_ref

from ._common import summarise

__all__ = ["COLLECTORS", "JarInfo", "SoftwareJars", "collect_jars", "parse_jar", "parse_manifest",
           "parse_properties"]

# Debian/Fedora put library jars in /usr/share/java; vendors' Java programs live under /opt.
JAR_GLOBS = ("/usr/share/java/*.jar", "/usr/share/java/*/*.jar", "/usr/local/share/java/*.jar", "/usr/local/lib/*.jar",
             "/opt/*/*.jar", "/opt/*/lib/*.jar", "/opt/*/*/*.jar", "/opt/*/*/lib/*.jar", "/opt/*/*/*/lib/*.jar",
             "/srv/*/*.jar", "/srv/*/lib/*.jar")
MAX_JARS = 3000
MAX_JAR_BYTES = 64 * 1024 * 1024
MAX_MEMBER = 256 * 1024
MAX_EMBEDDED = 500  # pom.properties of shaded libraries per jar


def parse_manifest(text: str) -> Dict[str, str]:
    """Main-section headers of a MANIFEST.MF (continuation lines joined)."""
    out: Dict[str, str] = {}
    last = ""
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line:
            break  # the main section ends at the first blank line; per-entry sections follow
        if line.startswith(" ") and last:
            out[last] += line[1:]
            continue
        key, sep, value = line.partition(":")
        if sep and key.strip():
            last = key.strip()
            out[last] = value[1:] if value.startswith(" ") else value
    return out


def parse_properties(text: str) -> Dict[str, str]:
    """key -> value of a simple java.util.Properties file (the form Maven writes: no escapes)."""
    out: Dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        m = re.match(r"^([^=:\s]+)\s*[=:\s]\s*(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


@dataclass(frozen=True)
class JarInfo:
    name: str
    version: str = ""
    group: str = ""  # Maven groupId, when pom.properties says it
    title: str = ""  # Implementation-Title / Bundle-Name
    vendor: str = ""
    license: str = ""  # Bundle-License
    embedded: Tuple[Tuple[str, str, str], ...] = ()  # (groupId, artifactId, version) of shaded libraries


def _bundle_name(value: str) -> str:
    return value.split(";")[0].strip()  # "org.foo.bar;singleton:=true"


def parse_jar(data: bytes, file_name: str) -> JarInfo:
    """What a jar's metadata says it is. Raises ValueError for a damaged archive."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ValueError(f"not a readable zip archive ({exc})") from None
    manifest: Dict[str, str] = {}
    poms: List[Tuple[str, str, str]] = []
    with archive:
        for info in archive.infolist():
            member = info.filename
            upper = member.upper()
            is_manifest = upper == "META-INF/MANIFEST.MF"
            is_pom = upper.startswith("META-INF/MAVEN/") and member.endswith("/pom.properties")
            if not (is_manifest or is_pom) or info.file_size > MAX_MEMBER:
                continue
            try:
                with archive.open(info) as f:
                    text = f.read(MAX_MEMBER).decode("utf-8", "replace")
            except (zipfile.BadZipFile, NotImplementedError, OSError, ValueError, EOFError) as exc:
                raise ValueError(f"{member}: {exc}") from None
            if is_manifest:
                manifest = parse_manifest(text)
            elif len(poms) < MAX_EMBEDDED:
                p = parse_properties(text)
                if p.get("artifactId"):
                    poms.append((p.get("groupId", ""), p["artifactId"], p.get("version", "")))
    stem = file_name[:-4] if file_name.lower().endswith(".jar") else file_name
    # The jar's own pom.properties: the one whose artifactId starts its file name or ends its OSGi
    # symbolic name, or the only one of a jar whose manifest names nothing. Any other is a library
    # shaded into it (guice-4.2.3.jar carries only cglib's).
    symbolic = _bundle_name(manifest.get("Bundle-SymbolicName", ""))
    named = bool(symbolic or manifest.get("Implementation-Title") or manifest.get("Bundle-Name"))
    own = next((p for p in poms if stem.startswith(p[1]) or (symbolic and symbolic.endswith(p[1]))), None)
    if own is None and len(poms) == 1 and not named:
        own = poms[0]
    title = manifest.get("Implementation-Title") or manifest.get("Bundle-Name") or ""
    version = (own[2] if own else "") or manifest.get("Implementation-Version") or manifest.get("Bundle-Version") or ""
    if own:
        name, group = own[1], own[0]
    else:
        name = symbolic or title or stem
        group = ""
    return JarInfo(name=name, version=version, group=group, title=title,
                   vendor=manifest.get("Implementation-Vendor") or manifest.get("Bundle-Vendor") or "",
                   license=manifest.get("Bundle-License", "").split(";")[0].strip(),
                   embedded=tuple(p for p in poms if p is not own))


def _purl(group: str, name: str, version: str) -> str:
    if not group:
        return ""  # pkg:maven needs the groupId (purl-spec PURL-TYPES: namespace required)
    from packageurl import PackageURL

    try:
        return PackageURL(type="maven", namespace=group, name=name, version=version or None).to_string()
    except ValueError:
        return ""


def jar_components(path: str, info: JarInfo) -> List[Component]:
    """The jar and, for a fat jar, one library per shaded Maven artifact."""
    props = ((V.PACKAGE_MANAGER, "jar"), (V.PACKAGE_PATH, path))
    inner = [Component(category=Category.SOFTWARE, kind=Kind.LIBRARY, name=a, version=v, group=g,
                       purl=_purl(g, a, v), ref=make_ref(Category.SOFTWARE.value, "jar", path, g, a, v),
                       properties=props) for g, a, v in info.embedded]
    lic = info.license if info.license and "://" not in info.license else ""
    jar = Component(category=Category.SOFTWARE, kind=Kind.LIBRARY, name=info.name, version=info.version,
                    group=info.group, publisher=info.vendor, description=info.title,
                    purl=_purl(info.group, info.name, info.version), licenses=(lic,) if lic else (),
                    ref=make_ref(Category.SOFTWARE.value, "jar", path), properties=props,
                    depends_on=tuple(c.ref for c in inner))
    return [jar, *inner]


class SoftwareJars(Collector):
    name = "software.jar"
    description = "Java archives (/usr/share/java, /opt) named by their manifest and Maven pom.properties"
    platforms = frozenset({Platform.LINUX})
    timeout = 60.0

    def collect(self, ctx: ScanContext) -> Iterator[Item]:
        return collect_jars(ctx)


def collect_jars(ctx: ScanContext) -> Iterator[Item]:
    """One component (plus shaded libraries) per jar found, each archive once whatever links name it."""
    if ctx.recorded:
        yield Gap("the recording holds no Java archives (jars are read from their files): not collected")
        return
    problems: List[str] = []
    seen: Set[str] = set()
    count = 0
    for pattern in JAR_GLOBS:
        for path in ctx.glob(pattern):
            real = os.path.realpath(ctx.path(path))  # commons-lang3-3.12.0.jar -> commons-lang3.jar
            if real in seen or not ctx.is_file(path):
                continue
            seen.add(real)
            if count >= MAX_JARS:
                problems.append(f"more than {MAX_JARS} jars: the rest not read")
                break
            count += 1
            try:
                info = parse_jar(ctx.read_bytes(path, MAX_JAR_BYTES), posixpath.basename(path))
            except OSError as exc:
                problems.append(f"{path}: {exc.strerror or exc}")
                continue
            except ValueError as exc:
                problems.append(f"{path}: {exc}")
                continue
            yield from jar_components(path, info)
    if problems:
        yield Gap(summarise("jar", problems))


COLLECTORS = (SoftwareJars,)
