"""Who may reach the RPC port and call what, with bitcoind's options: -rpcauth
users each with their own salt, -rpcwhitelist per user (lists given twice
intersect; -rpcwhitelistdefault), -rpcallowip for client networks, and -rpcbind
on several addresses, which counts only together with -rpcallowip."""
import hashlib
import hmac
import http.client
import json
import socket

import pytest

from conftest import require_binaries


def rpcauth(user, salt, password):
    return f"-rpcauth={user}:{salt}${hmac.new(salt.encode(), password.encode(), hashlib.sha256).hexdigest()}"


def call(node, auth, body, host="127.0.0.1"):
    conn = http.client.HTTPConnection(host, node.rpc_port, timeout=30)
    try:
        status, _, payload = node.http(body, auth=auth, connection=conn)
    finally:
        conn.close()
    return status, payload


def request(method, *params):
    return {"jsonrpc": "1.0", "id": 1, "method": method, "params": list(params)}


def test_rpcauth_salts_and_per_user_whitelists(node_factory):
    require_binaries("node", "wallet", "gui-bridge")
    node = node_factory.orreryd(extra_args=[
        rpcauth("alice", "5a1t0ne", "apple"), rpcauth("bob", "another-salt", "banana"),
        "-rpcwhitelist=alice:getblockcount,getbestblockhash,getblockhash",
        "-rpcwhitelist=alice:getblockcount getbestblockhash"]).start()

    print("each user's password checks against its own salt")
    assert call(node, "alice:apple", request("getblockcount")) == (200, b'{"result":0,"error":null,"id":1}\n')
    assert call(node, "alice:banana", request("getblockcount"))[0] == 401
    assert call(node, "bob:apple", request("getblockcount"))[0] == 401

    print("alice's two lists intersect: getblockhash is on one only")
    assert call(node, "alice:apple", request("getbestblockhash"))[0] == 200
    assert call(node, "alice:apple", request("getblockhash", 0)) == (403, b"")
    print("a batch is refused whole when one of its methods is not allowed")
    batch = [request("getblockcount"), request("getblockhash", 0)]
    assert call(node, "alice:apple", batch) == (403, b"")
    status, payload = call(node, "alice:apple", [request("getblockcount"), request("getbestblockhash")])
    assert status == 200 and [r["error"] for r in json.loads(payload)] == [None, None]

    print("with a whitelist given, users named in none may call nothing (-rpcwhitelistdefault's default)")
    assert call(node, "bob:banana", request("getblockcount")) == (403, b"")
    assert call(node, None, request("getblockcount")) == (403, b"")  # the cookie's user
    node.wait_for_log("RPC User bob not allowed to call method getblockcount")


def test_rpcwhitelistdefault_0_leaves_unlisted_users_free(node_factory):
    require_binaries("node", "wallet", "gui-bridge")
    node = node_factory.orreryd(extra_args=[rpcauth("alice", "s", "apple"), "-rpcwhitelist=alice:getblockcount",
                                            "-rpcwhitelistdefault=0"]).start()
    assert call(node, None, request("getblockhash", 0))[0] == 200
    assert call(node, "alice:apple", request("getblockhash", 0))[0] == 403


def local_address():
    """A non-loopback IPv4 address of this host, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.254", 9))  # no packet leaves: a UDP connect only picks the route
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def reachable(node, host):
    try:
        return call(node, None, request("getblockcount"), host=host)[0]
    except ConnectionRefusedError:
        return None


def test_rpcbind_counts_only_with_rpcallowip_and_rpcallowip_filters_clients(node_factory):
    require_binaries("node", "wallet", "gui-bridge")
    local = local_address()
    if local is None:
        pytest.skip("this host has no non-loopback IPv4 address")

    print("-rpcbind without -rpcallowip: ignored, loopback only")
    alone = node_factory.orreryd("alone", extra_args=[f"-rpcbind={local}"]).start()
    alone.wait_for_log("option -rpcbind was ignored because -rpcallowip was not specified")
    assert reachable(alone, local) is None
    assert reachable(alone, "127.0.0.1") == 200
    alone.stop()

    print("-rpcbind on two addresses with -rpcallowip of loopback: a client from", local, "is refused")
    both = node_factory.orreryd("both", extra_args=["-rpcallowip=127.0.0.1", "-rpcbind=127.0.0.1",
                                                    f"-rpcbind={local}"]).start()
    assert reachable(both, "127.0.0.1") == 200
    assert reachable(both, local) == 403
    status, _, _ = both.http(None, path="/rest/chaininfo.json", method="GET", auth=False)
    assert status == 404  # (no -rest) loopback is always allowed
    both.stop()

    print("-rpcallowip of the client's network as a netmask, without -rpcbind: every IPv4 address listens")
    network = ".".join(local.split(".")[:3]) + ".0/255.255.255.0"
    allowed = node_factory.orreryd("allowed", extra_args=[f"-rpcallowip={network}"]).start()
    assert reachable(allowed, local) == 200
    assert reachable(allowed, "127.0.0.1") == 200


def test_a_malformed_rpcallowip_stops_the_start(node_factory):
    require_binaries("gui-bridge")
    bridge = node_factory.service("gui-bridge", extra_args=["-rpcallowip=10.0.0.0/33"])
    result = bridge.run(timeout=30)
    assert result.returncode == 1
    assert "Invalid -rpcallowip subnet specification: 10.0.0.0/33" in result.stderr
