"""Placeholder: being written."""
from cbom.collector import Collector


class FirmwareCollector(Collector):
    name = "firmware"
    default = False

    def collect(self, ctx):
        return []
