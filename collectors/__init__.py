"""Built-in collectors of cbom, one plug-in per data source ("area.source").

They are registered through the `cbom.collectors` entry-point group in
pyproject.toml (a contract test keeps both lists equal); BUILTIN lists the same
classes for a frozen build without installed metadata, whose entry script
passes it to `cbom.cli.main` (the core never imports this package).
"""
from . import capture, crypto, firmware, hardware, network, osinfo, posture, recording, software
from .software import _extra as software_extra
from .software import _go as software_go
from .software import _jar as software_jar

BUILTIN = (*osinfo.COLLECTORS, *network.COLLECTORS, *hardware.COLLECTORS, *firmware.COLLECTORS,
           *software.COLLECTORS, *software_extra.COLLECTORS, *software_go.COLLECTORS, *software_jar.COLLECTORS,
           *crypto.COLLECTORS, *posture.COLLECTORS, *recording.COLLECTORS,
           capture.CaptureCollector)
