"""The node's peer policy through a whole constellation: failed dials reported
at once, and connections to ourselves found by the version nonce."""
import json
import re
import time

import pytest

from conftest import wait_for
from constellation_fixture import constellation_factory, free_port, real_binary  # noqa: F401


def require_real(*roles):
    for role in roles:
        if real_binary(role) is None:
            pytest.skip(f"orrery-{role} is not built")


def count(log, pattern):
    return len(re.findall(pattern, log))


def test_a_failed_dial_is_known_to_the_node_at_once_and_an_added_node_is_redialled(constellation_factory):
    require_real("node", "p2p-agent", "gui-bridge")
    daemon = constellation_factory("dialer", extra_args=("-listen=0",)).start()
    closed = f"127.0.0.1:{free_port()}"
    failed = re.escape(f"disconnected: connect to {closed} failed: Connection refused")

    print(f"addnode {closed} onetry: the agent's failed dial reaches the node within 2 s")
    started = time.monotonic()
    daemon.cli("addnode", closed, "onetry")
    wait_for(lambda: count(daemon.log(), failed) == 1, 2.0, "the node to log the failed dial")
    print(f"  known to the node after {time.monotonic() - started:.2f} s")
    assert daemon.cli("getpeerinfo").stdout.strip() == "[]"
    print("the attempt is gone from the node: a second onetry dials again at once")
    daemon.cli("addnode", closed, "onetry")
    wait_for(lambda: count(daemon.log(), failed) == 2, 2.0, "the second onetry's failure")

    other = f"127.0.0.1:{free_port()}"
    failed_other = re.escape(f"disconnected: connect to {other} failed: Connection refused")
    print(f"addnode {other} add: dialled at once, then redialled every 5 s (the node's retry schedule)")
    started = time.monotonic()
    daemon.cli("addnode", other, "add")
    wait_for(lambda: count(daemon.log(), failed_other) == 1, 2.0, "the first failure of the added node")
    first = time.monotonic() - started
    wait_for(lambda: count(daemon.log(), failed_other) == 2, 8.0, "the added node to be redialled")
    second = time.monotonic() - started
    print(f"  failures after {first:.2f} s and {second:.2f} s")
    # Not before the retry interval: the schedule, not a tight loop; not after the 20 s pending expiry either.
    assert second - first >= 3.5
    assert daemon.process.poll() is None


def test_a_node_dialling_its_own_port_finds_itself_by_nonce_and_keeps_no_peer(constellation_factory):
    require_real("node", "p2p-agent", "gui-bridge")
    daemon = constellation_factory("self").start()
    own = f"127.0.0.1:{daemon.p2p_port}"
    print(f"addnode {own} onetry: our own outbound version comes back on an inbound connection")
    daemon.cli("addnode", own, "onetry")
    daemon.wait_for_log("connected to self at 127.0.0.1:", timeout=10)
    line = next(l for l in daemon.log().splitlines() if "connected to self at" in l)
    print(f"  {line}")
    assert line.endswith("disconnecting")
    # The two sockets have different addresses (an ephemeral port and the listening one):
    # the address check at admission could not refuse it, the nonce did.
    assert "refused by the node: connection to self" not in daemon.log()
    print("both agents are told to go and the node keeps no peer")
    wait_for(lambda: daemon.cli("getpeerinfo").stdout.strip() == "[]", 5, "no peers")
    wait_for(lambda: daemon.entries("p2p-agent") == [], 10, "both agents to exit")
    assert daemon.process.poll() is None
