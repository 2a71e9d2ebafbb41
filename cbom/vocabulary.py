"""The CycloneDX property names cbom writes and reads: each one defined here, once.

Every `name` of a CycloneDX `properties` entry cbom produces (on components, on
`metadata.component`, in `metadata.properties`, on vulnerabilities) is a constant
of this module, or is built by one of its functions from a `..._PREFIX` constant.
Collectors, the document writer, the diff and the report all use these names; no
other module spells a property name (tests/core/test_vocabulary.py checks it).

Namespaces:
- `cdx:` names follow the official CycloneDX property taxonomy
  (https://github.com/CycloneDX/cyclonedx-property-taxonomy); cbom uses `cdx:device`.
- `cbom:` names are cbom's own (README "Properties"). Their values are always strings.

This module is part of the core: it imports nothing, least of all from `collectors`.
"""
from __future__ import annotations

# The `cbom:` namespace itself (a name printed without it in the report).
CBOM_NAMESPACE = "cbom:"

# --- CycloneDX device taxonomy (cdx:device:*, official) -----------------------------------------
# Written on hardware components, network interfaces, observed hosts and the scanned machine.
MAC_ADDRESS = "cdx:device:macAddress"
SERIAL_NUMBER = "cdx:device:serialNumber"

# --- the document: scan, machine, findings ---------------------------------------------------------
# Component category (every cbom component), metadata.properties of the scan, metadata.component
# (the scanned machine) and vulnerabilities (findings).
CATEGORY = "cbom:category"  # the Category value of a component
SITE = "cbom:site"  # where the machine stands (cbom scan --site)
SOURCE = "cbom:source"  # how the document was made: "recorded" for a recording
SCAN_ROOT = "cbom:scan:root"  # the file-system root scanned when it is not "/"
SCAN_PRIVILEGE = "cbom:scan:privilege"  # "unprivileged" when run without root/Administrator
SCAN_FINISHED = "cbom:scan:finished"  # ISO 8601 UTC
# "not schema-validated: <why>" when no schema validator loads on the scanning machine (Windows 8.1)
SCAN_SCHEMA_VALIDATION = "cbom:scan:schema-validation"
HOST_MODEL = "cbom:model"  # the machine's model (metadata.component)
EVIDENCE = "cbom:evidence"  # a finding's evidence, one property per line
FINDING_COLLECTOR = "cbom:collector"  # the collector that raised a finding

# --- collector runs (metadata.properties) --------------------------------------------------------
# One group per collector run: cbom:collector:<name>:<field>, field one of status, duration,
# reason, components, gap (cbom/cyclonedx.py writes and reads them).
COLLECTOR_PREFIX = "cbom:collector:"


def collector_property(name: str, field: str) -> str:
    """`cbom:collector:<name>:<field>`: one field of the run record of collector `name`."""
    return f"{COLLECTOR_PREFIX}{name}:{field}"


# --- recordings (metadata.properties of a scan read from a recording folder) --------------------
# cbom/recording.py describe(): where a recorded scan comes from and what the recording lacked.
RECORDED_PLATFORM = "cbom:recorded:platform"
RECORDED_FOLDER = "cbom:recorded:folder"
RECORDED_SCRIPT = "cbom:recorded:script"
RECORDED_TIME = "cbom:recorded:time"
RECORDED_FINISHED = "cbom:recorded:finished"
RECORDED_UID = "cbom:recorded:uid"
RECORDED_ADMIN = "cbom:recorded:admin"
RECORDED_MISSING = "cbom:recorded:missing"  # a file the platform's script writes but the folder lacks
RECORDED_FAILED = "cbom:recorded:failed"  # "FILE (exit RC: COMMAND)"
RECORDED_FILE = "cbom:recorded:file"  # a file of the recording a collector read
RECORDED_UNUSED = "cbom:recorded:unused"  # a file of the recording no collector read

# --- host facts (metadata.component properties of the scanned machine) --------------------------
# Facts about the machine as a whole, written by the os, firmware and network collectors.
HOST_OS = "cbom:os"  # the operating system's name and version
BOOT_MODE = "cbom:boot-mode"  # uefi / legacy
SECURE_BOOT = "cbom:secure-boot"  # enabled / disabled
DEFAULT_GATEWAY = "cbom:default-gateway"
DNS_SERVER = "cbom:dns-server"  # also on a Windows network interface
DNS_SEARCH = "cbom:dns-search"

