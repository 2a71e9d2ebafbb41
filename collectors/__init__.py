"""Built-in collectors of cbom, one plug-in each.

They are registered through the `cbom.collectors` entry-point group in
pyproject.toml; BUILTIN lists the same classes for runs without installed
metadata (the USB bundle).
"""
from .capture import CaptureCollector
from .firmware import FirmwareCollector
from .hardware import HardwareCollector
from .ingest import IngestCollector
from .network import NetworkCollector
from .osinfo import OsCollector
from .software import SoftwareCollector

BUILTIN = (OsCollector, NetworkCollector, HardwareCollector, FirmwareCollector, SoftwareCollector, CaptureCollector,
           IngestCollector)
