"""bom-refs of hardware components, shared by the hardware and firmware collectors.

Both collectors compute a device's ref from the same stable identity (bus
address, sysfs device path, DMI socket/locator), so firmware can point at the
hardware it runs on without the two collectors running together. Identities
never contain a serial number: refs must not leak what `--redact serials` hides.
"""
from __future__ import annotations

from cbom.model import Category, make_ref

_HW = Category.HARDWARE.value


def system_ref() -> str:
    """The machine as a whole (DMI system / ComputerSystem / Hardware Overview)."""
    return make_ref(_HW, "system")


def baseboard_ref() -> str:
    return make_ref(_HW, "baseboard")


def chassis_ref() -> str:
    return make_ref(_HW, "chassis")


def cpu_ref(socket: str) -> str:
    """One processor package; `socket` is the physical id / DeviceID / socket designation."""
    return make_ref(_HW, "cpu", socket or "0")


def memory_ref() -> str:
    """Total system memory."""
    return make_ref(_HW, "memory")


def memory_module_ref(locator: str) -> str:
    return make_ref(_HW, "memory-module", locator)


def pci_ref(address: str) -> str:
    """A PCI function by its domain:bus:device.function address (lower case, with domain)."""
    addr = address.lower()
    if addr.count(":") == 1:
        addr = "0000:" + addr
    return make_ref(_HW, "pci", addr)


def usb_ref(port: str, vendor_id: str, product_id: str) -> str:
    """A USB device by port path (e.g. '1-1.2') and ids: stable while it stays plugged in the same port."""
    return make_ref(_HW, "usb", port, vendor_id.lower(), product_id.lower())


def disk_ref(identity: str) -> str:
    """A storage device by its physical path (Linux: /sys/devices path; Windows: PNPDeviceID)."""
    return make_ref(_HW, "disk", identity)


def nic_ref(identity: str) -> str:
    """A network adapter by its bus path (PCI address / sysfs path) or, for a virtual one, its name."""
    return make_ref(_HW, "nic", identity)


def tpm_ref(name: str = "tpm0") -> str:
    return make_ref(_HW, "tpm", name)


def slot_ref(designation: str) -> str:
    return make_ref(_HW, "slot", designation)
