"""PyInstaller runtime hook: point fontconfig at the bundled fonts before WeasyPrint loads.

Runs before any application import. The bundled fonts.conf lists only the
bundle's fonts folder, so the report looks the same on every machine and the
host's font setup is never read. Fontconfig insists on a writable cache folder
(without one it prints "Fontconfig error: No writable cache directories" on
every run, and without a <cachedir> it writes /var/cache/fontconfig), so when
WeasyPrint is first imported - only for a PDF - a temporary folder is made,
used as $XDG_CACHE_HOME (fonts.conf: <cachedir prefix="xdg">), and removed at exit.
"""
import atexit
import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True
_base = getattr(sys, "_MEIPASS", os.path.dirname(os.path.abspath(sys.executable)))
_conf = os.path.join(_base, "fonts", "fonts.conf")


class _FontCacheOnWeasyPrint:
    """Meta-path hook that only watches for `weasyprint`; it never loads anything itself."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name == "weasyprint":
            sys.meta_path.remove(cls)
            try:
                cache = tempfile.mkdtemp(prefix="cbom-fontcache-")
            except OSError:  # no writable temp folder: fontconfig only complains on stderr
                return None
            atexit.register(shutil.rmtree, cache, True)
            os.environ["XDG_CACHE_HOME"] = cache
        return None


if os.path.isfile(_conf):
    os.environ["FONTCONFIG_FILE"] = _conf
    os.environ["FONTCONFIG_PATH"] = os.path.dirname(_conf)
    sys.meta_path.insert(0, _FontCacheOnWeasyPrint)
