"""Placeholder: being written."""
from cbom.collector import Collector


class CaptureCollector(Collector):
    name = "capture"
    default = False

    def collect(self, ctx):
        return []
