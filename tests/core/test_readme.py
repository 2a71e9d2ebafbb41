"""The README's examples are the code the tests run, not a copy that drifts."""
from __future__ import annotations

import textwrap

from conftest import REPO

from collectors.capture import protocols


def test_readme_protocol_example_is_the_tested_one():
    """README's one-file protocol example equals the docstring example test_capture_plugin executes."""
    doc = protocols.__doc__ or ""
    block = doc[doc.index("    from cbom.model import Severity"):doc.index("Decoders raise")]
    example = textwrap.dedent(block).strip()
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert example in readme
