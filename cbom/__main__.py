"""`python -m cbom`: the cbom command."""
import sys

try:
    from .cli import run
except KeyboardInterrupt:  # Ctrl-C while cbom is still loading: nothing was started, nothing written
    print("cbom: interrupted", file=sys.stderr)
    sys.exit(130)

run()