# --- operating system (the operating-system component; some also host facts) --------------------
# collectors/osinfo: Linux os-release, Windows registry/WMI, macOS sw_vers/system_profiler.
OS_ARCH = "cbom:arch"
OS_HOSTNAME = "cbom:hostname"
OS_BOOT_TIME = "cbom:boot-time"
OS_TIMEZONE = "cbom:timezone"
OS_LOCALE = "cbom:locale"
OS_POINT_RELEASE = "cbom:point-release"
OS_BUILD = "cbom:build"
OS_KERNEL = "cbom:kernel"
OS_KERNEL_VERSION = "cbom:kernel-version"
OS_KERNEL_INSTALLED = "cbom:kernel-installed"
OS_SELINUX = "cbom:selinux"
OS_SELINUX_CONFIG = "cbom:selinux-config"
OS_APPARMOR = "cbom:apparmor"
OS_LSM = "cbom:lsm"  # active Linux security modules
OS_LOCKDOWN = "cbom:lockdown"  # kernel lockdown mode
OS_DISTRO_NAME = "cbom:distro-name"  # Linux os-release fields
OS_ID_LIKE = "cbom:id-like"
OS_CODENAME = "cbom:codename"
OS_VARIANT = "cbom:variant"
OS_BUILD_ID = "cbom:build-id"
OS_IMAGE_ID = "cbom:image-id"
OS_IMAGE_VERSION = "cbom:image-version"
OS_SUPPORT_END = "cbom:support-end"
OS_EDITION = "cbom:edition"  # Windows
OS_EDITION_ID = "cbom:edition-id"
OS_DISPLAY_VERSION = "cbom:display-version"
OS_SERVICE_PACK = "cbom:service-pack"
OS_INSTALL_DATE = "cbom:install-date"
OS_REGISTERED_OWNER = "cbom:registered-owner"
OS_REGISTERED_ORGANIZATION = "cbom:registered-organization"
OS_HOTFIX = "cbom:hotfix"  # one per installed update
OS_RAPID_SECURITY_RESPONSE = "cbom:rapid-security-response"  # macOS
OS_SIP = "cbom:sip"  # macOS System Integrity Protection
OS_SECURE_VIRTUAL_MEMORY = "cbom:secure-virtual-memory"  # macOS

# --- hardware, shared by several device types ----------------------------------------------------
# collectors/hardware (dmi, cpu, memory, disk, pci, usb, nic, tpm) and the firmware collectors.
DEVICE_TYPE = "cbom:device-type"  # cpu, memory, storage, network-adapter, pci, usb, system, …
HARDWARE_REF = "cbom:hardware-ref"  # on firmware: ref of the hardware component it runs on
BUS = "cbom:bus"  # pci, usb, … (a network interface: its PCI address)
BUS_ADDRESS = "cbom:bus-address"
DRIVER = "cbom:driver"
DRIVER_VERSION = "cbom:driver:version"
INTERFACE = "cbom:interface"  # the OS name of a network adapter
FIRMWARE_VERSION = "cbom:firmware-version"  # of a device (NIC, TPM)
PART_NUMBER = "cbom:part-number"
PNP_ID = "cbom:pnp-id"  # Windows Plug and Play device id

# --- the system (SMBIOS system and chassis) ------------------------------------------------------
# The machine's system, baseboard and chassis records (SMBIOS/DMI, WMI Win32_ComputerSystemProduct).
UUID = "cbom:uuid"  # SMBIOS system UUID
SKU = "cbom:sku"
FAMILY = "cbom:family"
ASSET_TAG = "cbom:asset-tag"
CHASSIS_TYPE = "cbom:chassis:type"

