"""orrery-node started by hand: datadir layout, the real genesis of each network,
signals, one node per datadir, and asking orreryd for outbound connections."""
import signal

import pytest

from conftest import free_port, require_binaries, wait_for

REGTEST_GENESIS = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"


def test_node_starts_on_the_regtest_genesis_and_stops_on_sigterm(node_factory):
    node = node_factory.service("node").start()
    pid = node.process.pid
    print("the startup line names the real regtest genesis")
    assert f"Genesis {REGTEST_GENESIS} (regtest), tip height 0" in node.log()
    assert f"[node:{pid}]" in node.log()
    print("the node owns blocks/ and chainstate/ and serves on run/node.sock")
    assert (node.net / "blocks").is_dir()
    assert (node.net / "chainstate").is_dir()
    assert (node.net / "run" / "node.sock").exists()
    assert f"Node interface on ipc://{node.net / 'run' / 'node.sock'}" in node.log()
    print("SIGTERM stops it with exit code 0 and removes the socket")
    assert node.stop() == 0
    assert "Shutdown done" in node.log()
    assert not (node.net / "run" / "node.sock").exists()
    assert node.stdout == ""


def test_sigint_stops_the_node_too(node_factory):
    node = node_factory.service("node").start()
    node.process.send_signal(signal.SIGINT)
    assert node.process.wait(timeout=10) == 0
    assert "Shutdown requested (SIGINT)" in node.log()


@pytest.mark.parametrize("chain_args,net,genesis,name", [
    ((), None, "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f", "main"),
    (("-testnet",), "testnet3", "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943", "test"),
    (("-testnet4",), "testnet4", "00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043", "testnet4"),
    (("-chain=signet",), "signet", "00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6", "signet"),
])
def test_each_network_starts_on_its_own_genesis(node_factory, chain_args, net, genesis, name):
    node = node_factory.service("node", chain_args=chain_args, net=net).start()
    assert f"Genesis {genesis} ({name})" in node.log()
    assert (node.net / "blocks").is_dir()
    assert node.stop() == 0


def test_a_second_node_on_the_same_datadir_is_refused(node_factory, tmp_path):
    first = node_factory.service("node", "shared").start()
    second = node_factory.service("node", "shared", extra_args=(f"-ipcbind=ipc://{tmp_path}/other.sock",))
    result = second.run(timeout=10)
    assert result.returncode == 1
    assert "orrery-node is probably already running" in result.stderr
    print("the first node still serves")
    assert first.process.poll() is None
    assert (first.net / "run" / "node.sock").exists()


def test_ipcbind_moves_the_endpoint(node_factory, tmp_path):
    endpoint = f"ipc://{tmp_path}/elsewhere.sock"
    node = node_factory.service("node", extra_args=(f"-ipcbind={endpoint}",)).start()
    assert f"Node interface on {endpoint}" in node.log()
    assert (tmp_path / "elsewhere.sock").exists()
    assert not (node.net / "run" / "node.sock").exists()


def test_under_orreryd_the_node_logs_to_stderr_only(node_factory):
    node = node_factory.service("node", extra_args=("-nodebuglogfile", "-printtoconsole"))
    node.start(wait=False)
    wait_for(lambda: (node.net / "run" / "node.sock").exists(), what="node.sock")
    assert node.stop() == 0
    assert f"Genesis {REGTEST_GENESIS}" in node.stderr
    assert "Shutdown done" in node.stderr
    assert not (node.net / "debug.log").exists()


def test_addnode_without_orreryd_is_logged_and_the_node_keeps_running(node_factory):
    target = f"127.0.0.1:{free_port()}"
    node = node_factory.service("node", extra_args=(f"-addnode={target}",)).start()
    node.wait_for_log(f"Cannot connect to {target}: orreryd is not reachable")
    assert node.process.poll() is None
    assert node.stop() == 0


def test_the_node_asks_orreryd_for_outbound_connections(node_factory):
    print("orreryd runs in its own datadir; the node finds it with -supervisorconnect")
    daemon = node_factory.orreryd("supervisor", extra_args=("-listen=0",)).start()
    endpoint = f"ipc://{daemon.net / 'run' / 'supervisor.sock'}"
    target = f"127.0.0.1:{free_port()}"
    node = node_factory.service("node", extra_args=(f"-supervisorconnect={endpoint}", f"-connect={target}")).start()
    node.wait_for_log(f"Connected to orreryd at {endpoint}")
    assert node.process.poll() is None
    assert node.stop() == 0


def test_two_constellations_connect_and_the_node_redials_when_an_agent_dies(node_factory):
    require_binaries("node", "p2p-agent")
    listener = node_factory.orreryd("listener", extra_args=("-debug=net",)).start()
    target = f"127.0.0.1:{listener.p2p_port}"
    print(f"the second constellation's node dials {target} through its orreryd (-connect)")
    dialer = node_factory.orreryd("dialer", extra_args=("-listen=0", f"-connect={target}", "-debug=net")).start()
    dialer.wait_for_log(f"Peer 0 ({target}, manual) served by agent")
    dialer.wait_for_log("New manual peer connected: version: 70016, blocks=0, peer=0")
    listener.wait_for_log("New inbound peer connected: version: 70016, blocks=0, peer=0")

    print("SIGKILL the dialer's agent: its node notices the lost connection and dials again as peer 1")
    agent_pid = dialer.kill("p2p-agent")
    dialer.wait_for_log(f"Peer 0 ({target}) disconnected: agent {agent_pid} went away")
    dialer.wait_for_log("New manual peer connected: version: 70016, blocks=0, peer=1")
    listener.wait_for_log("New inbound peer connected: version: 70016, blocks=0, peer=1")
