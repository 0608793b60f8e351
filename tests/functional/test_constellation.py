"""orreryd running a constellation: start order, restarts, giving up, logs,
P2P connections handed to agents, and nothing left behind however it ends."""
import os
import re
import signal
import socket
import time

from conftest import stand_in_binary, wait_for, zombie_children

SERVICES = ["node", "wallet", "gui-bridge"]


def test_status_lists_orreryd_and_the_services_with_their_pids(node_factory):
    c = node_factory.orreryd().start()
    status = [e for e in c.status() if e["role"] != "p2p-agent"]  # spares: see the spare tests
    print(status)
    assert [e["role"] for e in status] == ["orreryd"] + SERVICES
    assert status[0]["pid"] == c.process.pid
    for entry in status[1:]:
        assert entry["pid"] > 0 and entry["state"] == "running" and entry["restarts"] == 0
        assert entry["rss_bytes"] > 0
        assert os.readlink(f"/proc/{entry['pid']}/exe") == str(c.binaries[entry["role"]])
        # Each child leads its own process group, apart from orreryd's.
        assert os.getpgid(entry["pid"]) == entry["pid"]
    log = c.log()
    assert log.index("node is ready") < log.index("Started wallet") < log.index("wallet is ready") \
        < log.index("Started gui-bridge")
    for entry in status[1:]:  # their lines reach debug.log through orreryd, tagged with role and pid
        assert f"[{entry['role']}:{entry['pid']}]" in log


def test_a_killed_node_is_restarted_with_a_new_pid(node_factory):
    c = node_factory.orreryd().start()
    old = c.kill("node")
    started = time.monotonic()

    def restarted():
        entries = [e for e in c.entries("node") if e["pid"] and e["pid"] != old and e["state"] == "running"]
        return entries[0] if entries else None
    entry = wait_for(restarted, 15, "a new node")
    print(f"node restarted as {entry['pid']} after {time.monotonic() - started:.1f}s")
    assert entry["restarts"] == 1
    assert "killed by signal 9 (KILL); restarting it in 1000 ms" in c.log()
    assert [e["role"] for e in c.status() if e["role"] != "p2p-agent"] == ["orreryd"] + SERVICES


def version_message(port):
    from bitcoin.messages import msg_version
    import bitcoin
    bitcoin.SelectParams("regtest")
    version = msg_version()
    version.nVersion = 70016
    version.addrTo.port = port
    return version.to_bytes()


def test_spare_agents_wait_ready_and_take_inbound_peers(node_factory):
    """orreryd keeps -agentspares agents started ahead of need; a peer goes to a ready one, which
    becomes that peer's agent, and another spare takes its place. A spare that dies unused is replaced."""
    c = node_factory.orreryd(extra_args=["-agentspares=2", "-debug=net"]).start()
    spares = wait_for(lambda: (lambda s: s if len(s) == 2 and all(e["state"] == "spare" for e in s) else None)(
        c.spares()), 20, "two ready spares")
    for entry in spares:
        assert os.readlink(f"/proc/{entry['pid']}/exe") == str(c.binaries["p2p-agent"])
        assert "-spare=3" in open(f"/proc/{entry['pid']}/cmdline").read().split("\0")
    assert not c.entries("p2p-agent")
    ready = {e["pid"] for e in spares}

    with socket.create_connection(("127.0.0.1", c.p2p_port)) as peer:
        peer.sendall(version_message(c.p2p_port))
        agents = wait_for(lambda: c.entries("p2p-agent"), 15, "an agent for the peer")
        assert agents[0]["pid"] in ready, "a ready spare serves the peer"
        assert agents[0]["peer_address"] == "%s:%d" % peer.getsockname()
        assert peer.recv(24)[4:16].rstrip(b"\0") == b"version"  # the handed-over socket works
        wait_for(lambda: len(c.spares()) == 2 and agents[0]["pid"] not in {e["pid"] for e in c.spares()}, 15,
                 "a new spare in place of the one used")
        assert f"p2p-agent {agents[0]['pid']} (a spare) serves inbound peer" in c.log()

    # A spare killed before it served anyone is replaced, after a pause.
    victim = c.spares()[0]["pid"]
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: len(c.spares()) == 2 and victim not in {e["pid"] for e in c.spares()}, 15,
             "a replacement spare")
    assert f"Spare p2p-agent {victim} killed by signal 9 (KILL) before it served a peer; starting another in 1 s" \
        in c.log()