# --- processors ----------------------------------------------------------------------------------
# CPU packages (device-type cpu): /proc/cpuinfo, dmidecode type 4, WMI Win32_Processor, system_profiler.
CPU_VENDOR = "cbom:cpu:vendor"
CPU_FAMILY = "cbom:cpu:family"
CPU_MODEL = "cbom:cpu:model"
CPU_MODEL_NAME = "cbom:cpu:model-name"  # on CPU microcode firmware
CPU_STEPPING = "cbom:cpu:stepping"
CPU_MICROCODE = "cbom:cpu:microcode"
CPU_ID = "cbom:cpu:id"
CPU_SIGNATURE = "cbom:cpu:signature"
CPU_CORES = "cbom:cpu:cores"
CPU_THREADS = "cbom:cpu:threads"
CPU_PACKAGES = "cbom:cpu:packages"
CPU_ARCHITECTURE = "cbom:cpu:architecture"
CPU_PHYSICAL_ID = "cbom:cpu:physical-id"
CPU_SOCKET = "cbom:cpu:socket"
CPU_SPEED = "cbom:cpu:speed"
CPU_MAX_SPEED = "cbom:cpu:max-speed"
CPU_FLAG = "cbom:cpu:flag"  # one per flag
CPU_FLAGS_SOURCE = "cbom:cpu:flags-source"  # where WMI/system_profiler list none: "CPUID (py-cpuinfo)", "sysctl"
CPU_VULNERABILITY = "cbom:cpu:vulnerability"  # one per /sys/devices/system/cpu/vulnerabilities entry

# --- memory and slots ----------------------------------------------------------------------------
# Memory modules and totals (dmidecode type 17, /proc/meminfo, WMI), expansion slots (dmidecode type 9).
MEMORY_TOTAL = "cbom:memory:total"  # human-readable (macOS)
MEMORY_TOTAL_BYTES = "cbom:memory:total-bytes"
MEMORY_SIZE_BYTES = "cbom:memory:size-bytes"  # one module
MEMORY_TYPE = "cbom:memory:type"
MEMORY_FORM_FACTOR = "cbom:memory:form-factor"
MEMORY_SPEED = "cbom:memory:speed"
MEMORY_LOCATOR = "cbom:memory:locator"
SLOT_TYPE = "cbom:slot:type"
SLOT_USAGE = "cbom:slot:usage"
SLOT_BUS_ADDRESS = "cbom:slot:bus-address"

# --- PCI and USB devices -------------------------------------------------------------------------
# Devices on the PCI and USB buses (sysfs, system_profiler); ids are hex vendor:device.
PCI_ADDRESS = "cbom:pci:address"
PCI_ID = "cbom:pci:id"  # vendor:device
PCI_CLASS_ID = "cbom:pci:class-id"
PCI_CLASS = "cbom:pci:class"
PCI_REVISION = "cbom:pci:revision"
PCI_SUBSYSTEM_ID = "cbom:pci:subsystem-id"
USB_PORT = "cbom:usb:port"
USB_ID = "cbom:usb:id"  # vendor:product
USB_MANUFACTURER_STRING = "cbom:usb:manufacturer-string"
USB_VERSION = "cbom:usb:version"
USB_SPEED_MBPS = "cbom:usb:speed-mbps"

# --- storage -------------------------------------------------------------------------------------
# Disks (device-type storage): sysfs /sys/block, WMI Win32_DiskDrive, system_profiler (SATA, NVMe).
STORAGE_KERNEL_NAME = "cbom:storage:kernel-name"
STORAGE_SIZE_BYTES = "cbom:storage:size-bytes"
STORAGE_TRANSPORT = "cbom:storage:transport"
STORAGE_MEDIA = "cbom:storage:media"
STORAGE_ROTATIONAL = "cbom:storage:rotational"
STORAGE_REMOVABLE = "cbom:storage:removable"
STORAGE_FIRMWARE_REVISION = "cbom:storage:firmware-revision"
STORAGE_PATH = "cbom:storage:path"
STORAGE_WWN = "cbom:storage:wwn"
STORAGE_PNP_ID = "cbom:storage:pnp-id"

# --- TPM -----------------------------------------------------------------------------------------
# The Trusted Platform Module (device-type tpm): sysfs /sys/class/tpm.
TPM_SPEC_VERSION = "cbom:tpm:spec-version"
TPM_ACPI_HID = "cbom:tpm:acpi-hid"

# --- device-name databases (host facts) ----------------------------------------------------------
# cbom:hardware:<kind>-ids: the version of the pci.ids / usb.ids copy shipped with cbom.


def ids_property(kind: str) -> str:
    """`cbom:hardware:<kind>-ids` (kind: pci, usb): the version of the <kind>.ids database used."""
    return f"cbom:hardware:{kind}-ids"


PCI_IDS = ids_property("pci")
USB_IDS = ids_property("usb")

