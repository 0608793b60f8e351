"""The wallet sends, through orreryd and bitcoind's RPC: sendtoaddress and sendmany pay another wallet and another
constellation with balances exact to the satoshi; subtractfeefromamount makes the recipient pay the fee;
fundrawtransaction + signrawtransactionwithwallet build a transaction the node's testmempoolaccept takes; signatures
are checked independently with python3-bitcoinlib; two concurrent sends never spend the same coin; a wallet killed
right after sendtoaddress returned still knows the transaction after its restart; without -fallbackfee and without
estimates a send fails with bitcoind's message."""
import threading

from conftest import RpcError, wait_for

COIN = 100_000_000
FALLBACK = "-fallbackfee=0.0002"  # 20 sat/vB


def sats(btc):
    return round(btc * COIN)


def tip_processed(d, wallet=None):
    def done():
        block = d.rpc("getwalletinfo", wallet=wallet).get("lastprocessedblock")
        return block and block["hash"] == d.rpc("getbestblockhash")
    wait_for(done, 30, "the wallet at the node's tip")


def funded(node_factory, name="orreryd0", extra=()):
    """A constellation whose default wallet holds one mature 50 BTC coinbase (and 100 immature ones)."""
    d = node_factory.orreryd(name, extra_args=(FALLBACK, "-keypool=10", *extra)).start()
    d.rpc("generatetoaddress", 101, d.rpc("getnewaddress", wallet="default"))
    tip_processed(d, "default")
    assert d.rpc("getbalances", wallet="default")["mine"]["trusted"] == 50.0
    return d


def mine(d, wallet="default"):
    d.rpc("generatetoaddress", 1, d.rpc("getnewaddress", wallet=wallet))
    tip_processed(d, wallet)


def verify_inputs_with_bitcoinlib(raw_hex, spent):
    """Checks the BIP143 signature of every P2WPKH input with python3-bitcoinlib (its own sighash and ECDSA
    verification); `spent` maps (txid, n) to (scriptPubKey hex, value in satoshis)."""
    from bitcoin.core import CTransaction, x, Hash160
    from bitcoin.core.key import CPubKey
    from bitcoin.core.script import CScript, SignatureHash, SIGVERSION_WITNESS_V0, OP_DUP, OP_HASH160, \
        OP_EQUALVERIFY, OP_CHECKSIG
    tx = CTransaction.deserialize(x(raw_hex))
    for i, txin in enumerate(tx.vin):
        script, value = spent[(txin.prevout.hash[::-1].hex(), txin.prevout.n)]
        assert script.startswith("0014"), "only P2WPKH inputs are checked here"
        sig, pub = tx.wit.vtxinwit[i].scriptWitness.stack
        assert Hash160(pub).hex() == script[4:], "the witness key is the output's"
        script_code = CScript([OP_DUP, OP_HASH160, Hash160(pub), OP_EQUALVERIFY, OP_CHECKSIG])
        sighash = SignatureHash(script_code, tx, i, sig[-1], amount=value, sigversion=SIGVERSION_WITNESS_V0)
        assert CPubKey(pub).verify(sighash, sig[:-1]), f"input {i}: the signature does not verify"


