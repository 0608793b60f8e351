"""orrery-wallet talks to orrery-node over Chain: started by hand (-ipcbind on the
node, -ipcconnect on the wallet) and under orreryd. getwalletinfo's
lastprocessedblock is the node's tip; the wallet serves while the node is away,
finds a restarted node again, and refuses a node of another network."""
import json

from conftest import require_binaries, wait_for
from test_node import REGTEST_GENESIS

GENESIS_BLOCK = {"hash": REGTEST_GENESIS, "height": 0}


def connected_line(endpoint, node):
    return f"Connected to the node at {endpoint} (pid {node.process.pid}, chain regtest)"


def wait_for_line(wallet, text, timeout=15.0):
    wait_for(lambda: text in wallet.log(), timeout, f"'{text}' in the wallet's debug.log")


def test_a_wallet_by_hand_follows_a_node_by_hand_across_restarts_of_either(node_factory, tmp_path):
    endpoint = f"ipc://{tmp_path}/node.sock"
    node = node_factory.service("node", extra_args=(f"-ipcbind={endpoint}",)).start()
    wallet = node_factory.wallet(extra_args=(f"-ipcconnect={endpoint}", "-debug=wallet")).start()  # logs each tip
    wait_for_line(wallet, connected_line(endpoint, node))
    print("lastprocessedblock is the node's tip: the regtest genesis at height 0")
    wait_for(lambda: "lastprocessedblock" in wallet.call("getwalletinfo", ""), 10, "lastprocessedblock")
    assert wallet.call("getwalletinfo", "")["lastprocessedblock"] == GENESIS_BLOCK

    print("the wallet stops and starts while the node runs")
    assert wallet.stop() == 0
    wallet.start()
    wait_for(lambda: wallet.log().count(connected_line(endpoint, node)) == 2, 15, "the second connection")
    wait_for(lambda: "lastprocessedblock" in wallet.call("getwalletinfo", ""), 10, "lastprocessedblock")
    assert wallet.call("getwalletinfo", "")["lastprocessedblock"] == GENESIS_BLOCK

    print("the node stops under the running wallet: the wallet keeps serving and keeps the last tip it saw")
    assert node.stop() == 0
    wait_for_line(wallet, f"Lost the node at {endpoint}")
    assert wallet.call("getnewaddress", "", "").startswith("bcrt1q")
    assert wallet.call("getwalletinfo", "")["lastprocessedblock"] == GENESIS_BLOCK

    print("the node comes back: the wallet reconnects by itself and hears the tip again")
    lines_before = wallet.log().count("Node tip ")
    node.start()
    wait_for_line(wallet, connected_line(endpoint, node))
    wait_for(lambda: wallet.log().count("Node tip ") > lines_before, 10, "the tip after the reconnection")
    assert wallet.call("getwalletinfo", "")["lastprocessedblock"] == GENESIS_BLOCK
    assert wallet.process.poll() is None
    assert wallet.stop() == 0
    assert node.stop() == 0


def test_a_wallet_serves_before_its_node_is_up(node_factory, tmp_path):
    endpoint = f"ipc://{tmp_path}/node.sock"
    wallet = node_factory.wallet(extra_args=(f"-ipcconnect={endpoint}",)).start()
    wait_for_line(wallet, f"Waiting for the node at {endpoint}")
    print("no node yet: the wallet answers, without lastprocessedblock")
    info = wallet.call("getwalletinfo", "")
    assert info["walletname"] == "default" and "lastprocessedblock" not in info
    node = node_factory.service("node", extra_args=(f"-ipcbind={endpoint}",)).start()
    wait_for_line(wallet, connected_line(endpoint, node))
    wait_for(lambda: wallet.call("getwalletinfo", "").get("lastprocessedblock") == GENESIS_BLOCK, 10,
             "lastprocessedblock once the node is up")


def test_a_testnet_wallet_refuses_a_regtest_node(node_factory, tmp_path):
    endpoint = f"ipc://{tmp_path}/node.sock"
    node = node_factory.service("node", extra_args=(f"-ipcbind={endpoint}",)).start()
    wallet = node_factory.wallet(extra_args=(f"-ipcconnect={endpoint}", "-debug=wallet"), chain_arg="-testnet",
                            net_dir="testnet3")
    wallet.start(wait=False)
    wallet.process.wait(timeout=20)
    assert wallet.stop() == 1
    message = (f'Error: The node at {endpoint} runs the chain "regtest" but this wallet is for "test". '
               "Start orrery-wallet with the node's network, or point -ipcconnect at a node of this network.")
    print(wallet.stderr)
    assert message in wallet.stderr
    assert message in wallet.log()
    assert "Node tip " not in wallet.log(), "no tip of the wrong network reached the wallet"
    assert "Shutdown done" in wallet.log(), "the wallets were closed cleanly"
    assert node.process.poll() is None, "the node is not disturbed"


def test_under_orreryd_getwalletinfo_shows_the_nodes_tip(node_factory):
    require_binaries("gui-bridge", "node", "wallet")
    c = node_factory.orreryd(binaries={"p2p-agent": "/bin/false"}).start()

    def last_processed_block():
        result = c.cli("getwalletinfo", check=False)
        return json.loads(result.stdout).get("lastprocessedblock") if result.returncode == 0 else None

    wait_for(last_processed_block, 20, "lastprocessedblock over RPC")
    assert last_processed_block() == GENESIS_BLOCK
    assert "Connected to the node at ipc://" in c.log()
    assert c.cli("stop").stdout == "Orrery stopping\n"
    assert c.process.wait(timeout=30) == 0