# --- firmware ------------------------------------------------------------------------------------
# Firmware components (collectors/hardware/_common.py firmware(), collectors/firmware).
FIRMWARE_TYPE = "cbom:firmware:type"  # system-firmware, embedded-controller, cpu-microcode, storage, …
FIRMWARE_RELEASE_DATE = "cbom:firmware:release-date"  # ISO YYYY-MM-DD
FIRMWARE_BIOS_RELEASE = "cbom:firmware:bios-release"
FIRMWARE_BIOS_VERSION_STRING = "cbom:firmware:bios-version-string"
FIRMWARE_SMBIOS_VERSION = "cbom:firmware:smbios-version"
FIRMWARE_EC_VERSION = "cbom:firmware:ec-version"
FIRMWARE_BOOT_MODE = "cbom:firmware:boot-mode"
FIRMWARE_OS_LOADER = "cbom:firmware:os-loader"
FIRMWARE_EXPANSION_ROM = "cbom:firmware:expansion-rom"
FWUPD_PLUGIN = "cbom:fwupd:plugin"  # devices reported by fwupd
FWUPD_DEVICE_ID = "cbom:fwupd:device-id"
FWUPD_VERSION_FORMAT = "cbom:fwupd:version-format"
FWUPD_BOOTLOADER_VERSION = "cbom:fwupd:bootloader-version"
FWUPD_GUID = "cbom:fwupd:guid"

# --- network interfaces --------------------------------------------------------------------------
# collectors/network: Interface.component() (MAC_ADDRESS, DRIVER and BUS above too).
IPV4 = "cbom:ipv4"  # address/prefix, one property per address
IPV6 = "cbom:ipv6"
IF_MTU = "cbom:mtu"
IF_SPEED_MBPS = "cbom:speed-mbps"
IF_STATE = "cbom:state"  # up / down
IF_KIND = "cbom:kind"
IF_ROUTE = "cbom:route"  # one per route
IF_DHCP = "cbom:dhcp"  # true / false (Windows)

# --- listening services --------------------------------------------------------------------------
# collectors/network: service_component().
SVC_PROTOCOL = "cbom:protocol"  # tcp, udp, tcp6, …
SVC_PORT = "cbom:port"
SVC_ADDRESS = "cbom:address"  # one property per bound address
SVC_PROCESS = "cbom:process"
SVC_PROCESS_PATH = "cbom:process-path"
SVC_USER = "cbom:user"

# --- software packages ---------------------------------------------------------------------------
# collectors/software/_common.py to_component(): every package source.
PACKAGE_MANAGER = "cbom:package-manager"  # dpkg, rpm, apk, pacman, snap, flatpak, python, windows, …
PACKAGE_ARCH = "cbom:package:arch"
PACKAGE_SOURCE = "cbom:package:source"
PACKAGE_MAINTAINER = "cbom:package:maintainer"
PACKAGE_INSTALLED_SIZE = "cbom:package:installed-size"  # bytes
PACKAGE_INSTALL_DATE = "cbom:package:install-date"  # ISO 8601, UTC
PACKAGE_HOMEPAGE = "cbom:package:homepage"
PACKAGE_SECTION = "cbom:package:section"
PACKAGE_LICENSE_DECLARED = "cbom:package:license-declared"  # the database's own words when they differ from the ids

# --- software, per package source ----------------------------------------------------------------
SNAP_REVISION = "cbom:snap:revision"
FLATPAK_BRANCH = "cbom:flatpak:branch"
KERNEL_MODULE_SIZE = "cbom:kernel-module:size"
KERNEL_MODULE_STATE = "cbom:kernel-module:state"
KERNEL_MODULE_USED_BY = "cbom:kernel-module:used-by"
KERNEL_MODULE_SRCVERSION = "cbom:kernel-module:srcversion"
KERNEL_RELEASE = "cbom:kernel-release"  # the kernel a module belongs to
PYTHON_SITE = "cbom:python:site"
MACOS_PATH = "cbom:macos:path"
MACOS_BUNDLE_ID = "cbom:macos:bundle-id"
MACOS_OBTAINED_FROM = "cbom:macos:obtained-from"
MACOS_SIGNED_BY = "cbom:macos:signed-by"
MACOS_LAST_MODIFIED = "cbom:macos:last-modified"
MACOS_INSTALL_PROCESS = "cbom:macos:install-process"
HOMEBREW_CELLAR = "cbom:homebrew:cellar"
WINDOWS_UNINSTALL_KEY = "cbom:windows:uninstall-key"
WINDOWS_REGISTRY_VIEW = "cbom:windows:registry-view"
WINDOWS_INSTALL_LOCATION = "cbom:windows:install-location"
WINDOWS_RELEASE_TYPE = "cbom:windows:release-type"
WINDOWS_UPDATE_OF = "cbom:windows:update-of"
WINDOWS_SYSTEM_COMPONENT = "cbom:windows:system-component"
WINDOWS_MSI_PRODUCT_CODE = "cbom:windows:msi-product-code"
WINDOWS_INSTALLED_BY = "cbom:windows:installed-by"
WINDOWS_INSTALLED_ON = "cbom:windows:installed-on"
WINDOWS_HOTFIX_URL = "cbom:windows:hotfix-url"