def test_without_spares_each_peer_gets_a_fresh_agent(node_factory):
    c = node_factory.orreryd(extra_args=["-agentspares=0"]).start()
    # orreryd starts its spares in the same step as it logs "All services started", which start() waited for.
    assert not c.spares()
    with socket.create_connection(("127.0.0.1", c.p2p_port)) as peer:
        peer.sendall(version_message(c.p2p_port))
        agents = wait_for(lambda: c.entries("p2p-agent"), 15, "an agent for the peer")
        assert "-inboundfd=3" in open(f"/proc/{agents[0]['pid']}/cmdline").read().split("\0")
        assert peer.recv(24)[4:16].rstrip(b"\0") == b"version"
    assert not c.spares()


def test_a_crash_loop_makes_orreryd_give_up_with_one_clear_line(node_factory):
    c = node_factory.orreryd(extra_args=["-restartintensity=2", "-restartperiod=60"],
                              binaries={"node": "/bin/false"})
    c.start(wait_all=False)
    assert c.process.wait(timeout=30) != 0
    stderr = c.stderr
    print(stderr)
    assert "Error: node failed 3 times within 60 s (last: node" in stderr
    assert "exited with status 1); giving up and stopping Orrery" in stderr
    log = c.log()
    assert log.count("restarting it in") == 2
    assert "restarting it in 1000 ms" in log and "restarting it in 2000 ms" in log
    assert "Started wallet" not in log  # nothing starts after a node that never became ready


def test_an_exec_failure_is_reported_not_hidden(node_factory, tmp_path):
    broken = tmp_path / "broken-node"
    broken.write_text("#!/nonexistent/interpreter\n")
    broken.chmod(0o755)
    c = node_factory.orreryd(extra_args=["-restartintensity=0"], binaries={"node": str(broken)})
    c.start(wait_all=False)
    assert c.process.wait(timeout=30) == 1
    stderr = c.stderr
    assert f"cannot start {broken}: No such file or directory" in stderr


def test_untagged_and_unfinished_output_of_a_child_is_tagged_and_kept_whole(node_factory, tmp_path):
    chatty = tmp_path / "chatty"
    chatty.write_text("#!/bin/sh\necho \"plain line from a foreign program\"\nprintf 'no newline at the end'\n"
                      "exec sleep 600\n")
    chatty.chmod(0o755)
    c = node_factory.orreryd(binaries={"gui-bridge": str(chatty)}, extra_args=["-stoptimeout=2"])
    c.start(wait_all=False)
    c.wait_for_log("plain line from a foreign program")
    pid = c.pid("gui-bridge")
    assert c.stop() == 0
    lines = c.log().splitlines()
    plain = [line for line in lines if "plain line from a foreign program" in line]
    assert len(plain) == 1 and f" [gui-bridge:{pid}] plain line" in plain[0]
    assert any(line.endswith(f"[gui-bridge:{pid}] no newline at the end") for line in lines)


def test_sigterm_stops_gui_bridge_wallet_agents_node_in_that_order(node_factory):
    c = node_factory.orreryd().start()
    peer = socket.create_connection(("127.0.0.1", c.p2p_port))
    try:
        wait_for(lambda: c.entries("p2p-agent"), 15, "an agent for the peer")
        assert c.entries("p2p-agent")[0]["peer_address"] == "%s:%d" % peer.getsockname()
        assert c.stop() == 0
    finally:
        peer.close()
    log = c.log()
    order = [log.index(f"Stopping {role} (pid") for role in ("gui-bridge", "wallet", "node")]
    agent_exit = log.index("p2p-agent ")
    assert order[0] < order[1] < agent_exit < order[2]
    assert "Shutdown done" in log


