"""Cross-check common/keys against python-bitcoinlib, an independent
implementation: WIF keys, public keys, and P2PKH / P2SH / P2WPKH / P2WSH
addresses, in both directions, on main and regtest.

Drives the `keys_tool` executable built by tests/tools/meson.build, found at
$ORRERY_BUILD_DIR/tests/tools/keys_tool. Run with /usr/bin/python3 -m pytest.

python-bitcoinlib 0.11's bitcoin.segwit_addr predates BIP350 (Bech32 only),
so segwit addresses are compared for witness version 0 only.
"""
import hashlib
import logging
import os
import subprocess

import pytest

bitcoin = pytest.importorskip("bitcoin", reason="python3-bitcoinlib is not installed")
from bitcoin.core import CScript, x, b2x  # noqa: E402
from bitcoin.core.key import CPubKey  # noqa: E402
from bitcoin.core.serialize import Hash160  # noqa: E402
from bitcoin.wallet import (  # noqa: E402
    CBitcoinAddress,
    CBitcoinSecret,
    P2PKHBitcoinAddress,
    P2SHBitcoinAddress,
)

try:
    from bitcoin import segwit_addr
except ImportError:  # older releases have no bech32 module
    segwit_addr = None

log = logging.getLogger("keys_crosscheck")

# Orrery network name -> (python-bitcoinlib SelectParams name, bech32 HRP).
NETWORKS = {"main": ("mainnet", "bc"), "regtest": ("regtest", "bcrt")}
CASES = 8


@pytest.fixture(scope="module")
def tool():
    build_dir = os.environ.get("ORRERY_BUILD_DIR")
    if not build_dir:
        pytest.skip("ORRERY_BUILD_DIR is unset: point it at a meson build directory with keys_tool built")
    path = os.path.join(build_dir, "tests", "tools", "keys_tool")
    if not os.access(path, os.X_OK):
        pytest.skip(f"{path} is missing: run `ninja -C {build_dir} tests/tools/keys_tool`")

    class Tool:
        def raw(self, *args):
            return subprocess.run([path, *args], capture_output=True, text=True, timeout=30)

        def __call__(self, *args):
            proc = self.raw(*args)
            assert proc.returncode == 0, f"keys_tool {' '.join(args)} failed: {proc.stderr.strip()}"
            return proc.stdout.strip()

    return Tool()


@pytest.fixture(params=sorted(NETWORKS))
def network(request):
    select_name, hrp = NETWORKS[request.param]
    log.info("selecting %s parameters in python-bitcoinlib", select_name)
    bitcoin.SelectParams(select_name)
    yield request.param, hrp
    bitcoin.SelectParams("mainnet")


def secrets():
    """Deterministic secrets, all in 1..n-1 with overwhelming probability."""
    return [hashlib.sha256(b"orrery keys crosscheck %d" % i).digest() for i in range(CASES)]


def test_wif_keys_agree_in_both_directions(tool, network):
    net, _ = network
    for secret in secrets():
        for compressed in (True, False):
            theirs = str(CBitcoinSecret.from_secret_bytes(secret, compressed))
            ours = tool("wif-encode", net, secret.hex(), "1" if compressed else "0")
            log.info("%s WIF of %s… (compressed=%s): %s", net, secret.hex()[:8], compressed, ours)
            assert ours == theirs
            decoded_secret, decoded_flag = tool("wif-decode", net, theirs).split()
            assert decoded_secret == secret.hex()
            assert decoded_flag == ("1" if compressed else "0")
            parsed = CBitcoinSecret(ours)
            assert bytes(parsed)[:32] == secret  # the payload: secret, then 0x01 if compressed
            assert parsed.is_compressed == compressed


def test_public_keys_agree(tool):
    for secret in secrets():
        for compressed in (True, False):
            theirs = CBitcoinSecret.from_secret_bytes(secret, compressed).pub
            ours = tool("pubkey", secret.hex(), "1" if compressed else "0")
            log.info("public key of %s… (compressed=%s)", secret.hex()[:8], compressed)
            assert ours == b2x(theirs)


