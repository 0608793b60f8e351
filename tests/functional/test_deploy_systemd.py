"""deploy/systemd/ proved on this machine (doc/deploy.md, "systemd"). There is no systemd as
process 1 here, so each unit is checked by `systemd-analyze verify`, and the services are
started from the units' own ExecStart= lines (deploy_units.py says what a test moves: paths
under a temporary root, the service users to the test's user) with the environment systemd
gives a Type=notify service: NOTIFY_SOCKET, a socket this test binds, and WATCHDOG_USEC. The
p2p-agent's template runs under `systemd-socket-activate --accept`, systemd's own tool for
socket-activated programs, and a Python peer completes the version handshake with it."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import build_dir, free_port, require_binaries, wait_for
from deploy_units import UNITS_DIR, Layout, NotifySocket, read_unit, unit_value, unit_values
from p2p_agent_fixture import Peer

SERVICES = {"node": "orrery-node.service", "wallet": "orrery-wallet.service",
            "gui-bridge": "orrery-gui-bridge.service"}
HARDENING = {"ProtectSystem": ("strict", "full"), "ProtectHome": ("yes", "read-only"), "PrivateTmp": ("yes",),
             "PrivateDevices": ("yes",), "NoNewPrivileges": ("yes",), "MemoryDenyWriteExecute": ("yes",)}
# The test's watchdog period: the units say 60 s (WATCHDOG=1 every 30 s); a test wants to see several.
TEST_WATCHDOG_USEC = 600_000


@pytest.fixture
def layout():
    root = Layout()
    yield root
    root.cleanup()


def test_every_unit_passes_systemd_analyze_verify(tmp_path):
    """verify checks that ExecStart's program exists: it runs on copies whose program is the build's."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (Debian: systemd)")
    require_binaries("node", "wallet", "gui-bridge", "p2p-agent")
    layout = Layout()
    try:
        units = sorted(p.name for p in UNITS_DIR.iterdir() if p.suffix in (".service", ".socket"))
        assert units == ["orrery-gui-bridge.service", "orrery-node.service", "orrery-p2p-agent.socket",
                         "orrery-p2p-agent@.service", "orrery-wallet.service"]
        for name in units:
            text = (UNITS_DIR / name).read_text()
            for program in ("orrery-node", "orrery-wallet", "orrery-gui-bridge", "orrery-p2p-agent"):
                text = text.replace(f"ExecStart=/usr/bin/{program} ", f"ExecStart={layout.rewrite(f'/usr/bin/{program}')} ")
            (tmp_path / name).write_text(text)
        print("systemd-analyze verify", " ".join(units))
        result = subprocess.run(["systemd-analyze", "verify", "--man=no", *units], cwd=tmp_path,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0 and result.stderr == "", result.stderr
        print("and it does fail on a unit whose program is missing (the originals name /usr/bin)")
        shutil.copy(UNITS_DIR / "orrery-node.service", tmp_path / "missing.service")
        if not Path("/usr/bin/orrery-node").exists():
            result = subprocess.run(["systemd-analyze", "verify", "--man=no", "missing.service"], cwd=tmp_path,
                                    capture_output=True, text=True, timeout=60)
            assert result.returncode != 0 and "/usr/bin/orrery-node" in result.stderr
    finally:
        layout.cleanup()


def test_the_units_ask_for_what_the_issue_asks():
    """Type=notify with a watchdog and restarts; hardening at least Bitcoin Core's; each service's own
    user and folders; the socket starts one agent per connection."""
    for role, name in SERVICES.items():
        unit = read_unit(UNITS_DIR / name)
        print(f"{name}: notify, watchdog, restart policy, own user, hardening")
        assert unit_value(unit, "Service", "Type") == "notify"
        assert int(unit_value(unit, "Service", "WatchdogSec")) > 0
        assert unit_value(unit, "Service", "Restart") == "on-failure"
        assert int(unit_value(unit, "Unit", "StartLimitBurst")) > 0
        assert unit_value(unit, "Service", "User") == f"orrery-{role}"
        for key, allowed in HARDENING.items():
            assert unit_value(unit, "Service", key) in allowed, f"{name}: {key}"
        assert unit_value(unit, "Service", "RestrictAddressFamilies") == "AF_UNIX AF_INET AF_INET6"
        assert unit_values(unit, "Service", "SystemCallFilter")[0] == "@system-service"
        assert unit_value(unit, "Service", "ReadWritePaths").split() == [f"/var/lib/orrery-{role}",
                                                                         f"/run/orrery-{role}"]
        assert unit_value(unit, "Service", "StateDirectory") == f"orrery-{role}"
    assert unit_value(read_unit(UNITS_DIR / "orrery-wallet.service"), "Service", "StateDirectoryMode") == "0700"
    print("the node lets each service's user be that role alone: the bridge follows its chain as gui-bridge, the "
          "agents ask for their peers' admission as p2p-agent; no user may be orreryd")
    node_command = unit_values(read_unit(UNITS_DIR / "orrery-node.service"), "Service", "ExecStart")[0].split()
    grants = sorted(w for w in node_command if w.startswith("-ipcallow="))
    assert grants == ["-ipcallow=gui-bridge:orrery-gui-bridge", "-ipcallow=p2p-agent:orrery-p2p",
                      "-ipcallow=wallet:orrery-wallet"]
    bridge_command = unit_values(read_unit(UNITS_DIR / "orrery-gui-bridge.service"), "Service", "ExecStart")[0]
    assert "-ipcconnect=ipc:///run/orrery-node/node.sock" in bridge_command.split()
    socket_unit = read_unit(UNITS_DIR / "orrery-p2p-agent.socket")
    assert unit_value(socket_unit, "Socket", "Accept") == "yes"
    agent = read_unit(UNITS_DIR / "orrery-p2p-agent@.service")
    assert unit_value(agent, "Service", "ReadWritePaths") is None, "an agent writes nothing"
    assert unit_value(agent, "Service", "RestrictAddressFamilies") == "AF_UNIX"


class UnitProcess:
    """One service started from its unit's ExecStart= with the notify environment."""

    def __init__(self, node_factory, layout, role):
        self.role = role
        self.args = layout.command(SERVICES[role])
        self.notify = NotifySocket(layout.root / f"notify-{role}")
        datadir = next(a.split("=", 1)[1] for a in self.args if a.startswith("-datadir="))
        self.process = node_factory.process(
            role, self.args, log_path=f"{datadir}/regtest/debug.log",
            env={"NOTIFY_SOCKET": str(self.notify.path), "WATCHDOG_USEC": str(TEST_WATCHDOG_USEC)})

    def start(self):
        self.process.start()
        wait_for(lambda: self.notify.count("READY=1") or self.process.process.poll() is not None, 30,
                 f"READY=1 from {self.role}")
        assert self.process.running(), f"{self.role} exited: {self.process.stderr}"
        return self


def test_node_wallet_and_bridge_run_from_their_units_and_tell_systemd_they_are_ready(node_factory, layout):
    require_binaries("node", "wallet", "gui-bridge")
    zmq = pytest.importorskip("zmq", reason="python3-zmq is not installed")
    rpc_port, zmq_port = free_port(), free_port()
    layout.write_conf(f"chain=regtest\n[regtest]\nrpcport={rpc_port}\nzmqpubhashblock=tcp://127.0.0.1:{zmq_port}\n")
    services = {role: UnitProcess(node_factory, layout, role) for role in ("node", "wallet", "gui-bridge")}
    context = zmq.Context()
    subscriber = context.socket(zmq.SUB)
    subscriber.setsockopt(zmq.LINGER, 0)
    subscriber.setsockopt(zmq.SUBSCRIBE, b"hashblock")
    try:
        for role in ("gui-bridge", "node", "wallet"):
            print(f"starting {role} from {SERVICES[role]}: {' '.join(services[role].args)}")
            services[role].start()
            print(f"{role} said READY=1 on the notify socket")

        bridge_datadir = layout.root / "var" / "lib" / "orrery-gui-bridge"

        def cli(*args, check=True):
            result = subprocess.run([str(build_dir() / "cli" / "orrery-cli"), f"-conf={layout.conf}",
                                     f"-datadir={bridge_datadir}", *args], capture_output=True, text=True,
                                    timeout=30)
            assert not check or result.returncode == 0, f"orrery-cli {args}: {result.stderr}"
            return result

        print("the bridge serves RPC once the node and the wallet registered")
        wait_for(lambda: cli("getwalletinfo", check=False).returncode == 0, 30, "the wallet's RPC via the bridge")
        print("the bridge follows the node's chain on the node unit's socket, as gui-bridge (-ipcallow)")
        services["gui-bridge"].process.wait_for_log(
            f"Following the node's chain at ipc://{layout.root}/run/orrery-node/node.sock", 15)
        subscriber.connect(f"tcp://127.0.0.1:{zmq_port}")
        address = cli("getnewaddress").stdout.strip()
        assert address.startswith("bcrt1")
        hashes = json.loads(cli("generatetoaddress", "3", address).stdout)
        assert len(hashes) == 3
        print("the mined blocks reach the bridge's ZMQ publisher")
        wait_for(lambda: subscriber.poll(100) and subscriber.recv_multipart()[1].hex() == hashes[-1], 15,
                 "hashblock of the last block")
        assert cli("getblockcount").stdout.strip() == "3"
        print("the wallet follows the node's blocks")
        wait_for(lambda: json.loads(cli("getwalletinfo").stdout).get("lastprocessedblock", {}).get("height") == 3,
                 15, "the wallet at height 3")
        assert json.loads(cli("getwalletinfo").stdout)["lastprocessedblock"]["hash"] == hashes[-1]

        print("each service feeds the watchdog from its main loop: WATCHDOG=1 again and again")
        for role, service in services.items():
            wait_for(lambda: service.notify.count("WATCHDOG=1") >= 3, 10, f"three WATCHDOG=1 from {role}")
            status = [line for message in service.notify.received() for line in message if line.startswith("STATUS=")]
            assert status and status[0].startswith(f"STATUS={role} serving on ipc://{layout.root}/run/")

        print("a stop is announced with STOPPING=1")
        for role in ("wallet", "node", "gui-bridge"):
            assert services[role].process.stop() == 0
            assert services[role].notify.count("STOPPING=1") == 1
        print("the wallet's folder is its user's alone")
        assert (layout.root / "var" / "lib" / "orrery-wallet").stat().st_mode & 0o777 == 0o700
    finally:
        subscriber.close()
        context.term()
        for service in services.values():
            service.notify.close()


def test_without_a_notify_socket_a_service_runs_as_before(node_factory, layout):
    """sd_notify is a no-op outside systemd: no NOTIFY_SOCKET, no watchdog line, same start."""
    require_binaries("node")
    layout.write_conf("chain=regtest\n")
    args = layout.command("orrery-node.service")
    node = node_factory.process("node", args, log_path=f"{layout.root}/var/lib/orrery-node/regtest/debug.log")
    node.start(ready="Node interface on")
    assert node.stop() == 0
    assert "systemd watchdog" not in node.log()
    print("-ipcallow names a user; one this host lacks is an error at start")
    result = node.run("-ipcallow=wallet:orrery-no-such-user")
    assert result.returncode == 1
    assert "-ipcallow=wallet:orrery-no-such-user: no user named 'orrery-no-such-user' on this host" in result.stderr


def test_the_socket_unit_starts_an_agent_that_the_node_admits_and_that_completes_a_handshake(node_factory,
                                                                                            layout):
    if shutil.which("systemd-socket-activate") is None:
        pytest.skip("systemd-socket-activate is not installed (Debian: systemd)")
    pytest.importorskip("bitcoin", reason="python3-bitcoinlib is not installed")
    require_binaries("node", "p2p-agent")
    layout.write_conf("chain=regtest\n")
    node = UnitProcess(node_factory, layout, "node").start()
    socket_unit = read_unit(UNITS_DIR / "orrery-p2p-agent.socket")
    assert unit_value(socket_unit, "Socket", "Accept") == "yes"
    agent_command = layout.command("orrery-p2p-agent@.service")
    port = free_port()
    # systemd-socket-activate gives its children only LISTEN_* and what -E names: the mark passes on.
    activator = node_factory.process(
        "systemd-socket-activate",
        ["systemd-socket-activate", "--accept", f"--listen=127.0.0.1:{port}", "-E", "ORRERY_TEST_MARK",
         *agent_command])
    activator.start(ready="Listening on")
    print("a peer connects: systemd-socket-activate starts the agent with the socket as fd 3")
    peer = Peer(port)
    try:
        version = peer.handshake()
        assert version.strSubVer.startswith(b"/Orrery:")
        node.process.wait_for_log("served by agent", 10)
        node.process.wait_for_log("New inbound peer connected", 10)
        assert "/python-bitcoinlib-test/" in node.process.log()
        print("the agent logged the node's admission and its sandbox")
        wait_for(lambda: "The node admitted the inbound connection from 127.0.0.1:" in activator.stderr, 5,
                 "the admission line")
        assert "Sandbox active:" in activator.stderr
    finally:
        peer.close()
    node.process.wait_for_log(f"peer=0", 10)
    wait_for(lambda: "Disconnecting peer=0" in activator.stderr, 10, "the agent's end")
    activator.stop()
    assert node.process.stop() == 0


def test_a_peer_the_node_refuses_is_closed_by_its_socket_activated_agent(node_factory, layout):
    """Admission is the node's: a node that does not listen (-listen=0 in orrery.conf) refuses every peer."""
    if shutil.which("systemd-socket-activate") is None:
        pytest.skip("systemd-socket-activate is not installed (Debian: systemd)")
    pytest.importorskip("bitcoin", reason="python3-bitcoinlib is not installed")
    require_binaries("node", "p2p-agent")
    layout.write_conf("chain=regtest\nlisten=0\n")
    node = UnitProcess(node_factory, layout, "node").start()
    port = free_port()
    activator = node_factory.process(
        "systemd-socket-activate",
        ["systemd-socket-activate", "--accept", f"--listen=127.0.0.1:{port}", "-E", "ORRERY_TEST_MARK",
         *layout.command("orrery-p2p-agent@.service")])
    activator.start(ready="Listening on")
    peer = Peer(port)
    try:
        assert peer.is_closed(timeout=15), "the agent closes the refused peer's connection"
    finally:
        peer.close()
    wait_for(lambda: "The node refused the inbound connection from 127.0.0.1:" in activator.stderr, 5, "the refusal")
    assert "not accepting inbound connections (-listen=0)" in activator.stderr
    assert "served by agent" not in node.process.log(), "no agent registered"
    activator.stop()
    assert node.process.stop() == 0


def test_systemd_sysusers_makes_every_user_and_group_the_units_name(tmp_path):
    if shutil.which("systemd-sysusers") is None:
        pytest.skip("systemd-sysusers is not installed (Debian: systemd)")
    (tmp_path / "etc").mkdir()
    result = subprocess.run(["systemd-sysusers", f"--root={tmp_path}", str(UNITS_DIR / "orrery.sysusers.conf")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    users = {line.split(":")[0]: line.split(":") for line in (tmp_path / "etc" / "passwd").read_text().splitlines()}
    group_id = next(line.split(":")[2] for line in (tmp_path / "etc" / "group").read_text().splitlines()
                    if line.startswith("orrery:"))
    print(f"users made: {sorted(users)}, group orrery {group_id}")
    for name in sorted(UNITS_DIR.glob("*.service")):
        unit = read_unit(name)
        user = unit_value(unit, "Service", "User")
        assert user in users and users[user][3] == group_id, f"{name.name}: User={user}"
        assert unit_value(unit, "Service", "Group") == "orrery"
        command = unit_values(unit, "Service", "ExecStart")[0].split()
        for grant in (w for w in command if w.startswith("-ipcallow=")):
            assert grant.rsplit(":", 1)[1] in users, f"{name.name}: {grant} names a user sysusers does not make"
