"""The web GUI served by the gui-bridge, in a real browser: Debian's chromium, headless, driven by
playwright-core (tests/js/gui_browser.mjs). Logs in with the cookie (a wrong password is refused), mines
from the console page in one tab while the overview of another follows through the event stream, opens a
block and a transaction, finds the constellation's real pids and restarts the wallet from its page, and
bans a connected peer from the peers page and sees its agent leave the constellation page, and
checks that no page is wider than a phone. Screenshots of every page go to <build>/test-artifacts/gui/.
The QR encoder is checked module for module against the npm qrcode package (tests/js/gui_qr.mjs)."""
import base64
import hashlib
import hmac
import http.client
import json
import os
import shutil
import subprocess
import urllib.request

import pytest

from conftest import SOURCE_ROOT, build_dir, free_port, require_binaries, wait_for

JS = SOURCE_ROOT / "tests" / "js"
CHROMIUM = os.environ.get("ORRERY_CHROMIUM", "/usr/bin/chromium")


def require_node_modules(*packages):
    if shutil.which("node") is None:
        pytest.skip("node is not installed (scripts/install-deps installs it)")
    for package in packages:
        if not (JS / "node_modules" / package).exists():
            pytest.skip(f"tests/js/node_modules/{package} is missing (scripts/install-deps runs npm ci there)")


