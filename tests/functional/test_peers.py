"""The node's peer policy through a whole constellation: failed dials reported
at once, connections to ourselves found by the version nonce, bans (setban,
listbanned, clearbanned, banlist.json), eviction when the inbound slots are
full, a sandbox violation of one agent under orreryd, and no P2P port bound with -listen=0."""
import json
import re
import socket
import time

import pytest

from conftest import free_port, require_binaries, wait_for


def count(log, pattern):
    return len(re.findall(pattern, log))


def test_a_failed_dial_is_known_to_the_node_at_once_and_an_added_node_is_redialled(node_factory):
    require_binaries("node", "p2p-agent", "gui-bridge")
    daemon = node_factory.orreryd("dialer", extra_args=("-listen=0",)).start()
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


def test_a_node_dialling_its_own_port_finds_itself_by_nonce_and_keeps_no_peer(node_factory):
    require_binaries("node", "p2p-agent", "gui-bridge")
    daemon = node_factory.orreryd("self").start()
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


def rpc_error(result):
    """(code, message) of a failed orrery-cli call, as bitcoin-cli prints them."""
    assert result.returncode != 0, result.stdout
    code = int(re.search(r"error code: (-?\d+)", result.stderr).group(1))
    message = result.stderr.split("error message:", 1)[1].strip()
    return code, message


def test_bantime_sets_the_default_duration_of_setban(node_factory):
    require_binaries("node", "gui-bridge")
    daemon = node_factory.orreryd("bantime", extra_args=("-bantime=600",)).start()
    daemon.cli("setban", "10.1.0.0/16", "add")
    daemon.cli("setban", "10.2.0.0/16", "add", "42")  # an explicit bantime still wins
    banned = {e["address"]: e for e in json.loads(daemon.cli("listbanned").stdout)}
    assert banned["10.1.0.0/16"]["ban_duration"] == 600
    assert banned["10.2.0.0/16"]["ban_duration"] == 42


def test_bans_as_bitcoind_disconnect_refuse_and_survive_a_restart(node_factory):
    require_binaries("node", "p2p-agent", "gui-bridge")
    from p2p_agent_fixture import Peer
    daemon = node_factory.orreryd("bans", extra_args=("-debug=net",)).start()
    peer = Peer(daemon.p2p_port)
    peer.handshake()
    wait_for(lambda: len(json.loads(daemon.cli("getpeerinfo").stdout)) == 1, 10, "the peer in getpeerinfo")

    print("setban 127.0.0.1 add: the connected peer is disconnected through its agent")
    before = int(time.time())
    daemon.cli("setban", "127.0.0.1", "add", "3600")
    assert peer.is_closed(timeout=10)
    wait_for(lambda: json.loads(daemon.cli("getpeerinfo").stdout) == [], 10, "no peers")
    banned = json.loads(daemon.cli("listbanned").stdout)
    assert len(banned) == 1
    entry = banned[0]
    assert set(entry) == {"address", "ban_created", "banned_until", "ban_duration", "time_remaining"}
    assert entry["address"] == "127.0.0.1/32"
    assert before <= entry["ban_created"] <= before + 5
    assert entry["ban_duration"] == 3600 == entry["banned_until"] - entry["ban_created"]
    assert 3590 <= entry["time_remaining"] <= 3600

    print("a new connection from the banned host is refused by the node")
    again = Peer(daemon.p2p_port)
    assert again.is_closed(timeout=10)
    daemon.wait_for_log("refused by the node: address 127.0.0.1 is banned")

    print("bitcoind's errors: already banned -23, unknown unban -30, invalid subnet -30")
    assert rpc_error(daemon.cli("setban", "127.0.0.1", "add", check=False)) == \
        (-23, "Error: IP/Subnet already banned")
    assert rpc_error(daemon.cli("setban", "10.0.0.1", "remove", check=False)) == \
        (-30, "Error: Unban failed. Requested address/subnet was not previously manually banned.")
    assert rpc_error(daemon.cli("setban", "not-an-ip", "add", check=False)) == (-30, "Error: Invalid IP/Subnet")
    assert rpc_error(daemon.cli("setban", "10.0.0.0/33", "add", check=False)) == (-30, "Error: Invalid IP/Subnet")
    assert rpc_error(daemon.cli("setban", "10.0.0.1", "ban", check=False))[0] == -1

    print("a subnet with an absolute end, and the default 24 h")
    until = int(time.time()) + 7200
    daemon.cli("setban", "192.168.0.0/255.255.0.0", "add", str(until), "true")
    daemon.cli("setban", "2001:db8::/32", "add")
    banned = {e["address"]: e for e in json.loads(daemon.cli("listbanned").stdout)}
    assert banned["192.168.0.0/16"]["banned_until"] == until
    assert banned["2001:db8::/32"]["ban_duration"] == 24 * 3600
    assert rpc_error(daemon.cli("setban", "192.168.3.4", "add", check=False))[0] == -23

    print("bans persist across a restart in regtest/banlist.json")
    banlist = daemon.net / "banlist.json"
    assert set(e["address"] for e in json.loads(banlist.read_text())["banned_nets"]) == set(banned)
    assert not (daemon.net / "banlist.json.tmp").exists()
    assert daemon.stop() == 0
    daemon.start()  # debug.log still holds the first run's lines: wait for the RPC server itself
    assert {e["address"] for e in json.loads(daemon.cli("-rpcwait", "listbanned").stdout)} == set(banned)
    daemon.cli("setban", "127.0.0.1", "remove")
    third = Peer(daemon.p2p_port)
    third.handshake()
    third.close()

    print("a damaged banlist.json is logged and the node starts with no bans")
    assert daemon.stop() == 0
    banlist.write_text('{"banned_nets": [{"address": "1.2.3.4/99", "ban_created": 1, "banned_until": 2}]}')
    daemon.start()
    daemon.wait_for_log("banlist.json: entry 0: invalid IP/Subnet; starting with no bans")
    assert json.loads(daemon.cli("-rpcwait", "listbanned").stdout) == []
    daemon.cli("setban", "10.0.0.0/8", "add")
    daemon.cli("clearbanned")
    assert json.loads(daemon.cli("listbanned").stdout) == []
    assert json.loads(banlist.read_text()) == {"banned_nets": []}


