"""Consensus rules through the P2P door, in the spirit of Bitcoin Core's feature_block.py: a peer written
with python-bitcoinlib over a plain socket builds blocks (tests/functional/block_builder.py) that each break
one rule, hands them to an orreryd on regtest, and checks that each is rejected with Core's reason and that
the valid ones become the tip.

The observable for a rejection is the debug.log line naming the block's hash and the reason, as Core's
feature_block.py watches its node's debug log: the agent writes it when its context-free checks fail
("Disconnecting peer=N ...: invalid block <hash>: bad-txnmrklroot"), the node when full validation fails
("Misbehaving: peer=N: invalid block <hash>: bad-cb-amount") or when it keeps a block for later
("block <hash> from peer=N: time-too-new"). A peer that sent an invalid block is disconnected, so every
delivery uses a fresh connection. Blocks on the tip are sent unasked, as Core's force_send; branches are
announced by headers and served when the node asks for them."""
import io
import re
import socket

import pytest

from conftest import NodeFactory, require_binaries, wait_for
from p2p_agent_fixture import Peer, messages, msg_headers_core
from block_builder import (COINBASE_MATURITY, COutPoint, CScript, CTxOut, MAX_BLOCK_SIGOPS, REGTEST_BITS,
                           add_witness_commitment, block_hash, coinbase, make_block, merkle_root, now,
                           p2sh_op_true_address, pad_to_stripped_size, spend, stripped_size, subsidy, with_txs)

from bitcoin.core import lx
from bitcoin.core.script import OP_CHECKSIG

MSG_BLOCK = 2
GENERATED = 130  # coinbases 1..30 are mature for every block the tests add
FEE = 10_000