# --- observed hosts and protocols (capture) ------------------------------------------------------
# collectors/capture/_model.py items_from(): what passive listening learnt of the network.
NET_IP = "cbom:net:ip"  # one per address
NET_IP_LIST_TRUNCATED = "cbom:net:ip-list-truncated"
NET_VENDOR = "cbom:net:vendor"  # IEEE OUI registry name of the MAC prefix
NET_HOSTNAME = "cbom:net:hostname"
NET_HOSTNAME_SOURCE = "cbom:net:hostname-source"  # "NAME how": how the name was learnt
NET_SERVES = "cbom:net:serves"  # "tcp/502"
NET_PACKETS = "cbom:net:packets"
NET_BYTES = "cbom:net:bytes"
NET_FIRST_SEEN = "cbom:net:first-seen"
NET_LAST_SEEN = "cbom:net:last-seen"
NET_HOSTS = "cbom:net:hosts"  # on a protocol: how many hosts spoke it
NET_ENDPOINT = "cbom:net:endpoint"  # "modbus://192.0.2.10:502": server side of a protocol
NET_CONVERSATION = "cbom:net:conversation"  # "tcp A:p B:p PKTS BYTES FIRST LAST"
NET_L2_CONVERSATION = "cbom:net:l2-conversation"  # "MAC MAC PKTS BYTES FIRST LAST" (non-IP)
# cbom:net:identity:<kind>: what a host says of itself (lldp-system-description, http-server, …).
NET_IDENTITY_PREFIX = "cbom:net:identity:"


def net_identity_property(kind: str) -> str:
    """`cbom:net:identity:<kind>`: one identity a host announced (kind: lldp-system-description, …)."""
    return NET_IDENTITY_PREFIX + kind


# --- capture statistics (host facts) -------------------------------------------------------------
# collectors/capture: how the listen or the reading of pcap files went; the report takes every
# cbom:capture:* fact by its prefix.
CAPTURE_PREFIX = "cbom:capture:"
CAPTURE_MODE = "cbom:capture:mode"  # live / file
CAPTURE_SOURCE = "cbom:capture:source"  # the files or interfaces read
CAPTURE_INTERFACES = "cbom:capture:interfaces"
CAPTURE_SECONDS = "cbom:capture:seconds"
CAPTURE_FILTER = "cbom:capture:filter"  # the BPF filter
CAPTURE_RECEIVED = "cbom:capture:received"
CAPTURE_KERNEL_DROPS = "cbom:capture:kernel-drops"
CAPTURE_INTERFACE_DROPS = "cbom:capture:interface-drops"
CAPTURE_QUEUE_DROPS = "cbom:capture:queue-drops"
CAPTURE_FIRST_PACKET = "cbom:capture:first-packet"
CAPTURE_DURATION = "cbom:capture:duration"
CAPTURE_PACKETS = "cbom:capture:packets"
CAPTURE_BYTES = "cbom:capture:bytes"
CAPTURE_UNDECODABLE = "cbom:capture:undecodable"
CAPTURE_DUPLICATES = "cbom:capture:duplicates-dropped"  # packets already read from an earlier --pcap file
CAPTURE_HOSTS = "cbom:capture:hosts"
CAPTURE_CONVERSATIONS = "cbom:capture:conversations"
CAPTURE_OUI_DATABASE = "cbom:capture:oui-database"  # the MAC vendor registry's version
CAPTURE_CAP_HIT_PREFIX = "cbom:capture:cap-hit:"
CAPTURE_MALFORMED_PREFIX = "cbom:capture:malformed:"