@pytest.mark.parametrize("attempt", ["open", "exec"])
def test_an_agent_breaking_its_sandbox_under_orreryd_is_killed_and_only_its_peer_dropped(node_factory,
                                                                                        attempt):
    require_binaries("node", "p2p-agent", "gui-bridge")
    from p2p_agent_fixture import Peer, messages
    # Every agent gets the test options; only the one whose peer calls itself /escape-test/ acts on them.
    daemon = node_factory.orreryd("sandbox", extra_args=(f"-agentarg=-testsandboxescape={attempt}",
                                                          "-agentarg=-testsandboxescapeuseragent=/escape-test/")).start()
    daemon.wait_for_log(f"Test: every p2p-agent gets -testsandboxescape={attempt}")
    good = Peer(daemon.p2p_port)
    good.handshake()
    wait_for(lambda: len(json.loads(daemon.cli("getpeerinfo").stdout)) == 1, 10, "the first peer in getpeerinfo")
    good_id = json.loads(daemon.cli("getpeerinfo").stdout)[0]["id"]

    print(f"the second peer's agent tries {attempt} after its handshake")
    bad = Peer(daemon.p2p_port)
    try:
        bad.handshake(user_agent=b"/escape-test/")
    except (ConnectionError, AssertionError):
        pass  # the agent may die before its last handshake message leaves
    assert bad.is_closed(timeout=10)
    daemon.wait_for_log(f"Test: trying to escape the sandbox ({attempt}) after the handshake with /escape-test/")
    daemon.wait_for_log("killed by signal 31 (SYS)")
    died = next(l for l in daemon.log().splitlines() if "killed by signal 31 (SYS)" in l)
    print(f"  orreryd: {died}")
    pid = int(re.search(r"p2p-agent (\d+) for peer (\d+)", died).group(1))
    bad_id = int(re.search(r"p2p-agent (\d+) for peer (\d+)", died).group(2))
    assert bad_id != good_id
    assert "sandbox escape not stopped" not in daemon.log()

    print("the node drops that peer only; the other still answers pings")
    daemon.wait_for_log(f"Peer {bad_id} (127.0.0.1:")
    wait_for(lambda: [p["id"] for p in json.loads(daemon.cli("getpeerinfo").stdout)] == [good_id], 10,
             "getpeerinfo to list only the good peer")
    assert f"agent {pid} went away" in daemon.log()
    good.send(messages.msg_ping(nonce=777))
    pong, _ = good.receive_until(b"pong")
    assert pong.nonce == 777
    assert daemon.process.poll() is None
    assert [e["pid"] for e in daemon.entries("node")] and daemon.entries("p2p-agent")[0]["peer_address"]
    good.close()


def test_agentarg_is_refused_outside_regtest(node_factory):
    from conftest import build_dir
    orreryd = node_factory.process("orreryd", [build_dir() / "supervisor" / "orreryd",
                                               f"-datadir={node_factory.datadir('signet')}", "-signet", "-listen=0",
                                               "-agentarg=-testsandboxescape=open"])
    result = orreryd.run()
    assert result.returncode != 0
    assert "-agentarg is for tests and only allowed on regtest (not on signet)" in result.stderr + result.stdout


