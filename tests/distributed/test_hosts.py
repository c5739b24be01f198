"""The equivalence test across two "hosts": two network namespaces joined by a veth pair, each with
its own address, mpirun started inside the first with a host file naming both and an rsh agent
that enters the second's namespace (``ip netns exec``) instead of ssh. The ranks talk TCP over the
pair (``--mca btl tcp,self``: no shared memory). Needs root and ``ip``; skipped otherwise."""
import os
import shutil
import subprocess
import uuid

import pytest

AGENT = """#!/bin/sh
# mpirun's rsh agent: "agent.sh HOST [options] COMMAND" runs COMMAND in HOST's namespace
host=$1; shift
while [ "${1#-}" != "$1" ]; do shift; done
case $host in
%s
*) echo "agent.sh: unknown host $host" >&2; exit 1;;
esac
exec ip netns exec "$ns" sh -c "$*"
"""


def _ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@pytest.fixture
def two_hosts(tmp_path):
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and the ip command (network namespaces)")
    tag = uuid.uuid4().hex[:6]
    names = [f"cr{tag}a", f"cr{tag}b"]
    links = [f"crv{tag}a", f"crv{tag}b"]
    subnet = 100 + int(tag[:2], 16) % 100   # 10.213.<subnet>.x: these namespaces' own addresses
    addresses = [f"10.213.{subnet}.1", f"10.213.{subnet}.2"]
    try:
        for ns in names:
            _ip("netns", "add", ns)
        _ip("link", "add", links[0], "type", "veth", "peer", "name", links[1])
        for ns, link, address in zip(names, links, addresses):
            _ip("link", "set", link, "netns", ns)
            _ip("-n", ns, "addr", "add", address + "/24", "dev", link)
            _ip("-n", ns, "link", "set", link, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
    except (subprocess.CalledProcessError, OSError) as e:
        for ns in names:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        pytest.skip(f"could not create network namespaces: {e}")
    agent = tmp_path / "agent.sh"
    agent.write_text(AGENT % "\n".join(f"{a}) ns={n};;" for a, n in zip(addresses, names)))
    agent.chmod(0o755)
    hosts = tmp_path / "hosts"
    hosts.write_text("".join(f"{a} slots=1\n" for a in addresses))
    yield names, hosts, agent
    for ns in names:   # deleting a namespace deletes its end of the veth pair, and so the pair
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def test_ddp_equivalence_across_two_hosts_over_tcp(mpirun, two_hosts):
    names, hosts, agent = two_hosts
    result = mpirun("equivalence.py", "--separate-hosts", n=2, timeout=90,
                    prefix=("ip", "netns", "exec", names[0]),
                    mpirun_args=("--hostfile", str(hosts), "--mca", "plm_rsh_agent", str(agent),
                                 "--mca", "btl", "tcp,self", "-x", "PATH"))
    assert result.returncode == 0 and result.stdout.strip().endswith("OK"), (
        f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
