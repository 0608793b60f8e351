"""A constellation spread over hosts, proved on this machine with network namespaces
(doc/deploy.md, "Across hosts"). Four hosts, each a namespace, joined by point-to-point veth
links with addresses of TEST-NET-1 (192.0.2.0/24, which no real host has):

    wallet ---- node ---- peer          node: orrery-node and the p2p acceptor
       \\        |                       wallet: orrery-wallet
        \\       |                       bridge: orrery-gui-bridge (JSON-RPC)
         `---- bridge                    peer: a second constellation (orreryd) as a P2P peer

Each service runs the command docker-compose.yml gives its container, through the image's
entrypoint (deploy/docker/orrery-entrypoint, which copies the key material from the secrets),
with the key material deploy/orrery-keys makes: what changes is only what a host is not a
container (`Host.compose_command`: the folders, the service names resolved to the link's
address, the build's binaries). Everything between the hosts is tcp:// with CurveZMQ.

What exists today is tested: mining through the bridge, the wallet following the node's blocks
across hosts, the bridge following the node's chain with its own key (its ZMQ publisher heard on
another host), a key that is not allowed refused and logged, the P2P handshake between the two
nodes (no block sync between nodes yet, issue 10), the cut wallet-node link (calls in flight fail
as "disconnected" within the bound, the wallet says it lost the node and catches up after), and
latency and loss on that link when the kernel has sch_netem. Sending payments (issue 11) is not
built yet: the payment parts of the issue wait for it."""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import SOURCE_ROOT, NodeFactory, build_dir, require_binaries, tool_binary, wait_for

yaml = pytest.importorskip("yaml", reason="python3-yaml is not installed")
pytest.importorskip("zmq", reason="python3-zmq is not installed (deploy/orrery-keys makes CurveZMQ keys with it)")

COMPOSE = SOURCE_ROOT / "deploy" / "docker" / "docker-compose.yml"
ENTRYPOINT = SOURCE_ROOT / "deploy" / "docker" / "orrery-entrypoint"
# The links: (host a, address of a, host b, address of b), each a /30.
LINKS = [("node", "192.0.2.1", "wallet", "192.0.2.2"), ("node", "192.0.2.5", "bridge", "192.0.2.6"),
         ("wallet", "192.0.2.9", "bridge", "192.0.2.10"), ("node", "192.0.2.13", "peer", "192.0.2.14")]
COMPOSE_HOST = {"node": "node", "gui-bridge": "bridge", "wallet": "wallet", "p2p": "node"}
# How long the wallet-node link stays down: the 30 s.
CUT_SECONDS = 30
# ARCHITECTURE's bound for a call to a peer that is cut off (heartbeats: 0.5 s interval, 1.5 s timeout),
# with room for a loaded machine.
DISCONNECT_BOUND_MS = 3000


def run(*args, check=True, timeout=30):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} failed ({result.returncode}): {result.stderr}")
    return result


def netns_available():
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return "needs root and iproute2 (ip netns)"
    probe = f"orrery-probe-{uuid.uuid4().hex[:6]}"
    if run("ip", "netns", "add", probe, check=False).returncode != 0:
        return "ip netns add failed (no network namespaces here)"
    run("ip", "netns", "del", probe, check=False)
    return None


def netem_available():
    """Whether the kernel has sch_netem: a qdisc on a scratch namespace's loopback."""
    if shutil.which("tc") is None:
        return False
    probe = f"orrery-probe-{uuid.uuid4().hex[:6]}"
    run("ip", "netns", "add", probe)
    try:
        return run("ip", "netns", "exec", probe, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms",
                   check=False).returncode == 0
    finally:
        run("ip", "netns", "del", probe, check=False)