def test_p2pkh_addresses_agree_in_both_directions(tool, network):
    net, _ = network
    for secret in secrets():
        for compressed in (True, False):
            pub = CBitcoinSecret.from_secret_bytes(secret, compressed).pub
            theirs = P2PKHBitcoinAddress.from_pubkey(CPubKey(pub))
            ours = tool("p2pkh", net, b2x(pub))
            log.info("%s P2PKH %s", net, ours)
            assert ours == str(theirs)
            assert tool("script", net, str(theirs)) == b2x(theirs.to_scriptPubKey())
            assert tool("address", net, b2x(theirs.to_scriptPubKey())) == str(theirs)
            assert str(CBitcoinAddress.from_scriptPubKey(CScript(x(tool("script", net, ours))))) == ours


def redeem_scripts():
    """A few scripts to pay to: 1-of-1 multisig, a hash lock, raw bytes."""
    out = []
    for secret in secrets()[:4]:
        pub = CBitcoinSecret.from_secret_bytes(secret).pub
        out.append(bytes([0x51, len(pub)]) + pub + bytes([0x51, 0xAE]))  # OP_1 <pub> OP_1 OP_CHECKMULTISIG
        out.append(bytes([0xA8, 0x20]) + hashlib.sha256(secret).digest() + bytes([0x87]))  # OP_SHA256 <h> OP_EQUAL
    out.append(b"\x51")  # OP_TRUE
    return out


def test_p2sh_addresses_agree_in_both_directions(tool, network):
    net, _ = network
    for script in redeem_scripts():
        theirs = P2SHBitcoinAddress.from_redeemScript(CScript(script))
        ours = tool("p2sh", net, script.hex())
        log.info("%s P2SH of %d-byte script: %s", net, len(script), ours)
        assert ours == str(theirs)
        assert tool("script", net, str(theirs)) == b2x(theirs.to_scriptPubKey())
        assert str(CBitcoinAddress(ours).to_scriptPubKey().hex()) == tool("script", net, ours)


@pytest.mark.skipif(segwit_addr is None, reason="python-bitcoinlib has no bitcoin.segwit_addr")
def test_segwit_v0_addresses_agree_in_both_directions(tool, network):
    net, hrp = network
    for secret in secrets():
        pub = CBitcoinSecret.from_secret_bytes(secret).pub
        ours_wpkh = tool("p2wpkh", net, b2x(pub))
        log.info("%s P2WPKH %s", net, ours_wpkh)
        version, program = segwit_addr.decode(hrp, ours_wpkh)
        assert version == 0 and len(program) == 20
        assert bytes(program) == Hash160(pub)
        assert segwit_addr.encode(hrp, 0, program) == ours_wpkh
        script = tool("script", net, ours_wpkh)
        assert script == "0014" + bytes(program).hex()
        assert str(CBitcoinAddress.from_scriptPubKey(CScript(x(script)))) == ours_wpkh
    for script in redeem_scripts():
        ours_wsh = tool("p2wsh", net, script.hex())
        theirs = segwit_addr.encode(hrp, 0, hashlib.sha256(script).digest())
        log.info("%s P2WSH %s", net, ours_wsh)
        assert ours_wsh == theirs
        assert tool("script", net, theirs) == "0020" + hashlib.sha256(script).hexdigest()
        assert tool("address", net, "0020" + hashlib.sha256(script).hexdigest()) == theirs
        assert str(CBitcoinAddress(ours_wsh).to_scriptPubKey().hex()) == tool("script", net, ours_wsh)


def test_addresses_of_one_network_are_refused_on_the_other(tool):
    bitcoin.SelectParams("mainnet")
    pub = CBitcoinSecret.from_secret_bytes(secrets()[0]).pub
    main_address = str(P2PKHBitcoinAddress.from_pubkey(CPubKey(pub)))
    log.info("mainnet address %s must not decode on regtest", main_address)
    proc = tool.raw("script", "regtest", main_address)
    assert proc.returncode == 1
    assert "invalid address" in proc.stderr

