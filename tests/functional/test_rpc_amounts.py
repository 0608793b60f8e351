"""Amounts in the bytes a client receives, as bitcoind writes them: every amount and fee rate with eight
decimals ("50.00000000", never "50.0" or "1e-05"), other numbers with UniValue's sixteen digits ("1", not
"1.0"), through JSON-RPC, orrery-cli and REST. The raw HTTP bodies are read, not the parsed floats."""
import json
import re

from conftest import require_binaries
from test_mempool import COIN, Funds


def raw_result(node, method, *params):
    """The reply body of one call, as bytes, and its parsed result."""
    status, _, body = node.http({"jsonrpc": "1.0", "id": 1, "method": method, "params": list(params)})
    assert status == 200, body
    return body.decode(), json.loads(body)["result"]


def numbers_of(body, field):
    """Every number written for `field` in a JSON text, as written."""
    return re.findall(r'"%s":\s*(-?[0-9][0-9.eE+-]*)' % re.escape(field), body)


def test_amounts_and_fee_rates_reach_clients_with_eight_decimals(node_factory):
    require_binaries("node", "gui-bridge")
    node = node_factory.orreryd("amounts0", extra_args=["-disablewallet", "-rest"]).start()
    funds = Funds(node)
    funds.mine(101)

    print("getblockchaininfo: no amounts, and doubles as UniValue writes them")
    body, info = raw_result(node, "getblockchaininfo")
    assert numbers_of(body, "verificationprogress") == ["1"]
    assert numbers_of(body, "difficulty") == ["4.656542373906925e-10"]

    print("gettxout of a coinbase: its value")
    coinbase = node.rpc("getblock", node.rpc("getblockhash", 1))["tx"][0]
    body, _ = raw_result(node, "gettxout", coinbase, 0)
    assert numbers_of(body, "value") == ["50.00000000"]

    print("getmempoolinfo with one transaction paying 0.0001 BTC: total_fee and the fee rates")
    txid = node.rpc("sendrawtransaction", funds.pay_self(funds.coinbase(), 10_000))
    body, _ = raw_result(node, "getmempoolinfo")
    assert numbers_of(body, "total_fee") == ["0.00010000"]
    for field in ("mempoolminfee", "minrelaytxfee", "incrementalrelayfee"):
        assert numbers_of(body, field) == ["0.00001000"], field
    body, _ = raw_result(node, "getmempoolentry", txid)
    assert numbers_of(body, "base") == ["0.00010000"]
    body, _ = raw_result(node, "getnetworkinfo")
    assert numbers_of(body, "relayfee") == ["0.00001000"]

    print("getblock verbosity 2 of the block that mines it: values and the fee")
    block_hash = funds.mine(1)[0]
    body, block = raw_result(node, "getblock", block_hash, 2)
    assert numbers_of(body, "fee") == ["0.00010000"]
    values = numbers_of(body, "value")
    assert values[0] == "50.00010000"  # the coinbase takes subsidy and fee
    assert f"{(50 * COIN - 10_000) // COIN}.{(50 * COIN - 10_000) % COIN:08d}" in values
    assert all(re.fullmatch(r"-?[0-9]+\.[0-9]{8}", v) for v in values), values
    body, _ = raw_result(node, "getblock", block_hash, 3)
    assert numbers_of(body, "value").count("50.00000000") == 1  # the spent coinbase, as the input's prevout

    print("orrery-cli prints what the node wrote")
    next_coinbase = node.rpc("getblock", node.rpc("getblockhash", 3))["tx"][0]  # block 1's is spent now
    printed = node.cli("gettxout", next_coinbase, "0").stdout
    assert '"value": 50.00000000' in printed
    assert '"verificationprogress": 1,' in node.cli("getblockchaininfo").stdout

    print("REST: the block's JSON and getutxos")
    status, _, rest_body = node.http(None, path=f"/rest/block/{block_hash}.json", method="GET")
    assert status == 200 and numbers_of(rest_body.decode(), "fee") == ["0.00010000"]
    status, _, rest_body = node.http(None, path=f"/rest/getutxos/{next_coinbase}-0.json", method="GET")
    assert status == 200 and numbers_of(rest_body.decode(), "value") == ["50.00000000"]