def test_sigkill_of_orreryd_leaves_no_process(node_factory):
    c = node_factory.orreryd().start()
    peer = socket.create_connection(("127.0.0.1", c.p2p_port))
    try:
        wait_for(lambda: c.entries("p2p-agent"), 15, "an agent for the peer")
        pids = [e["pid"] for e in c.status()]
        assert len(c.survivors()) == len(pids)
        print(f"SIGKILL to orreryd {c.process.pid}; children {pids[1:]}")
        c.process.kill()
        c.process.wait()
        wait_for(lambda: not c.survivors(), 10, "every child to die with orreryd")
    finally:
        peer.close()


def test_two_hundred_peers_come_and_go_without_zombies_or_fd_growth(node_factory):
    # -debug=net: orreryd logs each connection the node refuses (limits), so every peer is accounted for.
    c = node_factory.orreryd(extra_args=["-debug=net"]).start()
    # Counted once the two default spares are ready, so that their start-up is not taken for growth.
    wait_for(lambda: [e["state"] for e in c.spares()] == ["spare", "spare"], 20, "two ready spares")
    before = c.fd_count()
    for batch in range(10):
        peers = [socket.create_connection(("127.0.0.1", c.p2p_port)) for _ in range(20)]
        for peer in peers:
            peer.close()

    def orreryd_lines(pattern):
        return [line for line in c.log().splitlines() if "[orreryd:" in line and re.search(pattern, line)]

    def accounted():
        return len(orreryd_lines(r"\] p2p-agent \d+ for peer ")) + len(orreryd_lines("refused by the node"))
    wait_for(lambda: accounted() >= 200 and not c.entries("p2p-agent"), 90, "200 peers served or refused")
    exits = orreryd_lines(r"\] p2p-agent \d+ for peer ")
    print(f"{len(exits)} agents exited, {200 - len(exits)} peers refused; fds before {before}, now {c.fd_count()}")
    assert accounted() == 200
    assert len(exits) >= 100  # most peers got an agent
    assert zombie_children(c.process.pid) == []
    wait_for(lambda: c.fd_count() <= before, 10, f"orreryd's fd count back to {before}")


def test_the_node_asks_orreryd_to_open_an_outbound_connection(node_factory):
    listener = socket.create_server(("127.0.0.1", 0))
    address = "127.0.0.1:%d" % listener.getsockname()[1]
    c = node_factory.orreryd(binaries={"node": stand_in_binary(), "p2p-agent": stand_in_binary()},
                              env={"ORRERY_TEST_OUTBOUND": address})
    c.start()
    listener.settimeout(15)
    conn, _ = listener.accept()
    try:
        agents = wait_for(lambda: c.entries("p2p-agent"), 10, "the outbound agent in status")
        assert agents[0]["peer_address"] == address
    finally:
        conn.close()
        listener.close()
    wait_for(lambda: not c.entries("p2p-agent"), 10, "the agent to exit when the peer closed")
    assert f"p2p-agent {agents[0]['pid']} for peer 1000 ({address}) exited with status 0" in c.log()


def test_restart_over_the_supervisor_interface_replaces_the_service(node_factory):
    # The stand-in node calls Supervisor.restart for each role in ORRERY_TEST_RESTART.
    c = node_factory.orreryd(binaries={"node": stand_in_binary()}, env={"ORRERY_TEST_RESTART": "bogus,wallet"})
    c.start()
    c.wait_for_log("restart wallet done")
    assert "restart bogus failed: Unknown service 'bogus'; restart takes node, wallet or gui-bridge" in c.log()
    wallet = wait_for(lambda: [e for e in c.entries("wallet") if e["state"] == "running" and e["restarts"] == 1],
                      15, "the wallet back up")
    assert "wallet (pid" in c.log() and "stopped for a restart" in c.log()
    assert wallet[0]["pid"] != 0
