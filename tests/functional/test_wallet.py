"""orrery-wallet as a user (or orreryd) runs it: the default wallet of a first
start, private files, wallets and addresses kept across restarts and crashes,
bitcoind's errors, who may ask, and clean signals."""
import signal
import stat

from conftest import wait_for



def handed_out(wallet, name):
    """Receive addresses handed out: the next indexes of the wallet's external descriptors."""
    descriptors = wallet.call("listdescriptors", name)["descriptors"]
    return sum(d.get("next_index", 0) for d in descriptors if not d.get("internal", False))

def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_first_start_creates_the_default_wallet_in_private_files(node_factory):
    wallet = node_factory.wallet().start()
    print("the first start made and loaded 'default'")
    assert wallet.call("listwallets") == ["default"]
    assert wallet.call("listwalletdir") == ["default"]
    print("folders 0700, the database 0600")
    assert mode(wallet.wallets) == 0o700
    assert mode(wallet.wallets / "default") == 0o700
    assert mode(wallet.wallets / "default" / "wallet.sqlite") == 0o600
    print("getnewaddress gives regtest bech32 addresses (BIP84)")
    first = wallet.call("getnewaddress", "", "")
    assert first.startswith("bcrt1q")
    assert wallet.call("getnewaddress", "default", "rent", "bech32") != first
    assert wallet.call("getnewaddress", "default", "", "bech32m").startswith("bcrt1p")
    info = wallet.call("getwalletinfo", "")
    assert info["walletname"] == "default" and handed_out(wallet, "") == 3 and len(info["master_fingerprint"]) == 8
    for path in (wallet.wallets / "default").iterdir():
        assert mode(path) == 0o600, path
    assert wallet.stop() == 0
    assert wallet.stdout == "", "a service prints nothing on stdout"


def test_a_restart_keeps_the_loaded_wallets_and_never_reuses_an_address(node_factory):
    wallet = node_factory.wallet().start()
    wallet.call("createwallet", "savings")
    wallet.call("createwallet", "spare")
    wallet.call("unloadwallet", "spare")
    seen = {wallet.call("getnewaddress", name, "") for name in ("default", "savings") for _ in range(3)}
    assert len(seen) == 6
    print("SIGTERM stops it with exit code 0")
    assert wallet.stop() == 0
    assert "Shutdown done" in wallet.log()
    assert not (wallet.net / "run" / "wallet.sock").exists()

    wallet.start()
    print("the same wallets come back; 'spare' stays on disk only")
    assert wallet.call("listwallets") == ["default", "savings"]
    assert wallet.call("listwalletdir") == ["default", "savings", "spare"]
    for name in ("default", "savings"):
        address = wallet.call("getnewaddress", name, "")
        assert address not in seen
        seen.add(address)
    assert handed_out(wallet, "savings") == 4


def test_an_address_handed_out_before_a_crash_is_not_handed_out_again(node_factory):
    wallet = node_factory.wallet().start()
    before = [wallet.call("getnewaddress", "", "") for _ in range(3)]
    print("SIGKILL right after the addresses left")
    wallet.stop(signal.SIGKILL)
    wallet.start()
    after = wallet.call("getnewaddress", "", "")
    assert after not in before
    assert handed_out(wallet, "") == 4


def test_errors_are_bitcoinds(node_factory):
    wallet = node_factory.wallet().start()
    path = wallet.wallets / "default"
    assert wallet.error("createwallet", "default") == (
        -36, f"Wallet file verification failed. Failed to create database path '{path}'. Database already exists.")
    assert wallet.error("loadwallet", "nope") == (
        -18, f"Wallet file verification failed. Failed to load database path '{wallet.wallets / 'nope'}'. "
             "Path does not exist.")
    assert wallet.error("loadwallet", "default") == (-35, 'Wallet "default" is already loaded.')
    assert wallet.error("unloadwallet", "nope") == (-18, "Requested wallet does not exist or is not loaded")
    assert wallet.error("getnewaddress", "nope") == (-18, "Requested wallet does not exist or is not loaded")
    assert wallet.error("getnewaddress", "", "", "p2tr") == (-5, "Unknown address type 'p2tr'")
    assert wallet.error("getnewaddress", "", "*") == (-11, "Invalid label name")
    assert wallet.error("createwallet", "../escape")[0] == -8
    assert not (wallet.net / "escape").exists()
    wallet.call("createwallet", "second")
    assert wallet.error("getnewaddress", "") == (
        -19, "Multiple wallets are loaded. Please select which wallet to use by requesting the RPC through the "
             "/wallet/<walletname> URI path.")
    wallet.call("unloadwallet", "second")
    wallet.call("unloadwallet", "default")
    assert wallet.error("getnewaddress", "") == (
        -18, "No wallet is loaded. Load a wallet using loadwallet or create a new one with createwallet. "
             "(Note: A default wallet is no longer automatically created)")


def test_only_the_gui_bridge_may_call_the_wallet(node_factory):
    wallet = node_factory.wallet().start()
    assert wallet.call("listwallets", role="gui-bridge") == ["default"]
    for role in ("cli", "orreryd", "p2p-agent", "node", "wallet"):
        code, message = wallet.error("getnewaddress", "", role=role)
        assert code == -32006, message
        assert wallet.error("createwallet", "x", role=role)[0] == -32006
    assert handed_out(wallet, "") == 0
    assert wallet.call("listwalletdir") == ["default"]


def test_a_second_wallet_process_on_the_same_wallets_is_refused(node_factory):
    first = node_factory.wallet("shared").start()
    second = node_factory.wallet("shared", ["-ipcbind=ipc://" + str(first.net / "run" / "other.sock")])
    result = second.run(timeout=15)
    assert result.returncode == 1
    assert "Cannot obtain a lock on wallet directory" in result.stderr
    assert first.call("listwallets") == ["default"]


def test_options_of_a_wallet_started_by_orreryd(node_factory, tmp_path):
    setup = node_factory.wallet("managed").start()
    setup.call("createwallet", "cold")
    setup.call("unloadwallet", "cold")
    setup.call("unloadwallet", "default")
    assert setup.stop() == 0
    endpoint = f"ipc://{tmp_path / 'w.sock'}"
    (setup.net / "debug.log").unlink()
    print("-wallet loads at start, -ipcbind moves the endpoint, -nodebuglogfile -printtoconsole log to stderr")
    wallet = node_factory.wallet("managed", ["-wallet=cold", "-wallet=missing", f"-ipcbind={endpoint}", "-nodebuglogfile",
                                        "-printtoconsole", "-debug=wallet"])
    wallet.start(wait=False)
    wait_for(lambda: (tmp_path / "w.sock").exists(), 15, "the -ipcbind socket")
    assert wallet.call("listwallets", endpoint=endpoint) == ["cold"]
    assert wallet.call("getnewaddress", "cold", endpoint=endpoint).startswith("bcrt1q")
    assert wallet.stop(signal.SIGINT) == 0
    assert "[wallet:" in wallet.stderr and "Skipping -wallet path that doesn't exist" in wallet.stderr
    assert "handed out bech32 address" in wallet.stderr
    assert not (wallet.net / "debug.log").exists()


def test_disablewallet_keeps_the_wallet_from_running(node_factory):
    wallet = node_factory.wallet("off", ["-disablewallet"])
    result = wallet.run(timeout=15)
    assert result.returncode == 1
    assert "-disablewallet" in result.stderr
    assert not (wallet.wallets / "default").exists()
