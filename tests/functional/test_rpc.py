"""orrery-gui-bridge's JSON-RPC as bitcoind's users and clients see it: through
orrery-cli and through raw HTTP, against a real orrery-node and orrery-wallet
started by hand."""
import http.client
import json
import socket
import time
from pathlib import Path

import pytest

from conftest import RpcError, build_dir, free_port, require_binaries, wait_for

REGTEST_GENESIS = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"


def raises_rpc(code, call, *args, **kwargs):
    with pytest.raises(RpcError) as info:
        call(*args, **kwargs)
    assert info.value.code == code, info.value.message
    return info.value


def test_node_methods_through_the_cli_use_bitcoinds_fields(node_factory):
    c = node_factory.services()
    print("getblockchaininfo at genesis")
    chain = json.loads(c.cli("getblockchaininfo").stdout)
    assert chain["chain"] == "regtest"
    assert chain["blocks"] == 0
    assert chain["bestblockhash"] == REGTEST_GENESIS
    for field in ("headers", "difficulty", "time", "mediantime", "verificationprogress", "initialblockdownload",
                  "chainwork", "size_on_disk", "pruned", "warnings"):
        assert field in chain, field
    print("getnetworkinfo")
    net = json.loads(c.cli("getnetworkinfo").stdout)
    assert len(net["localservices"]) == 16 and int(net["localservices"], 16) == sum(
        {"NETWORK": 1, "WITNESS": 8, "NETWORK_LIMITED": 1024, "BLOOM": 4, "COMPACT_FILTERS": 64, "P2P_V2": 2048,
         "GETUTXO": 2}[name] for name in net["localservicesnames"])
    assert net["connections"] == net["connections_in"] + net["connections_out"] == 0
    assert net["relayfee"] == net["incrementalfee"] == 0.00001
    assert net["localaddresses"] == []
    for field in ("version", "subversion", "protocolversion", "networkactive"):
        assert field in net, field
    assert c.cli("getconnectioncount").stdout == "0\n"
    assert json.loads(c.cli("getpeerinfo").stdout) == []
    uptime = int(c.cli("uptime").stdout)
    assert 0 <= uptime < 60


def test_addnode_and_disconnectnode_answer_bitcoinds_errors(node_factory):
    c = node_factory.services()
    result = c.cli("disconnectnode", "", "99", check=False)
    assert result.returncode == 29
    assert result.stderr == "error code: -29\nerror message:\nNode not found in connected nodes\n"
    result = c.cli("-named", "disconnectnode", "nodeid=99", check=False)
    assert "error code: -29" in result.stderr
    raises_rpc(-8, c.rpc, "disconnectnode")
    raises_rpc(-1, c.rpc, "addnode", "127.0.0.1:1", "sideways")
    assert c.rpc("addnode", "127.0.0.1:1", "add") is None
    raises_rpc(-23, c.rpc, "addnode", "127.0.0.1:1", "add")
    assert c.rpc("addnode", "127.0.0.1:1", "remove") is None
    raises_rpc(-24, c.rpc, "addnode", "127.0.0.1:1", "remove")


def test_wallet_methods_and_wallet_urls(node_factory):
    c = node_factory.services()
    print("a first start has the wallet 'default': the only one, so no URL is needed")
    assert c.rpc("listwallets") == ["default"]
    assert c.cli("getnewaddress").stdout.startswith("bcrt1q")
    assert c.rpc("unloadwallet", "default") == {}
    raises_rpc(-18, c.rpc, "getnewaddress")
    assert json.loads(c.cli("createwallet", "w1").stdout) == {"name": "w1"}
    assert c.cli("-named", "createwallet", "wallet_name=w2", "load_on_startup=false").returncode == 0
    assert sorted(json.loads(c.cli("listwallets").stdout)) == ["w1", "w2"]
    print("two wallets: the URL must choose")
    result = c.cli("getnewaddress", check=False)
    assert result.returncode == 19 and "-rpcwallet=<walletname>" in result.stderr
    address = c.cli("-rpcwallet=w1", "getnewaddress").stdout.strip()
    assert address.startswith("bcrt1q")
    assert c.rpc("getnewaddress", "label", "bech32m", wallet="w2").startswith("bcrt1p")
    info = c.rpc("getwalletinfo", wallet="w1")
    assert info["walletname"] == "w1" and info["format"] == "sqlite"
    raises_rpc(-18, c.rpc, "getnewaddress", wallet="nosuch")
    raises_rpc(-5, c.rpc, "getnewaddress", "", "p2wsh-or-so", wallet="w1")
    raises_rpc(-36, c.rpc, "createwallet", "w1")
    raises_rpc(-35, c.rpc, "loadwallet", "w1")
    raises_rpc(-8, c.rpc, "unloadwallet", "w2", wallet="w1")
    assert c.rpc("unloadwallet", wallet="w2") == {}
    assert c.rpc("listwallets") == ["w1"]
    assert sorted(w["name"] for w in c.rpc("listwalletdir")["wallets"]) == ["default", "w1", "w2"]
    assert c.rpc("loadwallet", "w2") == {"name": "w2"}
    print("a wallet name with a space crosses the URL encoded")
    c.rpc("createwallet", "my wallet")
    assert c.cli("-rpcwallet=my wallet", "getwalletinfo").returncode == 0
    assert json.loads(c.cli("-rpcwallet=my wallet", "getwalletinfo").stdout)["walletname"] == "my wallet"


