"""Clients written for bitcoind, unchanged, against orreryd: orrery-cli in
bitcoin-cli's conventions (-stdin, -stdinrpcpass, -getinfo, -netinfo,
-generate), python3-bitcoinlib's bitcoin.rpc.Proxy reading the cookie through
a conf file as it does for bitcoind, and the npm `bitcoin-core` client
(tests/js, installed by scripts/install-deps) over JSON-RPC and REST."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import SOURCE_ROOT, build_dir, require_binaries

REGTEST_GENESIS = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"


@pytest.fixture
def node(node_factory):
    require_binaries("node", "wallet", "gui-bridge")
    return node_factory.orreryd(extra_args=["-rest"]).start()


def cli(node, *args, stdin=None):
    return subprocess.run([str(build_dir() / "cli" / "orrery-cli"), f"-datadir={node.datadir}", "-regtest",
                           f"-rpcport={node.rpc_port}", *args], capture_output=True, text=True, timeout=60,
                          input=stdin)


def test_cli_reads_arguments_and_the_password_from_stdin(node):
    result = cli(node, "-stdin", stdin="getblockhash\n0\n")
    assert (result.returncode, result.stdout) == (0, REGTEST_GENESIS + "\n"), result.stderr
    result = cli(node, "-stdin", "getblockhash", stdin="0")
    assert result.stdout == REGTEST_GENESIS + "\n"
    user, password = node.cookie().strip().split(":", 1)
    result = cli(node, f"-rpcuser={user}", "-stdinrpcpass", "-stdin", "getblockcount", stdin=f"{password}\n")
    assert (result.returncode, result.stdout) == (0, "0\n"), result.stderr
    result = cli(node, f"-rpcuser={user}", "-stdinrpcpass", "getblockcount", stdin="wrong\n")
    assert result.returncode == 1
    assert "Authorization failed: Incorrect rpcuser or rpcpassword" in result.stderr


def test_cli_generate_getinfo_and_netinfo(node):
    result = cli(node, "-generate", "3")
    assert result.returncode == 0, result.stderr
    generated = json.loads(result.stdout)
    assert list(generated) == ["address", "blocks"]
    assert len(generated["blocks"]) == 3
    assert node.rpc("getbestblockhash") == generated["blocks"][-1]
    assert generated["address"].startswith("bcrt1")
    assert node.rpc("getblock", generated["blocks"][0], 2)["tx"][0]["vout"][0]["scriptPubKey"]["address"] == \
        generated["address"]
    assert len(json.loads(cli(node, "-generate").stdout)["blocks"]) == 1
    result = cli(node, "-generate", "x")
    assert (result.returncode, result.stderr) == (1, "error: Invalid value provided to -generate\n")

    result = cli(node, "-getinfo")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Chain: regtest"
    assert lines[1] == "Blocks: 4"
    assert "Network: in 0, out 0, total 0" in lines
    assert "Wallet: default" in lines
    assert lines[-1] == "Warnings: (none)"

    result = cli(node, "-netinfo")
    assert result.returncode == 0, result.stderr
    table = result.stdout.splitlines()
    assert table[2].split() == ["ipv4", "ipv6", "onion", "i2p", "cjdns", "total", "block"]
    assert table[3].split() == ["in", "0", "0", "0", "0", "0", "0"]
    assert table[4].split() == ["out", "0", "0", "0", "0", "0", "0", "0"]
    assert table[-1] == "Local addresses: n/a"


def test_python_bitcoinlib_proxy_reads_the_cookie_through_a_conf_file(node, tmp_path):
    bitcoin = pytest.importorskip("bitcoin")
    import bitcoin.rpc
    from bitcoin.core import b2lx
    bitcoin.SelectParams("regtest")
    # The conf file names the port; the cookie is found beside it, in <datadir>/regtest/.cookie, as for bitcoind.
    conf = Path(node.datadir) / "client.conf"
    conf.write_text(f"rpcport={node.rpc_port}\n")
    proxy = bitcoin.rpc.Proxy(btc_conf_file=str(conf))
    try:
        assert proxy.getblockcount() == 0
        address = proxy.getnewaddress()
        hashes = list(proxy.generatetoaddress(2, address))
        assert proxy.getblockcount() == 2
        block = proxy.getblock(hashes[-1])
        assert block.GetHash() == hashes[-1]
        assert b2lx(proxy.getbestblockhash()) == b2lx(hashes[-1])
        assert proxy.call("getblockchaininfo")["chain"] == "regtest"
        with pytest.raises(bitcoin.rpc.JSONRPCError) as error:
            proxy.call("nosuchmethod")
        assert error.value.error["code"] == -32601
    finally:
        proxy.close()


def test_the_npm_bitcoin_core_client_over_rpc_and_rest(node):
    js = SOURCE_ROOT / "tests" / "js"
    if shutil.which("node") is None or not (js / "node_modules" / "bitcoin-core").exists():
        pytest.skip("node or tests/js/node_modules is missing (scripts/install-deps installs them)")
    user, password = node.cookie().strip().split(":", 1)
    env = dict(os.environ, ORRERY_RPC_URL=f"http://127.0.0.1:{node.rpc_port}", ORRERY_RPC_USER=user,
               ORRERY_RPC_PASSWORD=password)
    result = subprocess.run(["node", str(js / "bitcoin_core_client.js")], capture_output=True, text=True,
                            timeout=120, env=env, cwd=js)
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    # json-bigint, the client's parser, keeps numbers with more digits than a double holds as strings.
    for item in [got["rest_block"], got["rest_block_summary"], *got["rest_headers"]]:
        item["difficulty"] = float(item["difficulty"])
    assert got["count"] == 2 and got["mined"][-1] == got["best"] == node.rpc("getbestblockhash")
    assert got["batch"] == [REGTEST_GENESIS, node.rpc("getblockhash", 1)]
    assert got["error"]["code"] == -32601
    assert got["walletinfo"]["walletname"] == "default"
    assert got["rest_block"] == node.rpc("getblock", got["best"], 3)
    assert got["rest_block_summary"] == node.rpc("getblock", got["best"], 1)
    assert got["rest_block_bin_hex"] == node.rpc("getblock", got["best"], 0)
    assert got["rest_headers"] == [node.rpc("getblockheader", h) for h in got["mined"]]
    assert got["rest_chaininfo"]["bestblockhash"] == got["best"]
    assert got["rest_mempool"] == node.rpc("getmempoolinfo")
    assert got["rest_utxos"]["bitmap"] == "1"
    assert got["rest_utxos"]["chaintipHash"] == got["best"]
