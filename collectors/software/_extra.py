"""Software outside the package managers: globally installed npm packages.

npm installs a global package as `<prefix>/lib/node_modules/<name>` (or `@scope/<name>`), each
with its package.json (npm docs, "folders": global installs go to {prefix}/lib/node_modules).
Neither dpkg nor rpm knows their versions, even when a distribution package put npm itself there.
Registered in `collectors.BUILTIN` next to the package-manager sources; the module lives here so
the software area keeps its sources together.
"""
from __future__ import annotations

import json
import posixpath
from typing import Iterator, List, Optional, Tuple

from cbom import vocabulary as V
from cbom.collector import Collector, ScanContext
from cbom.model import Category, Component, Gap, Item, Kind, Platform, make_ref

from ._common import normalise_license

__all__ = ["COLLECTORS", "SoftwareNpmGlobal", "parse_package_json"]

# npm's global prefixes: distribution nodejs (/usr), `make install`/nodesource tarballs
# (/usr/local), Homebrew on Apple silicon (/opt/homebrew), and Windows' %APPDATA%\npm is not
# covered (per user).
GLOBAL_DIRS = ("/usr/lib/node_modules", "/usr/local/lib/node_modules", "/opt/homebrew/lib/node_modules")
MAX_PACKAGES = 2000


def parse_package_json(text: str) -> Optional[Tuple[str, str, str, str]]:
    """(name, version, license, description) of a package.json, or None when it names no package."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not data.get("name"):
        return None
    lic = data.get("license")
    if isinstance(lic, dict):  # the deprecated {"type": "MIT", "url": …} form
        lic = lic.get("type")
    desc = data.get("description")
    return (data["name"], str(data.get("version") or ""), lic if isinstance(lic, str) else "",
            desc if isinstance(desc, str) else "")


def _purl(name: str, version: str) -> str:
    from packageurl import PackageURL

    scope, _, bare = name.rpartition("/")
    try:
        return PackageURL(type="npm", namespace=scope or None, name=bare, version=version or None).to_string()
    except ValueError:
        return ""


class SoftwareNpmGlobal(Collector):
    name = "software.npm"
    description = "globally installed npm packages (lib/node_modules), outside the system package manager"
    platforms = frozenset({Platform.LINUX, Platform.DARWIN})
    timeout = 20.0

    def collect(self, ctx: ScanContext) -> Iterator[Item]:
        return collect_npm_global(ctx)


def collect_npm_global(ctx: ScanContext) -> Iterator[Item]:
    """One component per package folder under a global node_modules (scoped ones included)."""
    if ctx.recorded and not any(ctx.host.looked_at(d) or ctx.exists(d) for d in GLOBAL_DIRS):
        yield Gap(f"the recording holds no global npm folder ({', '.join(GLOBAL_DIRS)}): not collected")
        return
    problems: List[str] = []
    count = 0
    for base in GLOBAL_DIRS:
        try:
            names = ctx.listdir(base)
        except OSError:
            continue  # no global npm prefix here
        folders: List[str] = []
        for name in names:
            if name.startswith("."):
                continue
            if name.startswith("@"):
                try:
                    folders += [f"{name}/{n}" for n in ctx.listdir(posixpath.join(base, name))]
                except OSError:
                    continue
            else:
                folders.append(name)
        for folder in folders:
            if count >= MAX_PACKAGES:
                problems.append(f"more than {MAX_PACKAGES} packages: the rest not read")
                break
            path = posixpath.join(base, folder, "package.json")
            try:
                parsed = parse_package_json(ctx.read(path))
            except OSError:
                continue  # a stray folder (npm's .bin, a broken link)
            if parsed is None:
                problems.append(f"{path}: not a package.json")
                continue
            name, version, lic, desc = parsed
            lic = normalise_license(lic)[0] if lic else ""
            count += 1
            yield Component(
                category=Category.SOFTWARE, kind=Kind.LIBRARY if folder != "npm" else Kind.APPLICATION,
                name=name, version=version, purl=_purl(name, version), description=desc,
                licenses=(lic,) if lic else (), ref=make_ref(Category.SOFTWARE.value, "npm", base, name, version),
                properties=((V.PACKAGE_MANAGER, "npm"), (V.PACKAGE_PATH, posixpath.join(base, folder))),
            )
    if problems:
        yield Gap("npm: " + "; ".join(problems[:3]) + (f"; … {len(problems) - 3} more" if len(problems) > 3 else ""))


COLLECTORS = (SoftwareNpmGlobal,)