def capture_cap_hit_property(table: str) -> str:
    """`cbom:capture:cap-hit:<table>`: packets not tracked because table `table` was full."""
    return CAPTURE_CAP_HIT_PREFIX + table


def capture_malformed_property(proto: str) -> str:
    """`cbom:capture:malformed:<proto>`: PDUs of protocol `proto` that were cut or garbled."""
    return CAPTURE_MALFORMED_PREFIX + proto

# --- cryptographic assets ------------------------------------------------------------------------
# collectors/crypto: certificates, SSH keys, private-key files, algorithms (category crypto). The
# CycloneDX 1.6 `cryptoProperties` object is built from these by cbom/crypto_props.py.
CRYPTO_ASSET_TYPE = "cbom:crypto:asset-type"  # certificate, related-crypto-material, algorithm, protocol
CRYPTO_PATH = "cbom:crypto:path"  # one per file holding the asset
CRYPTO_STORE = "cbom:crypto:store"  # system-trust, local-trust, service, ssh-host, ssh-authorized, key-file
CRYPTO_LOCAL_ANCHOR = "cbom:crypto:local-anchor"  # "true": a trust anchor added on this machine
CRYPTO_FINGERPRINT_SHA256 = "cbom:crypto:fingerprint-sha256"  # hex (X.509) or OpenSSH "SHA256:…" form
CRYPTO_KEY_ALGORITHM = "cbom:crypto:key-algorithm"  # RSA, EC, Ed25519, ssh-rsa…
CRYPTO_KEY_SIZE = "cbom:crypto:key-size"  # bits
CRYPTO_CURVE = "cbom:crypto:curve"
CRYPTO_MATERIAL_TYPE = "cbom:crypto:material-type"  # public-key, private-key (never its value)
CRYPTO_KEY_FORMAT = "cbom:crypto:key-format"  # PEM label or OpenSSH key type line
CRYPTO_ALGORITHM_REF = "cbom:crypto:algorithm-ref"  # ref of the algorithm component of a key
CRYPTO_ACCOUNT = "cbom:crypto:account"  # the account an authorized key lets in
CRYPTO_KEY_OPTIONS = "cbom:crypto:key-options"  # authorized_keys options (from=, command=…)
CRYPTO_REFERENCED_BY = "cbom:crypto:referenced-by"  # the service configuration naming the file
CRYPTO_FINGERPRINT = "cbom:crypto:fingerprint"  # an OpenPGP key's fingerprint (v4 SHA-1, v6 SHA-256), hex
CRYPTO_CREATED = "cbom:crypto:created"  # ISO 8601 UTC
CRYPTO_EXPIRES = "cbom:crypto:expires"  # ISO 8601 UTC
CRYPTO_TRUST_SCOPE = "cbom:crypto:trust-scope"  # a package-signing key: all-repositories or signed-by
# Software outside the package managers (collectors/software/_extra.py): where the package lies.
PACKAGE_PATH = "cbom:package:path"
CRYPTO_PRIMITIVE = "cbom:crypto:primitive"  # algorithm: signature, pke, hash…
CRYPTO_OID = "cbom:crypto:oid"
CRYPTO_PARAMETER_SET = "cbom:crypto:parameter-set"  # algorithm: key size or curve
CERT_SUBJECT = "cbom:cert:subject"  # RFC 4514
CERT_ISSUER = "cbom:cert:issuer"
CERT_SERIAL = "cbom:cert:serial"  # hex
CERT_NOT_BEFORE = "cbom:cert:not-before"  # ISO 8601 UTC
CERT_NOT_AFTER = "cbom:cert:not-after"
CERT_SIGNATURE_ALGORITHM = "cbom:cert:signature-algorithm"  # OpenSSL long name
CERT_SIGNATURE_ALGORITHM_REF = "cbom:cert:signature-algorithm-ref"  # ref of its algorithm component
CERT_FORMAT = "cbom:cert:format"  # X.509
CERT_EXTENSION = "cbom:cert:extension"  # crt, pem, der…
CERT_CA = "cbom:cert:ca"  # true / false (basicConstraints)
CERT_SELF_SIGNED = "cbom:cert:self-signed"  # true / false
CERT_VERSION = "cbom:cert:version"

