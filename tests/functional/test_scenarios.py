"""Issue-level scenarios across whole constellations: two of them connected
both ways, and each permanent service killed in turn while the others carry on."""
import json

from conftest import require_binaries, wait_for

ROLES = ("node", "wallet", "gui-bridge", "p2p-agent")


def require_all_services():
    require_binaries(*ROLES)


def rpc(c, *args, check=True):
    return c.cli(*args, check=check)


def rpc_json(c, *args):
    return json.loads(rpc(c, *args).stdout)


def rpc_works(c, *args):
    result = rpc(c, *args, check=False)
    return result.returncode == 0 and result.stdout.strip()


def test_two_constellations_connect_both_ways_and_list_each_other_with_distinct_agents(node_factory):
    require_all_services()
    a = node_factory.orreryd("a").start()
    b = node_factory.orreryd("b").start()
    print(f"a dials b ({b.p2p_port}) and b dials a ({a.p2p_port}) with addnode onetry")
    rpc(a, "addnode", f"127.0.0.1:{b.p2p_port}", "onetry")
    rpc(b, "addnode", f"127.0.0.1:{a.p2p_port}", "onetry")

    def both_ways(c):
        peers = rpc_json(c, "getpeerinfo")
        done = [p for p in peers if p.get("version") == 70016]
        return peers if len(done) == 2 and {p["inbound"] for p in done} == {True, False} else None

    peers_a = wait_for(lambda: both_ways(a), 30, "a to list an inbound and an outbound peer")
    peers_b = wait_for(lambda: both_ways(b), 30, "b to list an inbound and an outbound peer")
    for c, peers in ((a, peers_a), (b, peers_b)):
        assert all(p["subver"].startswith("/Orrery:") for p in peers)
        pids = [p["agent_pid"] for p in peers]
        agents = sorted(e["pid"] for e in c.entries("p2p-agent"))
        print(f"getpeerinfo agent pids {pids}; orreryd's agents {agents}")
        assert len(set(pids)) == 2
        assert sorted(pids) == agents
    # Four connections ends, four processes: no agent serves two peers.
    assert len(set(p["agent_pid"] for p in peers_a + peers_b)) == 4
    assert rpc_json(a, "getconnectioncount") == 2


def test_each_service_killed_in_turn_comes_back_and_the_others_reconnect(node_factory):
    require_all_services()
    c = node_factory.orreryd("c").start()
    address = rpc(c, "getnewaddress").stdout.strip()
    assert address.startswith("bcrt1q")
    for role in ("node", "wallet", "gui-bridge"):
        old = c.kill(role)
        wait_for(lambda: c.entries(role) and c.entries(role)[0]["pid"] not in (0, old), 20, f"{role} back")
        entry = c.entries(role)[0]
        print(f"{role} restarted as pid {entry['pid']} (restarts {entry['restarts']})")
        assert entry["restarts"] == 1
        # Through the bridge, both backends answer again: the others reconnected by themselves.
        wait_for(lambda: rpc_works(c, "getblockchaininfo"), 20, "getblockchaininfo after the restart")
        new_address = wait_for(lambda: rpc_works(c, "getnewaddress"), 20, "getnewaddress after the restart")
        assert new_address != address
        address = new_address
    assert c.process.poll() is None