class Hosts:
    """The namespaces and links; `cleanup` removes them whatever happened."""

    def __init__(self):
        self.tag = uuid.uuid4().hex[:6]
        self.names = {}
        self.link_devices = {}  # (a, b) -> (device in a, device in b)

    def ns(self, host):
        return self.names[host]

    def build(self):
        for host in ("node", "wallet", "bridge", "peer"):
            name = f"orrery-{self.tag}-{host}"
            run("ip", "netns", "add", name)
            self.names[host] = name
            run("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
        for index, (a, address_a, b, address_b) in enumerate(LINKS):
            dev_a, dev_b = f"o{self.tag}{index}a", f"o{self.tag}{index}b"
            run("ip", "link", "add", dev_a, "netns", self.ns(a), "type", "veth", "peer", "name", dev_b, "netns",
                self.ns(b))
            for host, dev, address in ((a, dev_a, address_a), (b, dev_b, address_b)):
                run("ip", "netns", "exec", self.ns(host), "ip", "addr", "add", f"{address}/30", "dev", dev)
                run("ip", "netns", "exec", self.ns(host), "ip", "link", "set", dev, "up")
            self.link_devices[(a, b)] = (dev_a, dev_b)

    def address(self, of, seen_from):
        """The address of host `of` on its link with `seen_from`."""
        if of == seen_from:
            return "127.0.0.1"
        for a, address_a, b, address_b in LINKS:
            if (a, b) == (of, seen_from):
                return address_a
            if (a, b) == (seen_from, of):
                return address_b
        raise AssertionError(f"no link between {of} and {seen_from}")

    def exec(self, host, *args, check=True, timeout=30):
        return run("ip", "netns", "exec", self.ns(host), *args, check=check, timeout=timeout)

    def set_link(self, a, b, state):
        device = self.link_devices[(a, b)][0]
        self.exec(a, "ip", "link", "set", device, state)

    def cleanup(self):
        for name in self.names.values():
            run("ip", "netns", "del", name, check=False)


class Constellation:
    """The four hosts, the key material, and a NodeFactory for the processes."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.hosts = Hosts()
        self.factory = NodeFactory(self.directory)
        self.compose = yaml.safe_load(COMPOSE.read_text())
        self.keys = self.directory / "keys"
        self.processes = {}

    # --- what compose says, laid on a host

    def host_dir(self, service):
        path = self.directory / service
        path.mkdir(exist_ok=True)
        return path

    def secrets(self, service):
        """The service's secrets as the container sees them: /run/secrets/<target>."""
        folder = self.host_dir(service) / "secrets"
        folder.mkdir(exist_ok=True)
        files = self.compose["secrets"]
        for secret in self.compose["services"][service].get("secrets", []):
            source = Path(files[secret["source"]]["file"]).name
            shutil.copy(self.keys / source, folder / secret["target"])
        return folder

    def compose_command(self, service):
        """The compose file's command for `service`, on its host instead of in a container."""
        host = COMPOSE_HOST[service]
        folder = self.host_dir(service)
        words = []
        for word in self.compose["services"][service]["command"]:
            word = word.replace("${ORRERY_CHAIN:-regtest}", "regtest")
            word = re.sub(r"^-datadir=/data$", f"-datadir={folder}/data", word)
            word = re.sub(r"^-datadir=/tmp/p2p$", f"-datadir={folder}/p2p", word)
            word = word.replace("/run/secrets/", f"{folder}/secrets/")
            for name, other in (("node", "node"), ("gui-bridge", "bridge")):
                word = word.replace(f"tcp://{name}:", f"tcp://{self.hosts.address(other, host)}:")
            if word.startswith("orrery-"):
                word = str(binary(word))
            words.append(word)
        if words[0] == "systemd-socket-activate":
            words.insert(1, "-E")  # the test's mark on every agent, so that teardown finds them all
            words.insert(2, "ORRERY_TEST_MARK")
        return words

    def environment(self, service):
        env = {k: v.replace("${ORRERY_CHAIN:-regtest}", "regtest")
               for k, v in self.compose["services"][service].get("environment", {}).items()}
        env["ORRERY_SECRETS"] = str(self.secrets(service))
        # The container's datadir (the entrypoint's default /data, or the compose file's) on this host.
        container_datadir = env.get("ORRERY_DATADIR", "/data")
        env["ORRERY_DATADIR"] = str(self.host_dir(service) / Path(container_datadir).name)
        return env

    def start(self, service, ready):
        host = COMPOSE_HOST[service]
        args = ["ip", "netns", "exec", self.hosts.ns(host), "/bin/sh", str(ENTRYPOINT), *self.compose_command(service)]
        datadir = self.environment(service)["ORRERY_DATADIR"]
        process = self.factory.process(service, args, env=self.environment(service),
                                       log_path=None if service == "p2p" else f"{datadir}/regtest/debug.log")
        print(f"on host {host}: {service}")
        process.start(ready=ready, timeout=30)
        self.processes[service] = process
        return process

    def log(self, service):
        return self.processes[service].log()

    # --- JSON-RPC through the bridge, as the compose health checks call it

    def cli(self, from_service, *args, check=True, timeout=30):
        """orrery-cli as `from_service`'s compose health check runs it, with another method."""
        test = self.compose["services"][from_service]["healthcheck"]["test"][1:]
        words = [w.replace("${ORRERY_CHAIN:-regtest}", "regtest")
                  .replace("/run/secrets/", f"{self.host_dir(from_service)}/secrets/") for w in test]
        host = COMPOSE_HOST[from_service]
        words = [f"-rpcconnect={self.hosts.address('bridge', host)}" if w.startswith("-rpcconnect=") else w
                 for w in words]
        method_at = next(i for i, w in enumerate(words) if not w.startswith("-") and i > 0)
        command = [str(binary("orrery-cli")), *words[1:method_at], *args]
        return self.hosts.exec(host, *command, check=check, timeout=timeout)

    def rpc(self, *args, wallet=False):
        result = self.cli("wallet" if wallet else "gui-bridge", *args)
        text = result.stdout.strip()
        try:
            return json.loads(text)
        except ValueError:
            return text

    def teardown(self):
        try:
            self.factory.teardown()
        finally:
            self.hosts.cleanup()


def binary(name):
    folder = {"orrery-node": "services/node", "orrery-wallet": "services/wallet", "orrery-p2p-agent":
              "services/p2p-agent", "orrery-gui-bridge": "services/gui-bridge", "orrery-cli": "cli",
              "orreryd": "supervisor"}[name]
    return build_dir() / folder / name


@pytest.fixture(scope="module")
def constellation(tmp_path_factory):
    reason = netns_available()
    if reason:
        pytest.skip(reason)
    require_binaries("node", "wallet", "gui-bridge", "p2p-agent")
    if shutil.which("systemd-socket-activate") is None:
        pytest.skip("systemd-socket-activate is not installed (Debian: systemd)")
    c = Constellation(tmp_path_factory.mktemp("netns"))
    try:
        c.hosts.build()
        subprocess.run([sys.executable, str(SOURCE_ROOT / "deploy" / "orrery-keys"), str(c.keys), "--rpc"], check=True,
                       capture_output=True, timeout=60)
        c.start("gui-bridge", ready="gui-bridge ready")
        c.start("node", ready="Node interface on")
        c.start("wallet", ready="Wallet interfaces on")
        c.start("p2p", ready="Listening on")
        c.processes["gui-bridge"].wait_for_log("Connected to the wallet service", 30)
        c.processes["gui-bridge"].wait_for_log("Connected to the node service", 30)
        c.processes["wallet"].wait_for_log("Connected to the node at", 30)
        c.processes["gui-bridge"].wait_for_log("Following the node's chain at tcp://", 30)
        yield c
    finally:
        c.teardown()


def wallet_height(c):
    info = c.rpc("-rpcwallet=default", "getwalletinfo", wallet=True)
    return info.get("lastprocessedblock", {}).get("height")


def test_mining_through_the_bridge_reaches_the_wallet_on_another_host(constellation):
    c = constellation
    print("every compose health check passes, each from its own host")
    for service in ("gui-bridge", "node", "wallet"):
        assert c.cli(service, *c.compose["services"][service]["healthcheck"]["test"][-1:]).returncode == 0
    print("the links are tcp:// with CurveZMQ: the wallet reached the node at its link's address")
    assert "Connected to the node at tcp://192.0.2.1:28440" in c.log("wallet")
    address = c.rpc("getnewaddress", wallet=True)
    assert address.startswith("bcrt1")
    hashes = c.rpc("generatetoaddress", "5", address)
    assert len(hashes) == 5
    wait_for(lambda: wallet_height(c) == 5, 15, "the wallet at height 5")
    assert c.rpc("-rpcwallet=default", "getwalletinfo", wallet=True)["lastprocessedblock"]["hash"] == hashes[-1]


def can_send(c):
    return "sendtoaddress" in c.rpc("help")


def pay_and_confirm(c):
    """A payment from the wallet's host through the bridge, mined on the node and confirmed in the wallet."""
    address = c.rpc("getnewaddress", wallet=True)
    if c.rpc("-rpcwallet=default", "getbalances", wallet=True)["mine"]["trusted"] < 2:
        c.rpc("generatetoaddress", "101", address)
        wait_for(lambda: c.rpc("-rpcwallet=default", "getbalances", wallet=True)["mine"]["trusted"] >= 2, 30,
                 "a mature coinbase in the wallet")
    payee = c.rpc("getnewaddress", wallet=True)
    # An explicit fee rate, as bitcoind's regtest needs without -fallbackfee (no fee estimates yet).
    txid = c.rpc("-named", "sendtoaddress", f"address={payee}", "amount=1.5", "fee_rate=10", wallet=True)
    print(f"sent {txid} from the wallet's host through the bridge")
    wait_for(lambda: txid in c.rpc("getrawmempool"), 15, "the payment in the node's mempool")
    block = c.rpc("generatetoaddress", "1", address)[0]
    wait_for(lambda: c.rpc("-rpcwallet=default", "gettransaction", txid, wallet=True).get("blockhash") == block, 30,
             "the payment confirmed in the wallet")


def test_a_payment_sent_through_the_bridge_confirms_across_hosts(constellation):
    """The wallet signs on its host, the node takes the transaction on its own, the bridge routes both."""
    if not can_send(constellation):
        pytest.skip("the wallet cannot send yet (sendtoaddress is issue 11): the payment step waits for it")
    pay_and_confirm(constellation)


SUBSCRIBER = (
    "import sys, zmq\n"
    "ctx = zmq.Context()\n"
    "s = ctx.socket(zmq.SUB)\n"
    "s.setsockopt(zmq.LINGER, 0)\n"
    "s.setsockopt(zmq.SUBSCRIBE, b'hashblock')\n"
    "s.connect(sys.argv[1])\n"
    "print('subscribed', flush=True)\n"
    "while s.poll(int(sys.argv[2])):\n"
    "    topic, body, sequence = s.recv_multipart()\n"
    "    print(body.hex(), flush=True)\n")


def test_the_bridge_follows_the_node_across_hosts_and_publishes_its_blocks_over_zmq(constellation):
    """The bridge's own link to the node (its Chain subscription, its key in the node's allow-list) feeds
    bitcoind's ZMQ topics and the web GUI's live tip; a subscriber on a third host hears the node's blocks."""
    c = constellation
    node_endpoint = f"tcp://{c.hosts.address('node', 'bridge')}:28440"
    assert f"Following the node's chain at {node_endpoint}" in c.log("gui-bridge")
    info = c.rpc("getblockchaininfo")
    assert info["chain"] == "regtest"
    zmq_address = next(w for w in c.compose["services"]["gui-bridge"]["command"] if w.startswith("-zmqpubhashblock="))
    zmq_address = zmq_address.split("=", 1)[1].replace("0.0.0.0", c.hosts.address("bridge", "wallet"))
    print(f"a python3-zmq subscriber on the wallet's host listens to the bridge at {zmq_address}")
    subscriber = c.factory.process("zmq-subscriber", ["ip", "netns", "exec", c.hosts.ns("wallet"), sys.executable,
                                                      "-c", SUBSCRIBER, zmq_address, "20000"])
    subscriber.start()
    wait_for(lambda: "subscribed" in subscriber.stdout, 10, "the subscriber")
    address = c.rpc("getnewaddress", wallet=True)
    hashes = c.rpc("generatetoaddress", "2", address)
    print("blocks mined on the node reach the bridge's publisher on another host")
    wait_for(lambda: hashes[-1] in subscriber.stdout.split(), 15, "hashblock of the last block")
    assert c.rpc("getblockchaininfo")["bestblockhash"] == hashes[-1]
    subscriber.stop()


def test_a_client_whose_key_is_not_allowed_is_refused_and_logged(constellation):
    c = constellation
    node_pub = (c.keys / "node.pub").read_text().strip()
    script = (
        "import zmq, sys\n"
        "ctx = zmq.Context()\n"
        "pub, sec = zmq.curve_keypair()\n"
        "s = ctx.socket(zmq.DEALER)\n"
        "s.curve_serverkey = sys.argv[1].encode(); s.curve_publickey = pub; s.curve_secretkey = sec\n"
        "s.setsockopt(zmq.LINGER, 0)\n"
        "s.connect(sys.argv[2])\n"
        "s.send(b'hello')\n"
        "print(pub.decode())\n"
        "print('answered' if s.poll(3000) else 'no answer')\n"
        "s.close(); ctx.term()\n")
    endpoint = f"tcp://{c.hosts.address('node', 'bridge')}:28440"
    print(f"a stranger's key on the bridge's host calls the node at {endpoint}")
    result = c.hosts.exec("bridge", sys.executable, "-c", script, node_pub, endpoint, timeout=30)
    key, outcome = result.stdout.splitlines()
    assert outcome == "no answer"
    line = "ipc: refused a "
    wait_for(lambda: any(line in l and key in l and "192.0.2.6" in l for l in c.log("node").splitlines()), 10,
             "the refusal in the node's log")
    assert c.processes["node"].running()


def test_a_second_constellation_on_a_fourth_host_completes_the_p2p_handshake(constellation):
    c = constellation
    require_binaries("node", "wallet", "gui-bridge", "p2p-agent")
    folder = c.host_dir("peer")
    args = ["ip", "netns", "exec", c.hosts.ns("peer"), binary("orreryd"), f"-datadir={folder}", "-regtest",
            "-rpcport=18443", *(f"-{option}={binary(name)}" for option, name in (
                ("nodebinary", "orrery-node"), ("walletbinary", "orrery-wallet"),
                ("guibridgebinary", "orrery-gui-bridge"), ("agentbinary", "orrery-p2p-agent")))]
    peer = c.factory.process("orreryd", args, log_path=folder / "regtest" / "debug.log", new_session=True,
                             stop_timeout=30.0)
    peer.start(ready="All services started", timeout=60)
    target = f"{c.hosts.address('node', 'peer')}:8333"
    print(f"the peer's orreryd dials the node's P2P port at {target}")
    c.hosts.exec("peer", binary("orrery-cli"), f"-datadir={folder}", "-regtest", "-rpcport=18443", "addnode", target,
                 "onetry")
    print("the node's acceptor starts an agent; the node admits the peer over tcp:// and sees the handshake")
    wait_for(lambda: "The node admitted the inbound connection from 192.0.2.14:" in c.log("p2p"), 15, "admission")
    c.processes["node"].wait_for_log("New inbound peer connected", 15)
    peers = c.rpc("getpeerinfo")
    assert len(peers) == 1 and peers[0]["inbound"] is True and peers[0]["subver"].startswith("/Orrery:")
    assert peers[0]["addr"].startswith("192.0.2.14:")
    def peer_cli(*args):
        return c.hosts.exec("peer", binary("orrery-cli"), f"-datadir={folder}", "-regtest", "-rpcport=18443",
                            *args).stdout.strip()

    theirs = json.loads(peer_cli("getpeerinfo"))
    assert len(theirs) == 1 and theirs[0]["addr"] == target and theirs[0]["inbound"] is False
    print("the fourth host's node syncs our chain from our agent, and a block mined there comes back")
    ours = c.rpc("getbestblockhash")
    wait_for(lambda: peer_cli("getbestblockhash") == ours, 30, "the peer at our tip")
    theirs_new = json.loads(peer_cli("generatetoaddress", "1", c.rpc("getnewaddress", wallet=True)))[0]
    wait_for(lambda: c.rpc("getbestblockhash") == theirs_new, 30, "the peer's block on our node")
    assert peer.stop() == 0


def test_a_cut_wallet_node_link_fails_calls_in_flight_and_the_wallet_catches_up_after(constellation):
    c = constellation
    wallet_datadir = c.environment("wallet")["ORRERY_DATADIR"]
    node_endpoint = f"tcp://{c.hosts.address('node', 'wallet')}:28440"
    calls = c.factory.process("chain_query", ["ip", "netns", "exec", c.hosts.ns("wallet"), tool_binary("chain_query"),
                                              f"-datadir={wallet_datadir}", "-regtest",
                                              f"-ipcconnect={node_endpoint}", "-interval=100"])
    calls.start()
    wait_for(lambda: '"height"' in calls.stdout, 10, "a first getTip from the wallet's host")
    height_before = wallet_height(c)
    hash_before = c.rpc("-rpcwallet=default", "getwalletinfo", wallet=True)["lastprocessedblock"]["hash"]
    print(f"the link between the wallet's and the node's hosts goes down for {CUT_SECONDS} s")
    lost_before = c.log("wallet").count("Lost the node at")
    connected_before = c.log("wallet").count(f"Connected to the node at {node_endpoint}")
    cut_at = time.time()
    c.hosts.set_link("node", "wallet", "down")
    try:
        wait_for(lambda: '"error"' in calls.stdout, 10, "a call that fails")
        failure = next(json.loads(l) for l in calls.stdout.splitlines() if '"error"' in l)
        print(f"the call in flight failed after {failure['ms']} ms: {failure['error']['message']}")
        assert "disconnected" in failure["error"]["message"]
        assert failure["ms"] <= DISCONNECT_BOUND_MS
        assert failure["start_ms"] / 1000 + DISCONNECT_BOUND_MS / 1000 >= cut_at
        wait_for(lambda: c.log("wallet").count("Lost the node at") > lost_before, 10, "the wallet's loss line")
        print("the node goes on meanwhile: blocks mined through the bridge, whose links are up")
        address = c.rpc("getnewaddress", wallet=True)
        hashes = c.rpc("generatetoaddress", "3", address)
        assert wallet_height(c) == height_before, "the wallet cannot hear the node"
        remaining = CUT_SECONDS - (time.time() - cut_at)
        if remaining > 0:
            time.sleep(remaining)  # the cut lasts this long; nothing is awaited here
    finally:
        c.hosts.set_link("node", "wallet", "up")
    print("the link is back: the wallet reconnects and resumes from its last block")
    wait_for(lambda: c.log("wallet").count(f"Connected to the node at {node_endpoint}") > connected_before, 30,
             "the wallet's reconnection")
    wait_for(lambda: wallet_height(c) == height_before + 3, 15, "the wallet at the node's tip")
    assert c.rpc("-rpcwallet=default", "getwalletinfo", wallet=True)["lastprocessedblock"]["hash"] == hashes[-1]
    print("every payment made to the wallet meanwhile is there: the three blocks' coinbase outputs")
    since = c.rpc("-rpcwallet=default", "listsinceblock", hash_before, wallet=True)
    paid = sorted(tx["blockhash"] for tx in since["transactions"] if tx["address"] == address)
    assert paid == sorted(hashes)
    assert since["lastblock"] == hashes[-1]
    assert c.processes["wallet"].running() and c.processes["node"].running()
    assert calls.stop() == 0


def test_the_wallet_follows_over_a_link_with_latency_and_loss(constellation):
    c = constellation
    if not netem_available():
        pytest.skip("netem: this kernel has no sch_netem (tc qdisc ... netem: unknown qdisc kind); the latency and "
                    "loss part is not run here")
    device = c.hosts.link_devices[("node", "wallet")]
    for host, dev in (("node", device[0]), ("wallet", device[1])):
        c.hosts.exec(host, "tc", "qdisc", "add", "dev", dev, "root", "netem", "delay", "50ms", "loss", "1%")
    try:
        address = c.rpc("getnewaddress", wallet=True)
        start = wallet_height(c)
        for _ in range(5):
            c.rpc("generatetoaddress", "1", address)
        wait_for(lambda: wallet_height(c) == start + 5, 30, "the wallet five blocks on")
        if can_send(c):
            print("and it sends correctly over that link")
            pay_and_confirm(c)
    finally:
        for host, dev in (("node", device[0]), ("wallet", device[1])):
            c.hosts.exec(host, "tc", "qdisc", "del", "dev", dev, "root", check=False)
