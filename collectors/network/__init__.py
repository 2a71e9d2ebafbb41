"""Placeholder: being written."""
from cbom.collector import Collector


class NetworkCollector(Collector):
    name = "network"

    def collect(self, ctx):
        return []