def test_sendtoaddress_pays_another_wallet_and_another_constellation_with_exact_balances(node_factory):
    a = funded(node_factory, "a")
    b = node_factory.orreryd("b", extra_args=(f"-connect=127.0.0.1:{a.p2p_port}", "-keypool=10")).start()
    wait_for(lambda: b.rpc("getbestblockhash") == a.rpc("getbestblockhash"), 60, "B synced with A")
    a.rpc("createwallet", "second")
    to_second = a.rpc("getnewaddress", wallet="second")
    to_b = b.rpc("getnewaddress", wallet="default")

    print("A's default wallet pays 1 BTC to its second wallet and 2 BTC to B's wallet")
    txid1 = a.rpc("sendtoaddress", to_second, 1, wallet="default")
    verbose = a.rpc("sendmany", dummy="", amounts={to_b: 2}, wallet="default", verbose=True)
    txid2 = verbose["txid"]
    assert verbose["fee_reason"] == "Fallback fee"
    mempool = a.rpc("getrawmempool")
    assert txid1 in mempool and txid2 in mempool
    tx1 = a.rpc("gettransaction", txid1, wallet="default")
    tx2 = a.rpc("gettransaction", txid2, wallet="default")
    print("the first spends the coinbase, the second its unconfirmed change:", tx1["fee"], tx2["fee"])
    decoded1 = a.rpc("decoderawtransaction", tx1["hex"])
    assert all(vin["sequence"] == 0xfffffffd for vin in decoded1["vin"])  # -walletrbf defaults to on
    assert decoded1["locktime"] in range(102 - 100, 102)  # anti-fee-sniping: the tip's height, sometimes less
    assert len(decoded1["vout"]) == 2  # the payment and change
    change = [o for o in decoded1["vout"] if o["scriptPubKey"]["address"] != to_second][0]
    assert a.rpc("getaddressinfo", change["scriptPubKey"]["address"], wallet="default")["ischange"]
    # 20 sat/vB: the fee is the fallback rate times the virtual size (up to a signature's spare byte).
    assert 20 * decoded1["vsize"] <= sats(-tx1["fee"]) <= 20 * (decoded1["vsize"] + 1)

    print("python3-bitcoinlib verifies the signature of the first transaction")
    coinbase_txid = decoded1["vin"][0]["txid"]
    coinbase = a.rpc("gettransaction", coinbase_txid, wallet="default")
    out = a.rpc("decoderawtransaction", coinbase["hex"])["vout"][0]
    verify_inputs_with_bitcoinlib(tx1["hex"], {(coinbase_txid, 0): (out["scriptPubKey"]["hex"], 50 * COIN)})

    wait_for(lambda: txid2 in b.rpc("getrawmempool"), 60, "B's mempool has the payment")
    mine(a)
    wait_for(lambda: b.rpc("getbestblockhash") == a.rpc("getbestblockhash"), 60, "B at A's tip")
    tip_processed(b)
    fees = sats(-tx1["fee"]) + sats(-tx2["fee"])
    print("after one block, every balance is exact to the satoshi")
    assert sats(a.rpc("getbalance", wallet="second")) == 1 * COIN
    assert sats(b.rpc("getbalance", wallet="default")) == 2 * COIN
    # 50 spent from, minus what left, plus the newly matured coinbase (the 102nd block matured block 2's).
    assert sats(a.rpc("getbalance", wallet="default")) == 100 * COIN - 3 * COIN - fees
    assert a.rpc("gettransaction", txid1, wallet="default")["confirmations"] == 1


def test_subtractfeefromamount_makes_the_recipient_pay_the_fee(node_factory):
    d = funded(node_factory)
    d.rpc("createwallet", "payee")
    address = d.rpc("getnewaddress", wallet="payee")
    txid = d.rpc("sendtoaddress", address, 10, "", "", True, wallet="default")
    tx = d.rpc("gettransaction", txid, wallet="default")
    decoded = d.rpc("decoderawtransaction", tx["hex"])
    paid = [o for o in decoded["vout"] if o["scriptPubKey"].get("address") == address][0]
    print("the payee gets 10 BTC less the fee:", paid["value"], tx["fee"])
    assert sats(paid["value"]) == 10 * COIN + sats(tx["fee"])
    mine(d)
    tip_processed(d, "payee")
    assert sats(d.rpc("getbalance", wallet="payee")) == 10 * COIN + sats(tx["fee"])
    assert sats(d.rpc("getbalance", wallet="default")) == 100 * COIN - 10 * COIN