def test_a_full_node_evicts_the_youngest_unprotected_inbound_peer_for_a_newcomer(node_factory):
    require_binaries("node", "p2p-agent", "gui-bridge")
    from p2p_agent_fixture import Peer
    # -maxconnections=16 leaves 16 - 11 automatic outbound slots = 5 inbound slots (doc/node.md).
    daemon = node_factory.orreryd("full", extra_args=("-maxconnections=16",)).start()

    def peer_ids():
        return [p["id"] for p in json.loads(daemon.cli("getpeerinfo").stdout)]

    peers, ids = [], []
    for i in range(5):
        peer = Peer(daemon.p2p_port)
        peer.handshake()
        wait_for(lambda: len(peer_ids()) == i + 1, 10, f"peer {i} in getpeerinfo")
        peers.append(peer)
        ids.append(max(peer_ids()))
    print(f"five inbound peers {ids}; the youngest answers its ping and so has a measured minimum ping")
    ping, _ = peers[4].receive_until(b"ping")
    from p2p_agent_fixture import messages
    peers[4].send(messages.msg_pong(nonce=ping.nonce))
    wait_for(lambda: any(p["id"] == ids[4] and "minping" in p for p in json.loads(daemon.cli("getpeerinfo").stdout)),
             10, "the youngest peer's minping")

    print("a sixth peer: all five share the 127.0 group. Protected: the group's oldest (0), the lowest ping (4),")
    print("the older half of the rest (1); left 2 and 3, and 3, the youngest, is evicted")
    newcomer = Peer(daemon.p2p_port)
    newcomer.handshake()
    assert peers[3].is_closed(timeout=10)
    daemon.wait_for_log(f"Peer {ids[3]} (127.0.0.1:")
    assert "evicted: inbound slots full" in daemon.log()
    wait_for(lambda: sorted(peer_ids()) == sorted(ids[:3] + ids[4:] + [max(peer_ids())]) and len(peer_ids()) == 5,
             10, "the newcomer in place of the evicted peer")
    for kept in (peers[0], peers[1], peers[2], peers[4]):
        assert not kept.is_closed(timeout=0.2)

    for peer in peers + [newcomer]:
        peer.close()
    wait_for(lambda: peer_ids() == [], 10, "every peer gone")


def test_every_agent_follows_setmocktime_from_its_version_message_to_its_ping_timeout(node_factory):
    require_binaries("node", "p2p-agent", "gui-bridge")
    from p2p_agent_fixture import Peer, messages
    daemon = node_factory.orreryd("mock").start()

    def peers():
        return json.loads(daemon.cli("getpeerinfo").stdout)

    print("a peer connected before setmocktime leaves the agent's first ping unanswered")
    early = Peer(daemon.p2p_port)
    assert abs(early.handshake().nTime - time.time()) < 60
    early.receive_until(b"ping")
    wait_for(lambda: len(peers()) == 1, 10, "the early peer in getpeerinfo")
    early_id = peers()[0]["id"]

    pinned = int(time.time()) + 10
    print(f"setmocktime {pinned}: a peer connecting now gets a version stamped with the mock time")
    daemon.cli("setmocktime", str(pinned))
    late = Peer(daemon.p2p_port)
    assert late.handshake().nTime == pinned
    ping, _ = late.receive_until(b"ping")
    late.send(messages.msg_pong(nonce=ping.nonce))
    print("its ping is timed on the pinned clock: the latency is exactly 0")
    wait_for(lambda: any(p["id"] != early_id and p.get("pingtime") == 0 for p in peers()), 10,
             "the late peer's pingtime")

    print("the early agent got the mock time too: data it receives now is stamped with it")
    early.send(messages.msg_ping(nonce=5))
    assert early.receive_until(b"pong")[0].nonce == 5

    print("20 minutes pass on the mock clock only: the early agent's ping times out, as in bitcoind")
    daemon.cli("setmocktime", str(pinned + 1195))
    assert early.is_closed(timeout=10), "the early agent kept a peer whose ping is 20 minutes old on the mock clock"
    daemon.wait_for_log("ping timeout: no pong for 12")
    print("the late peer answered its ping and spoke 1195 s ago on the mock clock: it stays")
    late.send(messages.msg_ping(nonce=6))
    assert late.receive_until(b"pong")[0].nonce == 6
    wait_for(lambda: [p["id"] for p in peers()] != [] and early_id not in [p["id"] for p in peers()], 10,
             "the early peer gone from getpeerinfo")
    early.close()
    late.close()


def test_a_constellation_that_does_not_listen_binds_no_p2p_port(node_factory):
    require_binaries("node", "p2p-agent")
    # (-connect alone would not do here: the fixture's -bind sets -listen=1 first, as it does in bitcoind.)
    node = node_factory.orreryd("n", extra_args=("-listen=0",)).start()
    node.wait_for_log("Not listening for peers (-listen=0)")
    print("as bitcoind: nothing answers on the P2P port, and getnetworkinfo has no local address")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", node.p2p_port), timeout=5).close()
    assert node.rpc("getnetworkinfo")["localaddresses"] == []
