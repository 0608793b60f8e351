"""A compromised p2p-agent under orreryd controls nothing but its own peer.

tests/tools/rogue_agent stands in for an agent whose peer took it over: orreryd
runs it as its agent binary; it execs the real agent until the test names a
victim, then the next peer's agent turns rogue. Over the real protocol it
registers its own peer, then calls every Node method, PeerHost methods for the
victim, Chain.getTip, and says hello again as a wallet. Each attempt must be
refused with PERMISSION_DENIED and one log line at the node, and the victim
must stay connected and answer pings."""
import re

from conftest import require_binaries, service_binary, tool_binary, wait_for

PERMISSION_DENIED = -32006
NODE_METHODS = ["admitInbound"]
# The node's RPC table is not served on the node's endpoint at all (only to the gui-bridge, over its registration).
RPC_ATTEMPTS = ["rpcHost.call setban", "rpcHost.call disconnectnode"]


def test_a_rogue_agent_is_refused_everything_but_its_own_peer_and_the_other_peer_stays(node_factory, tmp_path):
    require_binaries("node", "p2p-agent", "gui-bridge")
    from p2p_agent_fixture import Peer, messages
    rogue_file = tmp_path / "victim"
    daemon = node_factory.orreryd("identity", binaries={"p2p-agent": tool_binary("rogue_agent")}, extra_args=(
        "-agentspares=0", f"-agentarg=-realagent={service_binary('p2p-agent')}",
        f"-agentarg=-roguefile={rogue_file}")).start()

    print("peer B connects and completes its handshake with a real agent")
    victim = Peer(daemon.p2p_port)
    victim.handshake()
    wait_for(lambda: len(daemon.cli_json("getpeerinfo")) == 1, 10, "peer B in getpeerinfo")
    victim_id = daemon.cli_json("getpeerinfo")[0]["id"]

    print(f"the next peer's agent turns rogue and attacks peer {victim_id}")
    rogue_file.write_text(f"{victim_id}\n")
    intruder = Peer(daemon.p2p_port)
    daemon.wait_for_log("rogue: done", timeout=20)
    log = daemon.log()
    own_id = int(re.search(r"rogue: registered peer (\d+)", log).group(1))
    assert own_id != victim_id
    attempts = [f"node.{m}" for m in NODE_METHODS] + [
        "peerHost.peerDisconnected", "peerHost.handshakeDone", "peerHost.reportStats", "peerHost.registerAgent",
        "peerHost.headersReceived", "peerHost.blockReceived", "peerHost.getBlock", "peerHost.transactionReceived",
        "peerHost.getTransaction", "peerHost.feeFilterReceived", "chain.getTip", "init.hello"]
    for attempt in attempts:
        line = next((l for l in log.splitlines() if f"rogue: {attempt} " in l), None)
        print(f"  {line}")
        assert line is not None and f"refused: {PERMISSION_DENIED} " in line, attempt
        # One log line at the node for each refusal (chain.getTip is tried again after the second hello).
        expected = 2 if attempt == "chain.getTip" else 1
        assert len(re.findall(rf"ipc: node:\d+ rejected {re.escape(attempt)} id=\d+ from p2p-agent:\d+: "
                              r"permission denied", log)) == expected, attempt
    for attempt in RPC_ATTEMPTS:
        line = next((l for l in log.splitlines() if f"rogue: {attempt} " in l), None)
        print(f"  {line}")
        assert line is not None and "refused: " in line, attempt
    assert "rogue: chain.getTip after the second hello refused: -32006" in log
    print("at the gui-bridge, it may not offer RPC methods: not as the node, nor as what it is")
    as_node = next(l for l in log.splitlines() if "rogue: rpcRouter.registerTable as node " in l)
    print(f"  {as_node}")
    assert "was started by orreryd as p2p-agent" in as_node
    assert len(re.findall(r"ipc: gui-bridge:\d+ rejected init.hello id=\d+ from peer [0-9a-f]+: permission denied: "
                          r"ipc pid \d+ uid \d+ may not say it is node: pid \d+ was started by orreryd as p2p-agent",
                          log)) == 1
    assert f"rogue: rpcRouter.registerTable as p2p-agent refused: {PERMISSION_DENIED} " in log
    assert len(re.findall(r"ipc: gui-bridge:\d+ rejected rpcRouter.registerTable id=\d+ from p2p-agent:\d+: "
                          r"permission denied", log)) == 1
    assert "ALLOWED" not in log
    assert "second hello (as wallet)" in log

    print("peer B is still connected and its agent still answers pings; the rogue keeps only its own peer")
    assert sorted(p["id"] for p in daemon.cli_json("getpeerinfo")) == sorted([victim_id, own_id])
    victim.send(messages.msg_ping(nonce=4242))
    pong, _ = victim.receive_until(b"pong")
    assert pong.nonce == 4242
    assert daemon.cli_json("listbanned") == []
    assert daemon.process.poll() is None
    victim.close()
    intruder.close()

