"""Namespaces, veth links, addresses and nftables: the Linux side of the twin.

Every address the twin adds lives inside a namespace it created; the host's own namespace
gets nothing but the namespace handles (/run/netns) and /etc/netns/<name>/resolv.conf.
"""

import contextlib
import ctypes
import ipaddress
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from twin import paths

CLONE_NEWNET = 0x40000000
NETNS_DIR = Path("/run/netns")
ETC_NETNS = Path("/etc/netns")
_LIBC = ctypes.CDLL(None, use_errno=True)


class NetError(RuntimeError):
    pass


def check_tools():
    """Raise with what to install when ip netns or nft is missing or refused."""
    missing = [tool for tool in ("ip", "nft") if shutil.which(tool) is None]
    if missing:
        raise NetError("the twin needs %s: apt-get install iproute2 nftables (./dev twin up installs them)."
                       % " and ".join(missing))
    if os.geteuid() != 0:
        raise NetError("the twin creates network namespaces: run it as root.")


def run(argv, stdin=None, check=True, timeout=30):
    process = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
    if check and process.returncode != 0:
        raise NetError("%s failed: %s" % (" ".join(argv[:6]), (process.stderr or process.stdout).strip()))
    return process


def ip_batch(commands, namespace=None):
    """Run ip commands in one process (-batch), in a namespace when given."""
    if not commands:
        return
    with tempfile.NamedTemporaryFile("w", suffix=".ip", delete=False) as handle:
        handle.write("\n".join(commands) + "\n")
    try:
        run(["ip"] + (["-n", namespace] if namespace else []) + ["-batch", handle.name])
    finally:
        os.unlink(handle.name)


def exists(namespace):
    return (NETNS_DIR / namespace).exists()


def claim_shared():
    """Create this twin's router and internet namespaces under the first free names; (fabric, internet)."""
    for number in range(1, paths.MAX_TWINS + 1):
        fabric, internet = paths.shared_names(number)
        if run(["ip", "netns", "add", fabric], check=False).returncode != 0:
            continue  # another twin's (`ip netns add` fails on an existing name: the claim is atomic)
        if run(["ip", "netns", "add", internet], check=False).returncode != 0:
            run(["ip", "netns", "del", fabric], check=False)
            continue
        return fabric, internet
    raise NetError("%d twins already run on this machine (ip netns list): bring one down." % paths.MAX_TWINS)


def build(lay, fabric, internet):
    """Wire the claimed fabric and internet to one new namespace per VPC of the layout."""
    ip_batch(["netns add %s" % facts["namespace"] for facts in lay.values()])
    links = [(internet, 0)] + [(facts["namespace"], facts["index"]) for facts in lay.values()]
    transit = ipaddress.ip_network(paths.TRANSIT_NET)
    root = []
    fabric_commands = ["link set lo up"]
    for namespace, index in links:
        # Links are made straight inside their namespaces: the host's namespace never holds them.
        root.append("link add f%d netns %s type veth peer name eth0 netns %s" % (index, fabric, namespace))
    ip_batch(root)
    for namespace, index in links:
        base = transit.network_address + index * 256
        fabric_side, far_side = base + 1, base + 2
        fabric_commands += ["addr add %s/24 dev f%d" % (fabric_side, index), "link set f%d up" % index]
        local = ["link set lo up", "addr add %s/24 dev eth0" % far_side, "link set eth0 up"]
        if namespace == internet:
            local.append("addr add %s/32 dev lo" % paths.PUBLIC_ADDRESS)
            local.append("route add default via %s dev eth0 src %s" % (fabric_side, paths.PUBLIC_ADDRESS))
            fabric_commands.append("route add %s via %s dev f%d" % (paths.PUBLIC_NET, far_side, index))
        else:
            facts = next(f for f in lay.values() if f["namespace"] == namespace)
            local += ["addr add %s/32 dev lo" % address for address in facts["addresses"]]
            # The Agent host connects from its own address, also to the endpoints of its own VPC.
            local += ["route replace table local local %s dev lo proto kernel scope host src %s" % (address, facts["agent"])
                      for address in facts["addresses"] if address != facts["agent"]]
            local.append("route add default via %s dev eth0 src %s" % (fabric_side, facts["agent"]))
            fabric_commands.append("route add %s via %s dev f%d" % (facts["cidr"], far_side, index))
        ip_batch(local, namespace)
    ip_batch(fabric_commands, fabric)
    write_sysctl(fabric, "net/ipv4/ip_forward", "1")
    for facts in lay.values():
        folder = ETC_NETNS / facts["namespace"]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "resolv.conf").write_text(
            "# the VPC's Route 53 Resolver (CIDR base + 2), answered by the network twin\n"
            "nameserver %s\noptions timeout:2 attempts:2\n" % facts["resolver"])


def write_sysctl(namespace, key, value):
    with in_namespace(namespace):
        Path("/proc/sys", key).write_text(value)


def teardown(namespaces):
    """Delete the namespaces named (and their /etc/netns folders); missing ones are fine."""
    for name in namespaces:
        if not name.startswith(paths.PREFIX):
            continue  # never anything the twin did not name
        if exists(name):
            run(["ip", "netns", "del", name], check=False)
        folder = ETC_NETNS / name
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def in_namespace(namespace):
    """Run the calling thread inside a namespace (sockets opened here stay there), then come back."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(str(NETNS_DIR / namespace), os.O_RDONLY)
    try:
        if _LIBC.setns(target, CLONE_NEWNET) != 0:
            raise NetError("setns(%s): %s" % (namespace, os.strerror(ctypes.get_errno())))
        yield
    finally:
        _LIBC.setns(own, CLONE_NEWNET)
        os.close(target)
        os.close(own)


def apply_nft(namespace, script):
    """Replace the twin's nftables table in a namespace in one transaction."""
    run(["ip", "netns", "exec", namespace, "nft", "-f", "-"], stdin=script)