def test_cookie_auth_and_wrong_credentials(node_factory):
    c = node_factory.services()
    cookie = c.net / ".cookie"
    assert cookie.stat().st_mode & 0o777 == 0o600
    user, password = c.cookie().split(":")
    assert user == "__cookie__" and len(password) == 64 and int(password, 16) >= 0
    print("no credentials: 401 at once; wrong ones: 401 after a delay")
    status, headers, _ = c.http({"method": "uptime", "id": 1}, auth=False)
    assert status == 401 and headers["WWW-Authenticate"] == 'Basic realm="jsonrpc"'
    started = time.monotonic()
    status, _, _ = c.http({"method": "uptime", "id": 1}, auth="__cookie__:" + "0" * 64)
    assert status == 401 and time.monotonic() - started >= 0.2
    assert "incorrect password attempt" in c.log()
    result = c.cli("-rpcpassword=wrong", "uptime", check=False)
    assert result.returncode == 1
    assert result.stderr == "error: Authorization failed: Incorrect rpcuser or rpcpassword\n"


def test_rpcuser_and_rpcpassword_replace_the_cookie(node_factory):
    c = node_factory.services(bridge_args=["-rpcuser=alice", "-rpcpassword=s3cret"], with_wallet=False)
    assert not (c.net / ".cookie").exists()
    status, _, payload = c.http({"method": "uptime", "id": 1}, auth="alice:s3cret")
    assert status == 200 and json.loads(payload)["error"] is None
    assert c.cli("-rpcuser=alice", "-rpcpassword=s3cret", "uptime").returncode == 0
    status, _, _ = c.http({"method": "uptime", "id": 1}, auth="alice:wrong")
    assert status == 401


def test_json_rpc_shapes_statuses_and_batches_over_raw_http(node_factory):
    c = node_factory.services()
    print("1.0: errors are HTTP errors")
    status, headers, payload = c.http({"method": "nosuch", "id": 5})
    assert status == 404 and headers["Content-Type"] == "application/json"
    assert json.loads(payload) == {"result": None, "error": {"code": -32601, "message": "Method not found"}, "id": 5}
    status, _, payload = c.http({"method": "getnewaddress", "params": [1], "id": 6})
    assert status == 500 and json.loads(payload)["error"]["code"] == -3
    assert "Position 1 (label)" in json.loads(payload)["error"]["message"]
    status, _, payload = c.http({"id": 7})
    assert status == 400 and json.loads(payload)["error"] == {"code": -32600, "message": "Missing method"}
    status, _, payload = c.http("{broken")
    assert status == 500 and json.loads(payload)["error"]["code"] == -32700
    print("2.0: errors in a 200 reply, notifications unanswered")
    status, _, payload = c.http({"jsonrpc": "2.0", "method": "nosuch", "id": "x"})
    assert status == 200 and json.loads(payload) == {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "x"}
    status, _, payload = c.http({"jsonrpc": "2.0", "method": "uptime"})
    assert status == 204 and payload == b""
    print("named parameters and batches")
    status, _, payload = c.http({"method": "help", "params": {"command": "uptime"}, "id": 1})
    assert json.loads(payload)["result"].startswith("uptime\n")
    status, _, payload = c.http({"method": "help", "params": {"colour": 1}, "id": 1})
    assert json.loads(payload)["error"] == {"code": -8, "message": "Unknown named parameter colour"}
    batch = [{"method": "getconnectioncount", "id": 1}, {"method": "nosuch", "id": 2},
             {"jsonrpc": "2.0", "method": "uptime"}, {"jsonrpc": "2.0", "method": "getblockchaininfo", "id": 3}]
    status, _, payload = c.http(batch)
    replies = json.loads(payload)
    assert status == 200 and [r["id"] for r in replies] == [1, 2, 3]
    assert replies[0]["result"] == 0 and replies[1]["error"]["code"] == -32601
    assert replies[2]["result"]["bestblockhash"] == REGTEST_GENESIS
    status, _, payload = c.http([])
    assert status == 200 and json.loads(payload) == []


