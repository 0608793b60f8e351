"""BIP9 version bits through orreryd -regtest, as bitcoind's regtest runs them: the testdummy deployment
(bit 28, period 144, threshold 108) goes defined -> started -> locked_in -> active as blocks with chosen
versions arrive by submitblock and generatetoaddress; getdeploymentinfo shows bitcoind's fields
(statistics, signalling, since, height), getblocktemplate sets the bit while the deployment signals and
lists the rule once active, and a restart computes the same states from the stored headers."""
import hashlib
import struct

from conftest import require_binaries

# The P2WSH address of a witness script OP_TRUE on regtest (Bitcoin Core's test framework uses it too).
ADDRESS = "bcrt1qft5p2uhsdcdc3l2ua4ap5qqfg4pjaqlp250x7us7a8qqhrxrxfsqseac85"
PERIOD = 144
THRESHOLD = 108
NO_SIGNAL = 0x20000000
SIGNAL = 0x20000000 | (1 << 28)
# Bit 28 set, but the top bits are 010 rather than 001: BIP9 does not count it.
WRONG_TOP_BITS = 0x40000000 | (1 << 28)


def sha256d(data):
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def mine_with_version(node, version):
    """A block on the tip from generateblock (not submitted), given `version`, ground again and submitted."""
    raw = bytearray.fromhex(node.rpc("generateblock", ADDRESS, [], False)["hex"])
    raw[0:4] = struct.pack("<i", version - (1 << 32) if version >= 1 << 31 else version)
    bits = struct.unpack_from("<I", raw, 72)[0]
    target = (bits & 0xFFFFFF) << (8 * ((bits >> 24) - 3))
    nonce = 0
    while True:
        struct.pack_into("<I", raw, 76, nonce)
        if int.from_bytes(sha256d(bytes(raw[:80])), "little") <= target:
            break
        nonce += 1
    assert node.rpc("submitblock", raw.hex()) is None
    return sha256d(bytes(raw[:80]))[::-1].hex()


def deployment_of(node, blockhash=None):
    info = node.rpc("getdeploymentinfo", *([blockhash] if blockhash else []))
    return info["deployments"]["testdummy"]


