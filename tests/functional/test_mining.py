"""Regtest mining and raw transactions through orreryd, as a bitcoind user
drives them: generatetoaddress to a bech32 address, getblocktemplate, a
handmade block through submitblock (accepted, duplicate, broken merkle root),
generateblock with a signed transaction spending a matured coinbase, and the
raw transaction methods' JSON compared field by field."""
import hashlib
import json
import subprocess

import pytest

from conftest import RpcError, require_binaries, tool_binary, wait_for

SECRET = "11" * 32


def keys_tool(*args):
    result = subprocess.run([str(tool_binary("keys_tool")), *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def sha256d(data):
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def read_varint(data, pos):
    first = data[pos]
    if first < 0xfd:
        return first, pos + 1
    size = {0xfd: 2, 0xfe: 4, 0xff: 8}[first]
    return int.from_bytes(data[pos + 1:pos + 1 + size], "little"), pos + 1 + size


def first_transaction(block_hex):
    """The coinbase of a serialized block: (txid, its bytes without witness)."""
    data = bytes.fromhex(block_hex)
    _, pos = read_varint(data, 80)
    start = pos
    version = data[pos:pos + 4]
    pos += 4
    segwit = data[pos] == 0 and data[pos + 1] == 1
    if segwit:
        pos += 2
    body_start = pos
    n_in, pos = read_varint(data, pos)
    for _ in range(n_in):
        pos += 36
        length, pos = read_varint(data, pos)
        pos += length + 4
    n_out, pos = read_varint(data, pos)
    for _ in range(n_out):
        pos += 8
        length, pos = read_varint(data, pos)
        pos += length
    body_end = pos
    if segwit:
        for _ in range(n_in):
            items, pos = read_varint(data, pos)
            for _ in range(items):
                length, pos = read_varint(data, pos)
                pos += length
    locktime = data[pos:pos + 4]
    legacy = version + data[body_start:body_end] + locktime
    assert start < body_start
    return sha256d(legacy)[::-1].hex(), legacy


def regrind(header_and_rest):
    """The block with its nonce moved until the header meets regtest's target."""
    data = bytearray(header_and_rest)
    target = 0x7fffff << (8 * (0x20 - 3))
    nonce = 0
    while True:
        data[76:80] = nonce.to_bytes(4, "little")
        if int.from_bytes(sha256d(bytes(data[:80])), "little") <= target:
            return bytes(data)
        nonce += 1


@pytest.fixture
def node(node_factory):
    require_binaries("node", "wallet", "gui-bridge")
    return node_factory.orreryd().start()


def test_a_user_mines_101_blocks_and_spends_a_matured_coinbase(node):
    pubkey = keys_tool("pubkey", SECRET, "1")
    address = keys_tool("p2wpkh", "regtest", pubkey)
    assert address.startswith("bcrt1q")
    other = keys_tool("p2wpkh", "regtest", keys_tool("pubkey", "22" * 32, "1"))

    print("generatetoaddress 101 to", address)
    hashes = node.rpc("generatetoaddress", 101, address)
    assert len(hashes) == 101 and len(set(hashes)) == 101
    assert node.rpc("getblockcount") == 101
    assert node.rpc("getbestblockhash") == hashes[-1]

    print("getblocktemplate with the segwit rule")
    with pytest.raises(RpcError) as error:
        node.rpc("getblocktemplate", {})
    assert error.value.code == -8 and "segwit rule set" in error.value.message
    template = node.rpc("getblocktemplate", {"rules": ["segwit"]})
    assert template["height"] == 102
    assert template["previousblockhash"] == hashes[-1]
    assert template["coinbasevalue"] == 5000000000
    assert template["bits"] == "207fffff"
    assert template["rules"] == ["csv", "!segwit", "taproot"]
    assert template["transactions"] == []
    assert template["default_witness_commitment"].startswith("6a24aa21a9ed")
    for field in ("capabilities", "version", "vbavailable", "vbrequired", "coinbaseaux", "longpollid", "target",
                  "mintime", "mutable", "noncerange", "sigoplimit", "sizelimit", "weightlimit", "curtime"):
        assert field in template, field

    print("the coinbase of block 1 is ours, mature after 100 more blocks")
    raw_first = node.rpc("generateblock", address, [], False)["hex"]
    coinbase_txid, _ = first_transaction(raw_first)

    print("submitblock of a block whose merkle root was broken")
    broken = bytearray(bytes.fromhex(raw_first))
    broken[36:68] = bytes(32)
    assert node.rpc("submitblock", regrind(bytes(broken)).hex()) == "bad-txnmrklroot"
    with pytest.raises(RpcError) as error:
        node.rpc("submitblock", "00")
    assert (error.value.code, error.value.message) == (-22, "Block decode failed")
    print("submitblock of the handmade block, twice")
    assert node.rpc("submitblock", raw_first) is None
    assert node.rpc("submitblock", raw_first) == "duplicate"
    assert node.rpc("getblockcount") == 102
    block_102 = node.rpc("getbestblockhash")
    node.rpc("generatetoaddress", 100, address)

    print("getrawtransaction of that coinbase in its block")
    coinbase = node.rpc("getrawtransaction", coinbase_txid, 1, block_102)
    assert coinbase["in_active_chain"] is True
    assert coinbase["confirmations"] == 101
    assert coinbase["vout"][0]["scriptPubKey"]["address"] == address
    assert coinbase["vout"][0]["value"] == 50

    print("createrawtransaction spending it, signed with keys_tool")
    unsigned = node.rpc("createrawtransaction", [{"txid": coinbase_txid, "vout": 0}], [{other: 49.9999}])
    decoded = node.rpc("decoderawtransaction", unsigned)
    assert decoded["vin"][0]["txid"] == coinbase_txid
    assert decoded["vin"][0]["sequence"] == 0xfffffffd
    assert decoded["vout"][0]["scriptPubKey"]["address"] == other
    signed = keys_tool("sign-p2wpkh", SECRET, unsigned, "0", "5000000000")
    spend = node.rpc("decoderawtransaction", signed)
    assert spend["txid"] == decoded["txid"]
    assert spend["hash"] != spend["txid"]
    assert len(spend["vin"][0]["txinwitness"]) == 2

    print("generateblock with the spend")
    mined = node.rpc("generateblock", address, [signed])
    assert node.rpc("getbestblockhash") == mined["hash"]
    found = node.rpc("getrawtransaction", spend["txid"], 2, mined["hash"])
    assert found["fee"] == pytest.approx(0.0001)
    assert found["vin"][0]["prevout"]["generated"] is True
    assert found["vin"][0]["prevout"]["value"] == 50
    assert found["vin"][0]["prevout"]["scriptPubKey"]["address"] == address
    print("the same transaction again is refused: its outputs exist (BIP30 comes first, as in bitcoind)")
    with pytest.raises(RpcError) as error:
        node.rpc("generateblock", address, [signed])
    assert error.value.code == -25
    assert error.value.message == "TestBlockValidity failed: bad-txns-BIP30, tried to overwrite transaction"

    info = node.rpc("getmininginfo")
    assert info["blocks"] == 203 and info["chain"] == "regtest"
    assert node.rpc("getdifficulty") == pytest.approx(4.656542373906925e-10)
    assert node.rpc("getnetworkhashps") > 0


def test_raw_transaction_methods_answer_as_bitcoind(node):
    print("decodescript of a 2-of-3 multisig")
    script = ("52210276d4d259f156bc953231ae2365555c9a445d50f40e0f9d49f43b062a38df621321020498177dced0022d4538f0b39a09"
              "d315ec944c7205307dc126af8f132975cae3210202835b62db105222c0d5208b31189660bd8a2f636d25d91329f73be56282fe"
              "5253ae")
    decoded = node.rpc("decodescript", script)
    assert decoded["type"] == "multisig"
    assert decoded["desc"].endswith("#lugfm7u3")
    assert decoded["p2sh"].startswith("2")
    assert decoded["segwit"]["type"] == "witness_v0_scripthash"
    assert decoded["segwit"]["address"].startswith("bcrt1q")
    assert decoded["segwit"]["desc"].startswith("wsh(multi(2,")
    print("decoderawtransaction of a taproot spend, field by field")
    raw = ("020000000001015e3ce275f299bf374fec2718c5d38846ddd85bfea46219d817e5450a28d28e620000000000ffffffff02000000"
           "00000000000b6a0970696e686561646d7a583e0f00000000002251205b70323aaba93c308dee73e80c0090134d281e20899fecc1fa"
           "696e56ccd8f7470440acfb049cb922ffea30cd2ce17667a1121d4c47c1c95e1eb69d4772ae6e1d0cd33aeefadf73ac62f744c16481"
           "6ba957d67b977978b00b0ba6fae8224c0b8bdd8840d95ca2fd121b9c85e44596b3c880c866b564757d9c9f538628bb44b7b07d98a7"
           "6ba7ac99fe7d5566aeb8a55639cdc36e770e6695a9d62434ef190a4951215a15470020e6e1296d0ae3d14050d755b4e07414544e0d"
           "d0e290497b48bc0f5fe7b9193e99ba20d0ac7c722cd2c8ee4ea94ea86e3f67ad59dfaf1b2758bb8826eb8910b82861dbba528721c1"
           "50929b74c1a04954b78b4b6035e97a5e078a5a0f28ec96d547bfee9ace803ac000000000")
    tx = node.rpc("decoderawtransaction", raw)
    assert tx["txid"] == "a32c20e0b4be4be951027618058c585d97d3a42a630505a5312ccc9e9950347a"
    assert tx["hash"] == "cac3922186430946f9be02ef869c08a504c88e75e6ac3601fbe60d308623a096"
    assert (tx["version"], tx["size"], tx["vsize"], tx["weight"], tx["locktime"]) == (2, 353, 174, 695, 0)
    assert tx["vout"][0]["scriptPubKey"] == {"asm": "OP_RETURN 70696e686561646d7a",
                                             "desc": "raw(6a0970696e686561646d7a)#jfe73c25",
                                             "hex": "6a0970696e686561646d7a", "type": "nulldata"}
    assert tx["vout"][1]["scriptPubKey"]["desc"] == \
        "rawtr(5b70323aaba93c308dee73e80c0090134d281e20899fecc1fa696e56ccd8f747)#v72vqqpf"
    with pytest.raises(RpcError) as error:
        node.rpc("decoderawtransaction", "00")
    assert (error.value.code, error.value.message) == (-22, "TX decode failed")
    print("the removed generate answers bitcoind's error")
    with pytest.raises(RpcError) as error:
        node.rpc("generate")
    assert error.value.code == -32601
    assert error.value.message.startswith(
        "generate\n\nhas been replaced by the -generate cli option. Refer to -help for more information.")
    with pytest.raises(RpcError) as error:
        node.rpc("generate", 1)
    assert error.value.code == -1 and "has been replaced by the -generate cli option" in error.value.message
    print("generatetodescriptor with a checksum, and a ranged one refused")
    key = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    assert len(node.rpc("generatetodescriptor", 2, f"wpkh({key})")) == 2
    with pytest.raises(RpcError) as error:
        node.rpc("generatetodescriptor", 1, "raw(51)#00000000")
    assert error.value.code == -5 and "does not match computed checksum" in error.value.message


def test_setmocktime_moves_every_process_clock(node):
    address = keys_tool("p2wpkh", "regtest", keys_tool("pubkey", SECRET, "1"))
    node.rpc("generatetoaddress", 1, address)
    mock = 2000000000
    print("setmocktime", mock)
    assert node.rpc("setmocktime", mock) is None
    template = node.rpc("getblocktemplate", {"rules": ["segwit"]})
    assert template["curtime"] == mock
    print("a block mined now carries the mock time")
    raw = node.rpc("generateblock", address, [], False)["hex"]
    assert int.from_bytes(bytes.fromhex(raw)[68:72], "little") == mock
    print("orreryd forwarded it to the wallet and the gui-bridge")
    node.wait_for_log(f"Mock time set to {mock} (from orreryd)")
    log = node.log()
    tagged = [line for line in log.splitlines() if f"Mock time set to {mock} (from orreryd)" in line]
    assert any("wallet" in line for line in tagged), tagged
    assert any("gui-bridge" in line for line in tagged), tagged
    with pytest.raises(RpcError) as error:
        node.rpc("setmocktime", -1)
    assert (error.value.code, error.value.message) == (-8, "Mocktime must be in the range [0, 9223372036], not -1.")
    assert node.rpc("setmocktime", 0) is None
    assert node.rpc("getblocktemplate", {"rules": ["segwit"]})["curtime"] < mock


def test_mocktime_option_pins_the_clock_from_the_start(node_factory):
    require_binaries("node", "wallet", "gui-bridge")
    mock = 1900000000
    node = node_factory.orreryd(extra_args=[f"-mocktime={mock}"]).start()
    assert node.rpc("getblocktemplate", {"rules": ["segwit"]})["curtime"] == mock
    address = keys_tool("p2wpkh", "regtest", keys_tool("pubkey", SECRET, "1"))
    raw = node.rpc("generateblock", address, [], False)["hex"]
    assert int.from_bytes(bytes.fromhex(raw)[68:72], "little") == mock


def test_getrawtransaction_finds_any_block_transaction_with_txindex(node_factory):
    require_binaries("node", "wallet", "gui-bridge")
    node = node_factory.orreryd(extra_args=["-txindex"]).start()
    address = keys_tool("p2wpkh", "regtest", keys_tool("pubkey", SECRET, "1"))
    raw = node.rpc("generateblock", address, [], False)["hex"]
    txid, _ = first_transaction(raw)
    assert node.rpc("submitblock", raw) is None
    node.rpc("generatetoaddress", 2, address)
    print("getrawtransaction without a block hash, through -txindex")

    def indexed():
        try:
            return node.rpc("getrawtransaction", txid, 1)
        except RpcError:
            return None
    wait_for(indexed, 20, "the coinbase in the txindex")
    tx = node.rpc("getrawtransaction", txid, 1)
    assert tx["txid"] == txid
    assert tx["confirmations"] == 3
    assert "in_active_chain" not in tx
    with pytest.raises(RpcError) as error:
        node.rpc("getrawtransaction", "ab" * 32)
    assert error.value.message == ("No such mempool or blockchain transaction. "
                                   "Use gettransaction for wallet transactions.")