def test_http_rules_paths_methods_lengths_and_keep_alive(node_factory):
    c = node_factory.services(bridge_args=["-disablewallet", "-debug=rpc"], with_wallet=False)
    assert c.http({"method": "uptime"}, path="/rest/nothing")[0] == 404
    # GET / is the web GUI's page now (test_gui.py); JSON-RPC's other paths answer only POST, as bitcoind's.
    status, _, payload = c.http(None, path="/wallet/w", method="GET")
    assert status == 405 and b"only POST" in payload
    print("one connection, several requests")
    conn = http.client.HTTPConnection("127.0.0.1", c.rpc_port, timeout=10)
    for i in range(3):
        status, _, payload = c.http({"method": "uptime", "id": i}, connection=conn)
        assert status == 200 and json.loads(payload)["id"] == i
    conn.close()
    print("chunked bodies are refused; a stalled client is cut off after -rpcservertimeout")
    with socket.create_connection(("127.0.0.1", c.rpc_port), timeout=10) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 411 ")
    with socket.create_connection(("127.0.0.1", c.rpc_port), timeout=10) as s:
        s.sendall(b"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 413 ")
    print("with -disablewallet the wallet methods do not exist")
    raises_rpc(-32601, c.rpc, "getnewaddress")
    raises_rpc(-32601, c.rpc, "listwallets")
    assert "ThreadRPCServer method=listwallets" in c.log()
    assert "user=__cookie__" in c.log()


