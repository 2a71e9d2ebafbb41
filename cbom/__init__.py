"""cbom: an offline scanner that writes a CycloneDX "cyber bill of materials" of a machine."""

__version__ = "0.1.0"
