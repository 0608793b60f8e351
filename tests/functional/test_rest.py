"""bitcoind's REST interface (-rest) as its users call it: with no credentials,
on the RPC port, under orreryd. Every answer is checked against what the node's
own RPC says about the same block, transaction, header or coin, and the .bin
forms are parsed by python3-bitcoinlib (blocks, transactions, headers) or by
BIP64's layout (getutxos)."""
import http.client
import io
import json
import struct

import pytest

from conftest import require_binaries

bitcoin = pytest.importorskip("bitcoin")
from bitcoin.core import CBlock, CBlockHeader, CTransaction, b2lx, lx  # noqa: E402
from bitcoin.core.serialize import BytesSerializer, VarIntSerializer  # noqa: E402


def get(node, path, method="GET", body=None):
    """One request with no Authorization header; (status, content type, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", node.rpc_port, timeout=30)
    conn.request(method, path, body=body)
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, response.getheader("Content-Type"), payload


def get_json(node, path):
    status, kind, payload = get(node, path)
    assert status == 200, payload
    assert kind == "application/json"
    assert payload.endswith(b"\n")
    return json.loads(payload)


def error(node, path, method="GET", body=None):
    status, kind, payload = get(node, path, method, body)
    assert kind == "text/plain", (status, payload)
    assert payload.endswith(b"\r\n")
    return status, payload[:-2].decode()


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """An orreryd with -rest and -txindex and 12 mined blocks; yields (node, address, block hashes)."""
    require_binaries("node", "wallet", "gui-bridge")
    from conftest import NodeFactory
    factory = NodeFactory(tmp_path_factory.mktemp("rest"))
    node = factory.orreryd(extra_args=["-rest", "-txindex"]).start()
    try:
        address = node.rpc("getnewaddress")
        hashes = node.rpc("generatetoaddress", 12, address)
        yield node, address, hashes
    finally:
        node.stop()


def test_blocks_in_every_format_are_what_getblock_says(chain):
    node, _, hashes = chain
    block_hash = hashes[4]
    raw_hex = node.rpc("getblock", block_hash, 0)

    status, kind, payload = get(node, f"/rest/block/{block_hash}.bin")
    assert (status, kind) == (200, "application/octet-stream")
    assert payload.hex() == raw_hex
    block = CBlock.deserialize(payload)
    assert b2lx(block.GetHash()) == block_hash
    assert len(block.vtx) == 1

    status, kind, payload = get(node, f"/rest/block/{block_hash}.hex")
    assert (status, kind, payload) == (200, "text/plain", raw_hex.encode() + b"\n")

    assert get_json(node, f"/rest/block/{block_hash}.json") == node.rpc("getblock", block_hash, 3)
    assert get_json(node, f"/rest/block/notxdetails/{block_hash}.json") == node.rpc("getblock", block_hash, 1)
    # notxdetails changes the JSON only
    assert get(node, f"/rest/block/notxdetails/{block_hash}.bin")[2].hex() == raw_hex


def test_transactions_by_txid_with_txindex(chain):
    node, _, hashes = chain
    txid = node.rpc("getblock", hashes[2], 1)["tx"][0]
    raw = node.rpc("getrawtransaction", txid, 0)
    status, kind, payload = get(node, f"/rest/tx/{txid}.bin")
    assert (status, kind) == (200, "application/octet-stream")
    assert payload.hex() == raw
    assert b2lx(CTransaction.deserialize(payload).GetTxid()) == txid
    assert get(node, f"/rest/tx/{txid}.hex")[2] == raw.encode() + b"\n"

    decoded = get_json(node, f"/rest/tx/{txid}.json")
    rpc = node.rpc("getrawtransaction", txid, 1)
    # bitcoind's REST gives the decoded transaction with its block, without the view from the tip.
    for key in ("confirmations", "time", "blocktime"):
        rpc.pop(key, None)
    assert decoded == rpc
    assert list(decoded)[-2:] == ["blockhash", "hex"]
    assert decoded["blockhash"] == hashes[2]


def test_headers_up_the_active_chain_in_both_path_forms(chain):
    node, _, hashes = chain
    start = hashes[2]  # height 3
    status, kind, payload = get(node, f"/rest/headers/{start}.bin?count=3")
    assert (status, kind, len(payload)) == (200, "application/octet-stream", 240)
    stream = io.BytesIO(payload)
    parsed = [b2lx(CBlockHeader.stream_deserialize(stream).GetHash()) for _ in range(3)]
    assert parsed == hashes[2:5]
    assert get(node, f"/rest/headers/3/{start}.bin")[2] == payload
    assert get(node, f"/rest/headers/{start}.hex?count=3")[2] == payload.hex().encode() + b"\n"
    assert get_json(node, f"/rest/headers/{start}.json?count=3") == [node.rpc("getblockheader", h) for h in hashes[2:5]]
    assert len(get_json(node, f"/rest/headers/{start}.json")) == 5  # count defaults to 5

    print("past the tip: as many as there are; an unknown block: none")
    assert len(get_json(node, f"/rest/headers/{hashes[-2]}.json?count=10")) == 2
    assert get_json(node, f"/rest/headers/{'11' * 32}.json?count=10") == []
    assert get(node, f"/rest/headers/{'11' * 32}.bin")[2] == b""

    assert error(node, f"/rest/headers/{start}.json?count=0") == (
        400, "Header count is invalid or out of acceptable range (1-2000): 0")
    assert error(node, f"/rest/headers/2001/{start}.json") == (
        400, "Header count is invalid or out of acceptable range (1-2000): 2001")
    assert error(node, "/rest/headers/1/2/3.json") == (
        400, "Invalid URI format. Expected /rest/headers/<hash>.<ext>?count=<count>")
    assert error(node, "/rest/headers/xyz.json") == (400, "Invalid hash: xyz")


def test_block_hash_by_height(chain):
    node, _, hashes = chain
    status, kind, payload = get(node, "/rest/blockhashbyheight/7.bin")
    assert (status, kind) == (200, "application/octet-stream")
    assert payload[::-1].hex() == hashes[6]
    assert get(node, "/rest/blockhashbyheight/7.hex")[2] == hashes[6].encode() + b"\n"
    assert get_json(node, "/rest/blockhashbyheight/0.json") == {"blockhash": node.rpc("getblockhash", 0)}
    assert error(node, "/rest/blockhashbyheight/13.json") == (404, "Block height out of range")
    assert error(node, "/rest/blockhashbyheight/-1.json") == (400, "Invalid height: -1")
    assert error(node, "/rest/blockhashbyheight/a<b>.json") == (400, "Invalid height: ab")
    assert error(node, "/rest/blockhashbyheight/1.xml") == (400, "Invalid height: 1.xml")  # an unknown suffix stays
    assert error(node, "/rest/blockhashbyheight/1") == (404, "output format not found (available: .bin, .hex, .json)")


def test_chaininfo_and_mempool_are_the_rpc_answers(chain):
    node, _, _ = chain
    info = get_json(node, "/rest/chaininfo.json")
    rpc = node.rpc("getblockchaininfo")
    for key in ("chain", "blocks", "headers", "bestblockhash", "chainwork", "pruned"):
        assert info[key] == rpc[key], key
    assert error(node, "/rest/chaininfo.bin") == (404, "output format not found (available: json)")

    assert get_json(node, "/rest/mempool/info.json") == node.rpc("getmempoolinfo")
    assert error(node, "/rest/mempool/info.hex") == (404, "output format not found (available: json)")
    assert error(node, "/rest/mempool/other.json") == (
        400, "Invalid URI format. Expected /rest/mempool/<info|contents>.json")
    assert error(node, "/rest/mempool/contents.json?verbose=maybe") == (
        400, 'The "verbose" query parameter must be either "true" or "false".')
    assert error(node, "/rest/mempool/contents.json?mempool_sequence=true") == (
        400, 'Verbose results cannot contain mempool sequence values. (hint: set "verbose=false")')
    if "getrawmempool" in node.rpc("help"):
        assert get_json(node, "/rest/mempool/contents.json") == node.rpc("getrawmempool", True)
        assert get_json(node, "/rest/mempool/contents.json?verbose=false") == node.rpc("getrawmempool")
        assert get_json(node, "/rest/mempool/contents.json?verbose=false&mempool_sequence=true") == node.rpc(
            "getrawmempool", False, True)
    else:
        # a node without a mempool, as bitcoind answers without one
        assert error(node, "/rest/mempool/contents.json") == (404, "Mempool disabled or instance not found")


def parse_getutxos(payload):
    """BIP64's answer: (height, tip hash, bitmap bytes, [(height, value, script)])."""
    stream = io.BytesIO(payload)
    height, = struct.unpack("<i", stream.read(4))
    tip = stream.read(32)[::-1].hex()
    bitmap = BytesSerializer.stream_deserialize(stream)
    coins = []
    for _ in range(VarIntSerializer.stream_deserialize(stream)):
        version, coin_height, value = struct.unpack("<IIq", stream.read(16))
        assert version == 0
        coins.append((coin_height, value, BytesSerializer.stream_deserialize(stream)))
    assert stream.read() == b""
    return height, tip, bitmap, coins