def test_testdummy_goes_through_every_bip9_state_with_chosen_block_versions(node_factory):
    require_binaries("node", "gui-bridge")
    node = node_factory.orreryd("vb0", extra_args=["-disablewallet"]).start()

    print("at genesis testdummy is defined, with Core's regtest parameters and no signalling fields")
    genesis = deployment_of(node)
    assert genesis == {"type": "bip9", "active": False,
                       "bip9": {"start_time": 0, "timeout": 9223372036854775807, "min_activation_height": 0,
                                "status": "defined", "since": 0, "status_next": "defined"}}
    assert list(node.rpc("getdeploymentinfo")["deployments"]) == ["bip34", "bip66", "bip65", "csv", "segwit",
                                                                  "testdummy", "taproot"]

    print("the first period (heights 0-143) stays defined; the next block starts signalling")
    node.rpc("generatetoaddress", PERIOD - 1, ADDRESS)
    assert node.rpc("getblockheader", node.rpc("getbestblockhash"))["versionHex"] == "20000000"
    last_defined = deployment_of(node)
    assert last_defined["bip9"]["status"] == "defined" and last_defined["bip9"]["status_next"] == "started"
    template = node.rpc("getblocktemplate", {"rules": ["segwit"]})
    assert template["version"] == SIGNAL and template["vbavailable"] == {"testdummy": 28}
    assert "testdummy" not in template["rules"] and "taproot" in template["rules"]

    print("period 144-287: alternating versions, then too few signals to lock in")
    for i in range(10):
        mine_with_version(node, SIGNAL if i % 2 == 0 else NO_SIGNAL)
    started = deployment_of(node)
    assert started["active"] is False and "height" not in started
    assert started["bip9"]["bit"] == 28
    assert started["bip9"]["status"] == "started" and started["bip9"]["since"] == PERIOD
    assert started["bip9"]["status_next"] == "started"
    assert started["bip9"]["statistics"] == {"period": PERIOD, "elapsed": 10, "count": 5, "threshold": THRESHOLD,
                                             "possible": True}
    assert started["bip9"]["signalling"] == "#-#-#-#-#-"
    # generatetoaddress signals by itself while the deployment is started: 5 + 97 = 102 signals.
    for blockhash in node.rpc("generatetoaddress", 97, ADDRESS)[:1]:
        assert node.rpc("getblockheader", blockhash)["versionHex"] == "30000000"
    for _ in range(PERIOD - 10 - 97):
        mine_with_version(node, NO_SIGNAL)
    assert node.rpc("getblockcount") == 2 * PERIOD - 1
    short = deployment_of(node)
    # 42 blocks without the signal: more than the 36 the threshold allows.
    assert short["bip9"]["statistics"] == {"period": PERIOD, "elapsed": PERIOD, "count": 102,
                                           "threshold": THRESHOLD, "possible": False}
    assert short["bip9"]["status_next"] == "started"
    failed_to_lock = node.rpc("getbestblockhash")

    print("period 288-431: exactly the threshold signals; wrong top bits do not count")
    node.rpc("generatetoaddress", THRESHOLD, ADDRESS)
    wrong = mine_with_version(node, WRONG_TOP_BITS)
    assert node.rpc("getblockheader", wrong)["versionHex"] == "50000000"
    assert deployment_of(node)["bip9"]["statistics"]["count"] == THRESHOLD
    for _ in range(PERIOD - THRESHOLD - 1):
        mine_with_version(node, WRONG_TOP_BITS)
    at_lock = deployment_of(node)
    assert at_lock["bip9"]["status"] == "started" and at_lock["bip9"]["status_next"] == "locked_in"
    assert at_lock["bip9"]["statistics"]["possible"] is True

    print("period 432-575: locked in; templates keep the bit; statistics drop threshold and possible")
    first_locked = node.rpc("generatetoaddress", 1, ADDRESS)[0]
    locked = deployment_of(node)
    assert locked["bip9"]["status"] == "locked_in" and locked["bip9"]["since"] == 3 * PERIOD
    assert locked["bip9"]["statistics"] == {"period": PERIOD, "elapsed": 1, "count": 1}
    assert locked["bip9"]["signalling"] == "#" and locked["active"] is False
    assert node.rpc("getblockheader", first_locked)["versionHex"] == "30000000"
    template = node.rpc("getblocktemplate", {"rules": ["segwit"]})
    assert template["version"] == SIGNAL and template["vbavailable"] == {"testdummy": 28}
    node.rpc("generatetoaddress", PERIOD - 1, ADDRESS)
    last_locked = deployment_of(node)
    assert last_locked["bip9"]["status"] == "locked_in" and last_locked["bip9"]["status_next"] == "active"
    assert last_locked["active"] is True and last_locked["height"] == 4 * PERIOD

    print("from 576 active: a rule of templates, no bit in the version, no signalling fields")
    node.rpc("generatetoaddress", 1, ADDRESS)
    active = deployment_of(node)
    assert active == {"type": "bip9", "height": 4 * PERIOD, "active": True,
                      "bip9": {"start_time": 0, "timeout": 9223372036854775807, "min_activation_height": 0,
                               "status": "active", "since": 4 * PERIOD, "status_next": "active"}}
    template = node.rpc("getblocktemplate", {"rules": ["segwit"]})
    assert template["version"] == NO_SIGNAL and template["vbavailable"] == {}
    assert template["rules"] == ["csv", "!segwit", "testdummy", "taproot"]

    print("after a restart the states come back from the stored headers, at the tip and at older blocks")
    before = node.rpc("getdeploymentinfo")
    node.stop()
    node.start()
    assert node.rpc("getdeploymentinfo") == before
    old = deployment_of(node, failed_to_lock)
    assert old["bip9"]["status"] == "started" and old["bip9"]["since"] == PERIOD
    assert old["bip9"]["statistics"]["count"] == 102
    assert deployment_of(node, node.rpc("getblockhash", 0)) == genesis
