"""Placeholder: being written."""
from cbom.collector import Collector


class OsCollector(Collector):
    name = "os"

    def collect(self, ctx):
        return []