def test_getutxos_answers_bip64_from_the_utxo_set(chain):
    node, _, hashes = chain
    coinbase = node.rpc("getblock", hashes[0], 1)["tx"][0]
    txout = node.rpc("gettxout", coinbase, 0)
    missing = "22" * 32
    tip = node.rpc("getbestblockhash")

    answer = get_json(node, f"/rest/getutxos/{coinbase}-0/{missing}-0/{coinbase}-7.json")
    assert answer["chainHeight"] == 12 and answer["chaintipHash"] == tip
    assert answer["bitmap"] == "100"
    assert answer["utxos"] == [{"height": 1, "value": txout["value"], "scriptPubKey": txout["scriptPubKey"]}]
    assert get_json(node, f"/rest/getutxos/checkmempool/{coinbase}-0.json")["bitmap"] == "1"

    status, kind, payload = get(node, f"/rest/getutxos/{coinbase}-0/{missing}-0/{coinbase}-7.bin")
    assert (status, kind) == (200, "application/octet-stream")
    height, tip_hash, bitmap, coins = parse_getutxos(payload)
    assert (height, tip_hash, bitmap) == (12, tip, b"\x01")
    assert coins == [(1, 5000000000, bytes.fromhex(txout["scriptPubKey"]["hex"]))]
    assert get(node, f"/rest/getutxos/{coinbase}-0/{missing}-0/{coinbase}-7.hex")[2] == payload.hex().encode() + b"\n"

    print("a POSTed query, read as bitcoind reads it: a vector of outpoints after the stream's own length")
    body = b"\x02" + lx(missing) + struct.pack("<I", 0) + lx(coinbase) + struct.pack("<I", 0)
    status, _, payload = get(node, "/rest/getutxos.bin", "POST", body)
    assert status == 200
    assert parse_getutxos(payload)[2:] == (b"\x02", coins)
    assert get(node, "/rest/getutxos.hex", "POST", body.hex())[2] == payload.hex().encode() + b"\n"

    print("bitcoind's refusals")
    assert error(node, "/rest/getutxos.json") == (400, "Error: empty request")
    assert error(node, "/rest/getutxos/checkmempool.json") == (400, "Error: empty request")
    assert error(node, f"/rest/getutxos/{coinbase}.json") == (400, "Parse error")
    assert error(node, f"/rest/getutxos/{coinbase}-x.json") == (400, "Parse error")
    assert error(node, "/rest/getutxos.bin", "POST", b"\x05\x00") == (400, "Parse error")
    assert error(node, f"/rest/getutxos/{coinbase}-0.bin", "POST", body) == (
        400, "Combination of URI scheme inputs and raw post data is not allowed")
    many = "/".join(f"{coinbase}-{i}" for i in range(16))
    assert error(node, f"/rest/getutxos/{many}.json") == (400, "Error: max outpoints exceeded (max: 15, tried: 16)")
    assert error(node, f"/rest/getutxos/{coinbase}-0") == (
        404, "output format not found (available: .bin, .hex, .json)")


def test_refusals_use_bitcoinds_status_codes_and_texts(chain):
    node, _, hashes = chain
    unknown = "33" * 32
    assert error(node, f"/rest/block/{unknown}.json") == (404, f"{unknown} not found")
    assert error(node, f"/rest/tx/{unknown}.bin") == (404, f"{unknown} not found")
    assert error(node, "/rest/block/0123.json") == (400, "Invalid hash: 0123")
    assert error(node, "/rest/tx/xyz.hex") == (400, "Invalid hash: xyz")
    assert error(node, f"/rest/block/{hashes[0]}") == (404, "output format not found (available: .bin, .hex, .json)")
    status, _, payload = get(node, "/rest/nothing")
    assert (status, payload) == (404, b"")
    print("REST takes no credentials; JSON-RPC still does")
    assert get(node, "/", "POST", '{"method":"getblockcount"}')[0] == 401


def test_without_rest_the_paths_are_not_served(node_factory):
    require_binaries("node", "wallet", "gui-bridge")
    node = node_factory.orreryd().start()
    status, _, payload = get(node, "/rest/chaininfo.json")
    assert (status, payload) == (404, b"")