def test_sendall_empties_the_wallet_into_the_recipients(node_factory):
    d = funded(node_factory)
    d.rpc("createwallet", "emptied")
    d.rpc("createwallet", "payee")
    print("the default wallet pays 3 BTC to the wallet to be emptied, which then sends it all on")
    d.rpc("sendtoaddress", d.rpc("getnewaddress", wallet="emptied"), 3, wallet="default")
    mine(d)
    tip_processed(d, "emptied")
    fixed, rest = d.rpc("getnewaddress", wallet="payee"), d.rpc("getnewaddress", wallet="payee")
    result = d.rpc("sendall", recipients=[{fixed: 1}, rest], wallet="emptied", fee_rate=3)
    assert result["complete"] and result["txid"] in d.rpc("getrawmempool")
    tx = d.rpc("gettransaction", result["txid"], wallet="emptied")
    decoded = d.rpc("decoderawtransaction", tx["hex"])
    values = {o["scriptPubKey"]["address"]: sats(o["value"]) for o in decoded["vout"]}
    assert len(values) == 2 and values[fixed] == COIN
    assert values[rest] == 2 * COIN + sats(tx["fee"])  # no change: the rest less the fee
    assert 3 * decoded["vsize"] <= sats(-tx["fee"]) <= 3 * (decoded["vsize"] + 1)
    mine(d)
    tip_processed(d, "payee")
    assert sats(d.rpc("getbalance", wallet="emptied")) == 0
    assert sats(d.rpc("getbalance", wallet="payee")) == 3 * COIN + sats(tx["fee"])


def test_fundrawtransaction_and_signrawtransactionwithwallet_build_what_testmempoolaccept_takes(node_factory):
    d = funded(node_factory)
    target = d.rpc("getnewaddress", wallet="default")
    raw = d.rpc("createrawtransaction", [], [{target: 3}])
    funded_tx = d.rpc("fundrawtransaction", raw, {"fee_rate": 5, "changePosition": 1}, wallet="default")
    assert funded_tx["changepos"] == 1
    decoded = d.rpc("decoderawtransaction", funded_tx["hex"])
    assert decoded["vout"][0]["value"] == 3.0 and len(decoded["vout"]) == 2
    print("funded at 5 sat/vB, fee", funded_tx["fee"])
    signed = d.rpc("signrawtransactionwithwallet", funded_tx["hex"], wallet="default")
    assert signed["complete"] and "errors" not in signed
    accept = d.rpc("testmempoolaccept", [signed["hex"]])[0]
    assert accept["allowed"], accept
    assert sats(accept["fees"]["base"]) == sats(funded_tx["fee"])
    vsize = accept["vsize"]
    assert 5 * vsize <= sats(funded_tx["fee"]) <= 5 * (vsize + 1)
    txid = d.rpc("sendrawtransaction", signed["hex"])

    def wallet_saw_it():
        # -5 until the wallet hears of the transaction from the node's mempool notifications.
        try:
            return d.rpc("gettransaction", txid, wallet="default")["confirmations"] == 0
        except RpcError:
            return False

    wait_for(wallet_saw_it, 20, "the wallet saw it")

    print("a transaction too big for the wallet's coins: Insufficient funds (-6)")
    try:
        d.rpc("fundrawtransaction", d.rpc("createrawtransaction", [], [{target: 1000}]), wallet="default")
        assert False, "funded beyond the balance"
    except RpcError as e:
        assert e.code == -6 and e.message == "Insufficient funds"
    print("an explicit fee rate below the minimum is refused with bitcoind's message")
    try:
        d.rpc("sendtoaddress", address=target, amount=1, wallet="default", fee_rate=0.5)
        assert False, "sent below the minimum fee rate"
    except RpcError as e:
        assert e.code == -4 and e.message == ("Fee rate (0.500 sat/vB) is lower than the minimum fee rate setting "
                                              "(1.000 sat/vB)")


def test_without_fallbackfee_and_estimates_a_send_fails_with_bitcoinds_message(node_factory):
    d = node_factory.orreryd(extra_args=("-keypool=10",)).start()
    d.rpc("generatetoaddress", 101, d.rpc("getnewaddress"))
    tip_processed(d)
    try:
        d.rpc("sendtoaddress", d.rpc("getnewaddress"), 1)
        assert False, "sent without a fee rate"
    except RpcError as e:
        assert e.code == -4
        assert e.message == ("Fee estimation failed. Fallbackfee is disabled. Wait a few blocks or enable "
                             "-fallbackfee.")
    print("an explicit fee rate needs no estimate")
    txid = d.rpc("sendtoaddress", address=d.rpc("getnewaddress"), amount=1, fee_rate=2)
    assert txid in d.rpc("getrawmempool")


