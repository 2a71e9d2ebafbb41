"""cbom.cdx.yaml: the same validated CycloneDX dict as the JSON, dumped as YAML."""
from __future__ import annotations

from typing import ClassVar

from ..document import Document


class YamlWriter:
    """CycloneDX has no YAML serialisation of its own: this is the JSON's dict, key order kept."""

    name: ClassVar[str] = "yaml"
    file_name: ClassVar[str] = "cbom.cdx.yaml"

    def render(self, document: Document) -> bytes:
        """The document's dict as YAML (UTF-8, no line wrapping)."""
        import yaml  # PyYAML takes ~17 ms to import: only when YAML is asked for

        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when present: ~10x faster
        return yaml.dump(document.doc, Dumper=dumper, sort_keys=False, allow_unicode=True, width=4096).encode("utf-8")