class FeatureBlock:
    """The node, the coins the peer may spend, and a peer connection that serves the blocks it was given."""

    def __init__(self, node):
        self.node = node
        self.store = {}  # block hash (bytes) -> block, what the peer answers getdata with
        self.heights = {}  # block hash (hex) -> height, for the blocks the peer built
        self.times = {}  # block hash (hex) -> time, for the blocks the peer built
        self.coins = []  # mature P2SH(OP_TRUE) coinbase outputs: (outpoint, value)
        for height in range(1, GENERATED - COINBASE_MATURITY + 1):
            txid = node.rpc("getblock", node.rpc("getblockhash", height))["tx"][0]
            self.coins.append((COutPoint(lx(txid), 0), subsidy(height)))
        self.peer = None

    # --- the chain as the node sees it

    def tip(self):
        return self.node.rpc("getbestblockhash")

    def height(self, hash_):
        return self.heights.get(hash_) or self.node.rpc("getblockheader", hash_)["height"]

    def time_of(self, hash_):
        return self.times.get(hash_) or self.node.rpc("getblockheader", hash_)["time"]

    def take_coin(self):
        return self.coins.pop(0)

    def next_block(self, parent=None, txs=(), cb=None, time_=None, **options):
        """A block on `parent` (default the tip) with a coinbase (or `cb`) and `txs`, one second after its
        parent; `options` go to block_builder.make_block."""
        parent = parent or self.tip()
        height = self.height(parent) + 1
        txs = [cb or coinbase(height), *txs]
        block = make_block(parent, time_ or self.time_of(parent) + 1, txs, **options)
        self.remember(block, height)
        return block

    def remember(self, block, height):
        self.heights[block_hash(block)] = height
        self.times[block_hash(block)] = block.nTime

    # --- the peer

    def connect(self):
        if self.peer is not None:
            self.peer.close()
        self.peer = Peer(self.node.p2p_port)
        self.peer.handshake()
        self.closed = False

    def pump(self):
        """Answers what the node's agent asked since the last call: getdata from the store, ping."""
        if self.closed:
            return
        self.peer.sock.settimeout(0.05)
        try:
            while True:
                command, frame = self.peer.receive_frame()
                if command == b"getdata":
                    request = messages.MsgSerializable.stream_deserialize(io.BytesIO(frame))
                    for item in request.inv:
                        if item.type & 0xff == MSG_BLOCK and item.hash in self.store:
                            reply = messages.msg_block()
                            reply.block = self.store[item.hash]
                            self.peer.send(reply)
                elif command == b"ping":
                    ping = messages.MsgSerializable.stream_deserialize(io.BytesIO(frame))
                    self.peer.send(messages.msg_pong(nonce=ping.nonce))
        except socket.timeout:
            pass
        except OSError:  # the agent dropped us, as it does after an invalid block
            self.closed = True

    def logged_rejection(self, offset, hash_, reason):
        pattern = re.compile(re.escape(hash_) + r".*: " + re.escape(reason) + r"(?![\w-])")
        return any(pattern.search(line) for line in self.node.log()[offset:].splitlines())

    def send(self, blocks, accepted=True, reason=None, rejected=None, tip=None, headers_first=False):
        """Hands `blocks` to the node on a fresh connection: unasked, or announced by their headers and served
        on request. Then waits for the outcome: with `accepted`, the last block (or `tip`) is the tip; with
        `reason`, the log names `rejected` (default the last block) with that reason and the tip is `tip`
        (default unchanged); with neither, the node logs that it got the last block and the tip stays."""
        before = self.tip()
        offset = len(self.node.log())
        for block in blocks:
            self.store[block.GetHash()] = block
        self.connect()
        if headers_first:
            announcement = msg_headers_core()
            announcement.headers = [b.get_header() for b in blocks]
            self.peer.send(announcement)
        else:
            for block in blocks:
                reply = messages.msg_block()
                reply.block = block
                self.peer.send(reply)
        last = block_hash(blocks[-1])

        def outcome(check):
            def probe():
                self.pump()
                return check()
            return probe

        if reason is not None:
            rejected = block_hash(rejected) if rejected is not None else last
            wait_for(outcome(lambda: self.logged_rejection(offset, rejected, reason)), 20,
                     f"block {rejected} rejected with {reason}")
            print(f"block {rejected} rejected: {reason}")
            expected = tip or before
            wait_for(outcome(lambda: self.tip() == expected), 20, f"the tip back at {expected}")
        elif accepted:
            expected = tip or last
            wait_for(outcome(lambda: self.tip() == expected), 20, f"block {expected} as the tip")
            print(f"block {last} accepted, tip {expected}")
        else:
            wait_for(outcome(lambda: f"block {last} from peer=" in self.node.log()[offset:]), 20,
                     f"the node to process block {last}")
            assert self.tip() == before
            print(f"block {last} processed, the tip stays {before}")
        self.peer.close()
        self.peer = None


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    require_binaries("node", "p2p-agent", "gui-bridge")
    factory = NodeFactory(tmp_path_factory.mktemp("feature_block"))
    try:
        node = factory.orreryd(extra_args=("-debug=net",)).start()
        node.rpc("generatetoaddress", GENERATED, p2sh_op_true_address())
        yield FeatureBlock(node)
    finally:
        factory.teardown()


# ---------------------------------------------------------------------------------------------------------------
# One block, one broken rule


def test_a_valid_block_spending_a_mature_coinbase_becomes_the_tip(chain):
    coin, value = chain.take_coin()
    chain.send([chain.next_block(txs=[spend(coin, value - FEE)])])


def test_a_coinbase_paying_one_satoshi_more_than_subsidy_and_fees_is_rejected(chain):
    coin, value = chain.take_coin()
    height = chain.height(chain.tip()) + 1
    block = chain.next_block(txs=[spend(coin, value - FEE)], cb=coinbase(height, subsidy(height) + FEE + 1))
    chain.send([block], reason="bad-cb-amount")
    print("claiming exactly the subsidy and the fees is fine")
    chain.send([chain.next_block(txs=[spend(coin, value - FEE)], cb=coinbase(height, subsidy(height) + FEE))])


@pytest.mark.parametrize("case", ["a coin that never existed", "a coin spent twice in the block"])
def test_spending_a_missing_or_spent_coin_is_rejected(chain, case):
    if case == "a coin that never existed":
        txs = [spend(COutPoint(b"\x42" * 32, 0), 1000)]
    else:
        coin, value = chain.coins[0]
        txs = [spend(coin, value - FEE), spend(coin, value - 2 * FEE)]
    chain.send([chain.next_block(txs=txs)], reason="bad-txns-inputs-missingorspent")