def test_concurrent_sends_never_spend_the_same_coin(node_factory):
    d = funded(node_factory, extra=("-spendzeroconfchange=0",))
    # Five mature coins: mine 5 more blocks.
    d.rpc("generatetoaddress", 5, d.rpc("getnewaddress", wallet="default"))
    tip_processed(d, "default")
    address = d.rpc("getnewaddress", wallet="default")
    results, errors = [], []

    def send():
        for _ in range(3):
            try:
                results.append(d.rpc("sendtoaddress", address, 1, wallet="default"))
            except RpcError as e:
                errors.append(e)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"{len(results)} sends succeeded, {len(errors)} ran out of confirmed coins")
    assert len(results) == 6 and not errors
    spent = []
    for txid in results:
        decoded = d.rpc("decoderawtransaction", d.rpc("gettransaction", txid, wallet="default")["hex"])
        spent += [(vin["txid"], vin["vout"]) for vin in decoded["vin"]]
    assert len(spent) == len(set(spent)), "two transactions spend one coin"
    mempool = d.rpc("getrawmempool")
    assert all(txid in mempool for txid in results)


def test_a_wallet_killed_right_after_sendtoaddress_still_knows_the_transaction(node_factory):
    d = funded(node_factory)
    txid = d.rpc("sendtoaddress", d.rpc("getnewaddress", wallet="default"), 5, wallet="default")
    old_pid = d.kill("wallet")
    wait_for(lambda: d.entries("wallet") and d.entries("wallet")[0]["pid"] not in (0, None, old_pid), 60,
             "orreryd restarted the wallet")

    def known():
        try:
            return d.rpc("gettransaction", txid, wallet="default")
        except RpcError:
            return None
    wait_for(known, 60, "the restarted wallet answering")
    print("the transaction survived the kill:", known()["txid"])
    assert txid in d.rpc("getrawmempool")
    mine(d)
    assert d.rpc("gettransaction", txid, wallet="default")["confirmations"] == 1
    assert sats(d.rpc("getbalance", wallet="default")) == 100 * COIN + sats(known()["fee"])


def test_ten_kills_in_the_middle_of_sendtoaddress_spend_no_coin_twice_and_lose_no_fee(node_factory):
    d = funded(node_factory)
    address = d.rpc("getnewaddress", wallet="default")

    def wallet_answers():
        try:
            return d.rpc("getwalletinfo", wallet="default")["node_connected"]
        except RpcError:
            return None

    def restarted(old_pid):
        try:
            entries = d.entries("wallet")
        except AssertionError:  # orreryd busy restarting it
            return False
        return entries and entries[0]["pid"] not in (0, None, old_pid)

    for round_ in range(10):
        if round_ in (4, 8):
            # orreryd gives a crashing service only a few restarts in a row (supervisor/restart_policy.h):
            # a fresh orreryd every four kills.
            d.stop()
            d.start()
            wait_for(wallet_answers, 60, "the wallet of the new orreryd connected to its node")
        outcome = []

        def send():
            try:
                outcome.append(d.rpc("sendtoaddress", address, 0.1, wallet="default"))
            except Exception as e:  # the wallet died under the call
                outcome.append(e)
        sender = threading.Thread(target=send)
        sender.start()
        old_pid = d.kill("wallet")
        sender.join()
        wait_for(lambda: restarted(old_pid), 60, "orreryd restarted the wallet")
        wait_for(wallet_answers, 60, "the restarted wallet answering, connected to its node")
        print(f"round {round_}: the send ended with {outcome[0]!r}")

    print("every transaction the wallet made reaches the chain; none spends a coin another spends")
    tip_processed(d, "default")
    mine(d)
    mine(d)
    made = {t["txid"] for t in d.rpc("listtransactions", "*", 1000, wallet="default") if t["category"] == "send"}
    assert made, "no send went through"
    spent, fees = [], {}
    for txid in made:
        tx = d.rpc("gettransaction", txid, wallet="default")
        assert tx["confirmations"] >= 1, f"{txid} never confirmed"
        fees[txid] = sats(tx["fee"])
        spent += [(vin["txid"], vin["vout"]) for vin in d.rpc("decoderawtransaction", tx["hex"])["vin"]]
    assert len(spent) == len(set(spent)), "two transactions spend one coin"
    # Sends to itself cost only their fees: 50 BTC, two matured coinbases, less every fee.
    assert sats(d.rpc("getbalance", wallet="default")) == 150 * COIN + sum(fees.values())