# --- security posture ----------------------------------------------------------------------------
# collectors/posture: accounts, groups, what starts by itself, serial ports; machine-wide settings
# (sysctls, firewall, disk encryption, SSH server) are host facts under POSTURE_FACT_PREFIX.
POSTURE_KIND = "cbom:posture:kind"  # account, group, startup
ACCOUNT_UID = "cbom:account:uid"
ACCOUNT_GID = "cbom:account:gid"
ACCOUNT_HOME = "cbom:account:home"
ACCOUNT_SHELL = "cbom:account:shell"
ACCOUNT_LOGIN = "cbom:account:login"  # "true" when the shell allows an interactive logon
ACCOUNT_PASSWORD = "cbom:account:password"  # set, locked, empty, none, unknown (never the hash)
ACCOUNT_PASSWORD_CHANGED = "cbom:account:password-changed"  # ISO date
ACCOUNT_PASSWORD_MAX_DAYS = "cbom:account:password-max-days"  # "never" when it does not expire
ACCOUNT_EXPIRES = "cbom:account:expires"  # ISO date
ACCOUNT_ADMIN = "cbom:account:admin"  # why it is an administrator: "uid 0", "group sudo", "sudoers"
ACCOUNT_GROUP = "cbom:account:group"  # one per supplementary group
ACCOUNT_SYSTEM = "cbom:account:system"  # "true" for a system (service) account
ACCOUNT_LAST_LOGON = "cbom:account:last-logon"
ACCOUNT_FULL_NAME = "cbom:account:full-name"
GROUP_GID = "cbom:group:gid"
GROUP_MEMBER = "cbom:group:member"  # one per member
STARTUP_TYPE = "cbom:startup:type"  # systemd-service, systemd-timer, systemd-socket, sysv, cron, …
STARTUP_WANTED_BY = "cbom:startup:wanted-by"  # the target or unit whose .wants/ enables it
STARTUP_PATH = "cbom:startup:path"  # the unit, script or crontab file
STARTUP_COMMAND = "cbom:startup:command"  # ExecStart, the cron command
STARTUP_USER = "cbom:startup:user"
STARTUP_SCHEDULE = "cbom:startup:schedule"  # cron spec, OnCalendar
STARTUP_ORIGIN = "cbom:startup:origin"  # local (/etc/…) or vendor (/lib, /usr/lib)
SERIAL_DEVICE = "cbom:serial:device"  # /dev/ttyS0
SERIAL_UART = "cbom:serial:uart"  # 16550A
SERIAL_PORT = "cbom:serial:port"  # I/O port or MMIO address
SERIAL_IRQ = "cbom:serial:irq"
POSTURE_FACT_PREFIX = "cbom:posture:"


def posture_fact(name: str) -> str:
    """`cbom:posture:<name>`: one machine-wide security setting (a sysctl key such as net.ipv4.ip_forward,
    firewall, disk-encryption, sshd-permit-root-login…)."""
    return POSTURE_FACT_PREFIX + name


# --- offline vulnerability database (cbom/vulndb) ------------------------------------------------
# metadata.properties of a scan matched with `--db`, and the properties of its known vulnerabilities.
VULNDB_KNOWLEDGE_DATE = "cbom:vulndb:knowledge-date"  # ISO date of the database's oldest source
VULNDB_BUILT = "cbom:vulndb:built"  # when `cbom db build` made it (ISO 8601 UTC)
VULNDB_SOURCE = "cbom:vulndb:source"  # one per source: "kind|date|records|licence|name"
VULNDB_STALE = "cbom:vulndb:stale"  # the one-line warning of a database older than the threshold
VULN_KIND = "cbom:vuln:kind"  # vulnerability or end-of-life (tells a known vulnerability from a finding)
VULN_AFFECTED = "cbom:vuln:affected"  # the affected product / version range as the source states it
VULN_EXPLOITED = "cbom:vuln:exploited"  # "true" when the source lists a public exploit
VULN_CONFIDENCE = "cbom:vuln:confidence"  # "exact", or "name/version text" (CSAF matched by names)
VULN_EOL_DATE = "cbom:vuln:eol-date"  # end-of-life: the cycle's end of support (ISO date)
VULN_CYCLE = "cbom:vuln:cycle"  # end-of-life: endoflife.date releaseCycle
VULN_ALIAS = "cbom:vuln:alias"  # one per alias (CVE of an OSV record)
