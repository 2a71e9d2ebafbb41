"""Placeholder: being written."""
from cbom.collector import Collector


class HardwareCollector(Collector):
    name = "hardware"
    default = False

    def collect(self, ctx):
        return []
