"""Placeholder: being written."""
from cbom.collector import Collector


class SoftwareCollector(Collector):
    name = "software"
    default = False

    def collect(self, ctx):
        return []