@pytest.mark.parametrize("count,duplicated", [(3, 1), (6, 2)])
def test_a_merkle_mutated_copy_is_rejected_and_leaves_the_real_block_valid(chain, count, duplicated):
    """CVE-2012-2459: repeating the last transactions of a block whose level is odd keeps the merkle root, so
    the mutated copy has the real block's hash. Its rejection must not mark that hash invalid."""
    txs = []
    for _ in range(count - 1):
        coin, value = chain.take_coin()
        txs.append(spend(coin, value - FEE))
    real = chain.next_block(txs=txs)
    mutated = with_txs(real, list(real.vtx) + list(real.vtx[-duplicated:]))
    assert mutated.GetHash() == real.GetHash()
    assert merkle_root([tx.GetTxid() for tx in mutated.vtx]) == real.hashMerkleRoot
    chain.send([mutated], reason="bad-txns-duplicate", rejected=real)
    print("the node's own check gives the same answer to submitblock")
    assert chain.node.rpc("submitblock", mutated.serialize().hex()) == "bad-txns-duplicate"
    chain.send([real])


def test_a_block_over_the_legacy_sigop_limit_is_rejected_and_one_at_the_limit_accepted(chain):
    height = chain.height(chain.tip()) + 1
    over = coinbase(height, outputs=[CTxOut(0, CScript([OP_CHECKSIG] * (MAX_BLOCK_SIGOPS + 1)))])
    chain.send([chain.next_block(cb=over)], reason="bad-blk-sigops")
    at_limit = coinbase(height, outputs=[CTxOut(0, CScript([OP_CHECKSIG] * MAX_BLOCK_SIGOPS))])
    chain.send([chain.next_block(cb=at_limit)])


def test_a_block_over_one_million_stripped_bytes_is_rejected_and_one_at_the_limit_accepted(chain):
    parent = chain.tip()
    height = chain.height(parent) + 1

    def make(cb):
        return make_block(parent, chain.time_of(parent) + 1, [cb])

    over = pad_to_stripped_size(height, 1_000_001, make)
    chain.remember(over, height)
    chain.send([over], reason="bad-blk-length")
    at_limit = pad_to_stripped_size(height, 1_000_000, make)
    assert stripped_size(at_limit) * 4 == 4_000_000
    chain.remember(at_limit, height)
    chain.send([at_limit])


def test_a_block_whose_witnesses_push_its_weight_over_the_limit_is_rejected(chain):
    parent = chain.tip()
    height = chain.height(parent) + 1
    coin, value = chain.coins[0]

    def make(cb):
        # 900,000 stripped bytes weigh 3.6 million; the witness adds 400,001 more.
        txs = [cb, spend(coin, value - FEE, witness_item=b"\x01" * 400_001)]
        add_witness_commitment(txs)
        return make_block(parent, chain.time_of(parent) + 1, txs)

    block = pad_to_stripped_size(height, 900_000, make)
    assert block.GetWeight() > 4_000_000
    chain.remember(block, height)
    chain.send([block], reason="bad-blk-weight")


def test_a_header_committing_to_other_transactions_is_rejected(chain):
    chain.send([chain.next_block(root=b"\x01" * 32)], reason="bad-txnmrklroot")


def test_a_block_without_a_coinbase_is_rejected(chain):
    coin, value = chain.coins[0]
    parent = chain.tip()
    block = make_block(parent, chain.time_of(parent) + 1, [spend(coin, value - FEE)])
    chain.send([block], reason="bad-cb-missing")


def test_a_block_with_two_coinbases_is_rejected(chain):
    height = chain.height(chain.tip()) + 1
    chain.send([chain.next_block(txs=[coinbase(height, 1000, script_height=height + 1000)])],
               reason="bad-cb-multiple")


def test_spending_a_coinbase_before_it_matures_is_rejected(chain):
    tip = chain.tip()
    young = COutPoint(lx(chain.node.rpc("getblock", tip)["tx"][0]), 0)
    chain.send([chain.next_block(txs=[spend(young, subsidy(chain.height(tip)) - FEE)])],
               reason="bad-txns-premature-spend-of-coinbase")