def test_the_qr_encoder_matches_the_qrcode_package_module_for_module():
    require_node_modules("qrcode")
    result = subprocess.run(["node", str(JS / "gui_qr.mjs")], capture_output=True, text=True, timeout=60, cwd=JS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok 64 matrices")


# -rpcauth for user "watcher" with password "watch": <user>:<salt>$<HMAC-SHA256(salt, password)>.
WATCHER_PASSWORD = "watch"
WATCHER_SALT = "6a7d2b9e0f1c4d5e8a9b0c1d2e3f4a5b"
WATCHER_RPCAUTH = "watcher:{}${}".format(
    WATCHER_SALT, hmac.new(WATCHER_SALT.encode(), WATCHER_PASSWORD.encode(), hashlib.sha256).hexdigest())


def open_events(node, user, password):
    request = urllib.request.Request(f"http://127.0.0.1:{node.rpc_port}/events")
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    return urllib.request.urlopen(request, timeout=20)


def next_event(stream):
    """(name, data) of the stream's next event; comments and retry lines are skipped."""
    name = None
    while True:
        line = stream.readline()
        assert line, "the event stream ended"
        if line.startswith(b"event: "):
            name = line[7:].strip().decode()
        elif line.startswith(b"data: "):
            return name, json.loads(line[6:])


def events_until(stream, predicate):
    """Every event up to the first for which predicate(name, data) holds."""
    seen = []
    while not seen or not predicate(*seen[-1]):
        seen.append(next_event(stream))
    return seen


def test_the_gui_files_are_served_to_anyone_and_events_only_with_the_rpc_credentials(node_factory):
    require_binaries("node", "wallet", "gui-bridge")
    gui_port = free_port()
    # -rpcbind without -rpcallowip is ignored (bitcoind's rule): the banner names the address really served.
    node = node_factory.orreryd(extra_args=["-rpcwhitelist=watcher:getbestblockhash", "-rpcwhitelistdefault=0",
                                            f"-rpcauth={WATCHER_RPCAUTH}", f"-guiport={gui_port}",
                                            "-rpcbind=192.0.2.1"]).start()
    assert f"JSON-RPC:   http://127.0.0.1:{node.rpc_port}/ (cookie in" in node.stdout
    assert f"web GUI:    http://127.0.0.1:{gui_port}/ (log in with" in node.stdout
    gui = http.client.HTTPConnection("127.0.0.1", gui_port, timeout=20)
    gui.request("GET", "/")
    assert gui.getresponse().read().count(b"<title>Orrery</title>") == 1
    gui.request("POST", "/", body=json.dumps({"method": "getblockcount", "params": []}),
                headers={"Authorization": "Basic " + base64.b64encode(node.cookie().strip().encode()).decode()})
    assert json.loads(gui.getresponse().read())["result"] == 0
    gui.close()
    status, _, page = node.http(None, method="GET", auth=False)
    assert status == 200 and b"<title>Orrery</title>" in page
    status, headers, _ = node.http(None, path="/gui/app.js", method="GET", auth=False)
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert node.http(None, path="/gui/missing.js", method="GET", auth=False)[0] == 404
    assert node.http(None, path="/events", method="GET", auth=False)[0] == 401
    assert node.http(None, path="/events", method="GET", auth="__cookie__:wrong")[0] == 401

    user, password = node.cookie().strip().split(":", 1)
    full = open_events(node, user, password)
    assert full.headers["Content-Type"] == "text/event-stream"
    watcher = open_events(node, "watcher", WATCHER_PASSWORD)
    seen = events_until(full, lambda name, data: name == "processes")
    assert ("tip", {"height": 0, "hash": node.rpc("getblockhash", 0), "time": 1296688602}) in seen
    processes = {p["role"]: p["pid"] for p in seen[-1][1]}
    assert processes["node"] == node.pid("node") and processes["wallet"] == node.pid("wallet")
    print("mining 2 blocks; both streams must bring the new tip")
    node.rpc("generatetoaddress", 2, node.rpc("getnewaddress"))
    seen = events_until(full, lambda name, data: name == "tip" and data["height"] == 2)
    assert seen[-1][1]["hash"] == node.rpc("getbestblockhash")
    watched = events_until(watcher, lambda name, data: name == "tip" and data["height"] == 2)
    assert {name for name, _ in watched} == {"tip"}, "a whitelisted user got events of methods it may not call"
    full.close()
    watcher.close()
    # The same user may not call getprocessinfo through JSON-RPC either.
    body = json.dumps({"method": "getprocessinfo", "params": []})
    assert node.http(body, auth=f"watcher:{WATCHER_PASSWORD}")[0] == 403
    assert [p["pid"] for p in node.rpc("getprocessinfo") if p["role"] == "wallet"] == [node.pid("wallet")]


def test_the_web_gui_in_chromium(node_factory, tmp_path):
    require_binaries("node", "wallet", "gui-bridge")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no chromium at {CHROMIUM} (Debian's chromium package)")
    require_node_modules("playwright-core")
    require_binaries("p2p-agent")
    from p2p_agent_fixture import Peer
    node = node_factory.orreryd().start()
    pids = {role: node.pid(role) for role in ("node", "wallet", "gui-bridge")}
    print("a peer connects: the pages show it, then ban it")
    peer = Peer(node.p2p_port)
    peer.handshake()
    wait_for(lambda: len(node.rpc("getpeerinfo")) == 1, 10, "the peer in getpeerinfo")
    agent_pid = node.rpc("getpeerinfo")[0]["agent_pid"]
    shots = build_dir() / "test-artifacts" / "gui"
    env = dict(os.environ, ORRERY_GUI_URL=f"http://127.0.0.1:{node.rpc_port}/",
               ORRERY_GUI_COOKIE=node.cookie().strip(), ORRERY_GUI_PIDS=json.dumps(pids), ORRERY_GUI_SHOTS=str(shots),
               ORRERY_CHROMIUM=CHROMIUM, HOME=str(tmp_path))
    print("running tests/js/gui_browser.mjs; screenshots in", shots)
    result = subprocess.run(["node", str(JS / "gui_browser.mjs")], capture_output=True, text=True, timeout=240,
                            env=env, cwd=JS)
    print(result.stderr)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)

    assert found["wrong_password_refused"]
    assert found["height_after"] == found["height_before"] + 3 == 3
    assert found["overview_not_reloaded"], "the overview was reloaded instead of following the event stream"
    # Block 3 is the console's last; the two-wallet scenario mines more on top of it later.
    assert found["mined"][-1] == node.rpc("getblockhash", 3) == found["block_hash"]
    assert found["help_lists_getprocessinfo"]
    coinbase = node.rpc("getblock", found["block_hash"])["tx"][0]
    assert found["txid"] == coinbase and found["tx_outputs"] >= 1
    assert found["search_height_1"] == node.rpc("getblockhash", 1)
    assert found["pids_shown"] == pids
    assert found["wallet_pid_after"] not in (0, pids["wallet"])
    wait_for(lambda: node.pid("wallet") == found["wallet_pid_after"], what="orreryd to report the new wallet")
    first_wallet = node.rpc("listwallets")[0]
    assert node.rpc("getaddressinfo", found["receive_address"], wallet=first_wallet)["ismine"]
    assert found["peer_agent_pid"] == agent_pid and found["agent_row_role"] == "p2p-agent"
    assert found["agent_vanished"] and peer.is_closed(timeout=10)
    assert [entry["address"] for entry in node.rpc("listbanned")] == ["127.0.0.1/32"]
    assert found["qr_drawn"]
    print("the IPC links the constellation page showed:", found["links"])
    bridge_to_node = [link for link in found["links"] if (link["from"], link["to"]) == ("gui-bridge", "node")]
    assert bridge_to_node and bridge_to_node[0]["calls"] > 0
    assert (bridge_to_node[0]["from_pid"], bridge_to_node[0]["to_pid"]) == (pids["gui-bridge"], pids["node"])
    assert {("wallet", "node"), ("gui-bridge", "orreryd")} <= {(link["from"], link["to"]) for link in found["links"]}
    wallet_info = node.rpc("getwalletinfo", wallet=first_wallet)
    assert found["lock_state"] == ("none" if "unlocked_until" not in wallet_info else
                                   "locked" if wallet_info["unlocked_until"] == 0 else "unlocked")
    # The history when the wallet page was drawn: the coinbases of blocks 3, 2 and 1, newest first.
    coinbases = [node.rpc("getblock", node.rpc("getblockhash", height))["tx"][0] for height in (3, 2, 1)]
    assert [(e["txid"], e["confirmations"]) for e in found["history"]] == list(zip(coinbases, (1, 2, 3)))
    assert "bcrt1qnotanaddress" not in found["good_address_check"] and found["bad_address_check"]
    assert found["good_address_check"].startswith("valid address")
    assert found["fee_estimate"] and found["custom_fee"].startswith("2.5 sat/vB")
    assert found["confirm"]["address"] == found["receive_address"]
    assert found["confirm"]["amount"] == "1.50000000 BTC"
    if "sendtoaddress" in node.rpc("help"):
        assert found["confirm"]["send_enabled"] and found["send_disabled_reason"] is None
        print("two wallets: the first paid the second through the send page", found["sent_txid"])
        received = node.rpc("gettransaction", found["sent_txid"], wallet="second")
        assert found["second_received"] == "receive" and received["confirmations"] == 1
        assert received["amount"] == 2
    else:
        assert not found["confirm"]["send_enabled"] and "sendtoaddress" in found["send_disabled_reason"]
    assert found["theme"] in ("dark", "light")
    assert found["phone_overflow"] and all(v <= 0 for v in found["phone_overflow"].values()), found["phone_overflow"]
    assert found["page_errors"] == []
    for name in ("overview", "blocks", "block", "transaction", "peers", "constellation", "wallet", "send",
                 "send-confirm", "console", "phone-send"):
        assert (shots / f"{name}.png").stat().st_size > 0