def test_stalled_clients_time_out(node_factory):
    c = node_factory.services(bridge_args=["-rpcservertimeout=1"], with_wallet=False)
    with socket.create_connection(("127.0.0.1", c.rpc_port), timeout=10) as s:
        s.sendall(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n{")
        started = time.monotonic()
        assert s.recv(4096) == b""
        assert 0.5 < time.monotonic() - started < 5


def test_a_restarted_node_is_found_again(node_factory):
    c = node_factory.services(bridge_args=["-disablewallet"], with_wallet=False)
    assert c.rpc("getconnectioncount") == 0
    print("node stopped: RPC_IN_WARMUP")
    c.services["node"].stop()
    error = raises_rpc(-28, c.rpc, "getblockchaininfo")
    assert "node service is not reachable" in error.message
    print("node back: the same bridge answers again")
    c.services["node"].start()
    wait_for(lambda: _answers(c), 15, "the bridge to reach the restarted node")


def _answers(c):
    try:
        return c.rpc("getblockchaininfo")["chain"] == "regtest"
    except RpcError:
        return False


def test_the_bridge_answers_warmup_until_its_services_come(node_factory):
    c = node_factory.services(with_node=False, with_wallet=False)
    result = c.cli("getblockchaininfo", check=False)
    assert result.returncode == 28 and "error code: -28" in result.stderr
    assert c.rpc("uptime") >= 0


def test_cli_says_clearly_when_nothing_listens(node_factory):
    c = node_factory.services(with_node=False, with_wallet=False)
    result = c.cli(f"-rpcport={free_port()}", "uptime", check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("error: timeout on transient error: Could not connect to the server 127.0.0.1:")
    assert "Make sure the orrery-gui-bridge server is running" in result.stderr


def test_stop_without_orreryd_stops_the_bridge_and_removes_the_cookie(node_factory):
    c = node_factory.services()
    assert c.cli("stop").stdout == "Orrery stopping\n"
    assert c.bridge.process.wait(timeout=10) == 0
    assert not (c.net / ".cookie").exists()
    assert "Shutdown done" in c.log()
    assert c.services["node"].running() and c.services["wallet"].running()


def test_under_orreryd_rpc_answers_and_stop_stops_the_whole_constellation(node_factory):
    require_binaries("gui-bridge", "node", "wallet")
    # No peer connects in this test, so no p2p-agent is ever started.
    c = node_factory.orreryd(binaries={"p2p-agent": "/bin/false"}).start()
    rpcport = f"-rpcport={c.rpc_port}"
    assert json.loads(c.cli(rpcport, "getblockchaininfo").stdout)["bestblockhash"] == REGTEST_GENESIS
    bridge = c.entries("gui-bridge")
    assert len(bridge) == 1 and bridge[0]["state"] == "running"
    assert "[gui-bridge:" in c.log()  # the bridge's lines reach debug.log through orreryd
    print("stop over RPC goes to orreryd, which stops every service in order")
    assert c.cli(rpcport, "stop").stdout == "Orrery stopping\n"
    assert c.process.wait(timeout=30) == 0
    assert not (c.net / ".cookie").exists()


def test_cli_finds_the_port_in_rpcconnect(node_factory):
    import subprocess
    c = node_factory.services(with_node=False, with_wallet=False)
    result = subprocess.run([str(build_dir() / "cli" / "orrery-cli"), f"-datadir={c.datadir}", "-regtest",
                             f"-rpcconnect=127.0.0.1:{c.rpc_port}", "uptime"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 0


def test_a_full_work_queue_answers_503(node_factory):
    import threading
    c = node_factory.services(bridge_args=["-rpcthreads=1", "-rpcworkqueue=1"], with_node=False, with_wallet=False)
    # A wrong password holds the only worker for 250 ms: one request runs, one waits, the rest are refused.
    statuses = []
    lock = threading.Lock()

    def attempt():
        status, _, _ = c.http({"method": "uptime", "id": 1}, auth="__cookie__:wrong")
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert statuses.count(401) >= 2 and statuses.count(503) >= 1, statuses
    assert "work queue depth exceeded" in c.log()
    status, _, _ = c.http({"method": "uptime", "id": 1})
    assert status == 200


def test_cli_rpcwait_waits_for_the_bridge_to_come(node_factory):
    c = node_factory.services(with_node=False, with_wallet=False, start=False)
    c.net.mkdir()
    waiting = node_factory.process("orrery-cli", [build_dir() / "cli" / "orrery-cli", f"-datadir={c.datadir}",
                                                  "-regtest", f"-rpcport={c.rpc_port}", "-rpcwait",
                                                  "-rpcwaittimeout=20", "uptime"]).start()
    # Asleep between two attempts: it tried, found nothing on the port, and kept waiting.
    wait_for(lambda: not waiting.running() or Path(f"/proc/{waiting.process.pid}/wchan").read_text() in (
        "hrtimer_nanosleep", "do_nanosleep"), 10, "orrery-cli to wait for its next attempt")
    assert waiting.running(), f"orrery-cli -rpcwait gave up before the bridge started: {waiting.stderr}"
    c.start()
    assert waiting.process.wait(timeout=20) == 0, waiting.stderr
    assert int(waiting.stdout) >= 0


def _error_code(c, method, *params, wallet=None):
    try:
        c.rpc(method, *params, wallet=wallet)
        return 0
    except RpcError as e:
        return e.code


def test_rpc_waits_for_the_node_and_the_wallet_then_routes_and_survives_a_wallet_restart(node_factory):
    c = node_factory.services(with_node=False, with_wallet=False)
    print("the bridge alone: the services' methods answer bitcoind's warm-up error, the bridge's own answer")
    error = raises_rpc(-28, c.rpc, "getblockcount")
    assert error.message.startswith("Loading") and "node and wallet" in error.message
    assert c.rpc("uptime") >= 0
    node = node_factory.service("node", c.datadir.name, ["-nolisten"]).start()
    wallet = node_factory.wallet(c.datadir.name).start()
    print("node and wallet register: getblockcount stops answering -28, as bitcoind's test framework waits for")
    wait_for(lambda: _error_code(c, "getblockcount") == 0, 15, "the end of warm-up")
    assert c.rpc("getblockcount") == 0
    assert c.rpc("getmempoolinfo")["loaded"] is True
    assert "== Wallet ==" in c.rpc("help") and "getmempoolinfo" in c.rpc("help")
    print("the wallet stops: its methods answer bitcoind's no-wallet error, the node's still answer")
    wallet.stop()
    wait_for(lambda: _error_code(c, "getwalletinfo") == -18, 15, "the wallet's methods to answer -18")
    assert c.rpc("getblockcount") == 0
    print("the wallet comes back and registers again")
    wallet.start()
    wait_for(lambda: _error_code(c, "getwalletinfo") == 0, 15, "the wallet's methods again")
    assert c.rpc("getwalletinfo")["walletname"] == "default"
    c.wait_for_log("The wallet service went away")


def test_orreryd_started_and_stopped_as_bitcoinds_test_framework_does(node_factory):
    require_binaries("gui-bridge", "node", "wallet")
    c = node_factory.orreryd(binaries={"p2p-agent": "/bin/false"}).start()
    rpcport = f"-rpcport={c.rpc_port}"
    print("getblockcount answers (orreryd says it started once RPC left warm-up), the mempool is loaded")
    assert c.cli(rpcport, "getblockcount").stdout == "0\n"
    assert json.loads(c.cli(rpcport, "getmempoolinfo").stdout)["loaded"] is True
    print("stop with bitcoind's wait argument: the answer comes after the wait, orreryd exits 0, stderr stays empty")
    started = time.monotonic()
    assert c.cli(rpcport, "-named", "stop", "wait=300").stdout == "Orrery stopping\n"
    assert time.monotonic() - started >= 0.3
    assert c.process.wait(timeout=30) == 0
    assert c.stderr == ""