def test_a_transaction_repeating_an_unspent_one_is_rejected_by_bip30(chain):
    coin, value = chain.take_coin()
    tx = spend(coin, value - FEE)
    chain.send([chain.next_block(txs=[tx])])
    print("the same transaction again, while its output is unspent")
    chain.send([chain.next_block(txs=[tx])], reason="bad-txns-BIP30")


def test_a_coinbase_with_a_wrong_bip34_height_is_rejected(chain):
    height = chain.height(chain.tip()) + 1
    chain.send([chain.next_block(cb=coinbase(height, script_height=height + 1))], reason="bad-cb-height")


def test_a_block_timed_at_its_parents_median_time_is_rejected(chain):
    median = chain.node.rpc("getblockheader", chain.tip())["mediantime"]
    chain.send([chain.next_block(time_=median)], reason="time-too-old")


def test_a_block_timed_more_than_two_hours_ahead_is_not_accepted(chain):
    chain.send([chain.next_block(time_=now() + 2 * 3600 + 600)], reason="time-too-new")


def test_a_block_with_other_bits_than_required_is_rejected(chain):
    chain.send([chain.next_block(bits=REGTEST_BITS - 1)], reason="bad-diffbits")


def test_a_block_whose_hash_misses_its_target_is_rejected(chain):
    chain.send([chain.next_block(valid_pow=False)], reason="high-hash")


def test_a_transaction_locked_to_the_block_height_is_rejected_and_one_below_accepted(chain):
    coin, value = chain.coins[0]
    height = chain.height(chain.tip()) + 1
    locked = spend(coin, value - FEE, lock_time=height, sequence=0)
    chain.send([chain.next_block(txs=[locked])], reason="bad-txns-nonfinal")
    chain.take_coin()
    chain.send([chain.next_block(txs=[spend(coin, value - FEE, lock_time=height - 1, sequence=0)])])


# ---------------------------------------------------------------------------------------------------------------
# Forks, invalid branches and their descendants


def test_a_child_of_an_invalid_block_is_rejected_as_bad_prevblk(chain):
    height = chain.height(chain.tip()) + 1
    invalid = chain.next_block(cb=coinbase(height, subsidy(height) + 1))
    chain.send([invalid], reason="bad-cb-amount")
    child = chain.next_block(parent=block_hash(invalid))
    chain.send([child], reason="bad-prevblk")
    print("the rejected child was not stored: its own child has an unknown parent, as in Core")
    chain.send([chain.next_block(parent=block_hash(child))], reason="prev-blk-not-found")


def test_an_equal_work_fork_is_not_followed_and_its_longer_extension_is(chain):
    tip = chain.tip()
    parent = chain.node.rpc("getblockheader", tip)["previousblockhash"]
    fork = chain.next_block(parent=parent, time_=chain.time_of(tip) + 1)
    chain.send([fork], accepted=False)
    print("one more block on the fork: the node reorganises to it")
    chain.send([chain.next_block(parent=block_hash(fork))], headers_first=True)


def test_a_longer_branch_through_an_invalid_block_is_not_followed_and_a_longer_valid_one_is(chain):
    tip = chain.tip()
    fork_point = chain.node.rpc("getblockheader", tip)["previousblockhash"]
    first = chain.next_block(parent=fork_point, time_=chain.time_of(tip) + 1)
    height = chain.height(block_hash(first)) + 1
    invalid = chain.next_block(parent=block_hash(first), cb=coinbase(height, subsidy(height) + 1))
    third = chain.next_block(parent=block_hash(invalid))
    print("a branch of three from the tip's parent, its second block paying itself too much")
    chain.send([first, invalid, third], headers_first=True, reason="bad-cb-amount", rejected=invalid, tip=tip)
    print("a valid branch of three from the same point wins")
    branch = [first]
    for _ in range(2):
        branch.append(chain.next_block(parent=block_hash(branch[-1])))
    chain.send(branch, headers_first=True)
