"""Built-in collectors of cbom, one plug-in per data source ("area.source").

They are registered through the `cbom.collectors` entry-point group in
pyproject.toml (a contract test keeps both lists equal); BUILTIN lists the same
classes for a frozen build without installed metadata, whose entry script
passes it to `cbom.cli.main` (the core never imports this package).
"""
from . import capture, firmware, hardware, network, osinfo, recording, software

BUILTIN = (*osinfo.COLLECTORS, *network.COLLECTORS, *hardware.COLLECTORS, *firmware.COLLECTORS,
           *software.COLLECTORS, *recording.COLLECTORS, capture.CaptureCollector)
