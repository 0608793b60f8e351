"""gettxoutsetinfo's UTXO set digests computed independently of the C++ code.

hash_serialized_3 (SHA256d over each coin's TxOutSer, in database key order)
and MuHash3072 (ChaCha20 written out here in plain Python, big integers for the
arithmetic modulo 2^3072 - 1103717), as Bitcoin Core defines them. Used by the
unit test of services/node/storage/coin_stats.cpp and by functional tests that
check a node's figures.

As a program: reads coins, one per line "txid n height coinbase value script_hex"
(txid in display hex, coinbase 0 or 1), and prints
"hash_serialized_3 <hex>" and "muhash <hex>" in the form gettxoutsetinfo prints.
"""
import hashlib
import struct
import sys

MODULUS = 2**3072 - 1103717


def _rotl(v, c):
    return ((v << c) & 0xFFFFFFFF) | (v >> (32 - c))


def _quarter(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF
    s[d] = _rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF
    s[b] = _rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF
    s[d] = _rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF
    s[b] = _rotl(s[b] ^ s[c], 7)


def chacha20_keystream(key, length):
    """ChaCha20 (RFC 8439 block function) with a zero nonce, block counter from 0."""
    out = b""
    counter = 0
    while len(out) < length:
        state = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574]
        state += list(struct.unpack("<8I", key))
        state += [counter, 0, 0, 0]
        work = list(state)
        for _ in range(10):
            _quarter(work, 0, 4, 8, 12)
            _quarter(work, 1, 5, 9, 13)
            _quarter(work, 2, 6, 10, 14)
            _quarter(work, 3, 7, 11, 15)
            _quarter(work, 0, 5, 10, 15)
            _quarter(work, 1, 6, 11, 12)
            _quarter(work, 2, 7, 8, 13)
            _quarter(work, 3, 4, 9, 14)
        out += struct.pack("<16I", *[(work[i] + state[i]) & 0xFFFFFFFF for i in range(16)])
        counter += 1
    return out[:length]


def element_number(data):
    """Core's ToNum3072: 384 keystream bytes keyed by SHA256(data), read little-endian."""
    return int.from_bytes(chacha20_keystream(hashlib.sha256(data).digest(), 384), "little")


class MuHash:
    def __init__(self):
        self.numerator = 1
        self.denominator = 1

    def insert(self, data):
        self.numerator = self.numerator * element_number(data) % MODULUS

    def remove(self, data):
        self.denominator = self.denominator * element_number(data) % MODULUS

    def digest(self):
        """SHA256 of numerator/denominator as 384 little-endian bytes (storage order)."""
        value = self.numerator * pow(self.denominator, -1, MODULUS) % MODULUS
        return hashlib.sha256(value.to_bytes(384, "little")).digest()


def compact_size(n):
    if n < 253:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + struct.pack("<H", n)
    if n <= 0xFFFFFFFF:
        return b"\xfe" + struct.pack("<I", n)
    return b"\xff" + struct.pack("<Q", n)


def txout_ser(txid_storage, n, height, coinbase, value, script):
    return (txid_storage + struct.pack("<I", n) + struct.pack("<I", height * 2 + (1 if coinbase else 0)) +
            struct.pack("<q", value) + compact_size(len(script)) + script)


def utxo_digests(coins):
    """coins: (txid_storage_bytes, n, height, coinbase, value, script) in any order.

    Returns (hash_serialized_3, muhash) as display hex. The serialized hash
    follows the database's key order: txid bytes in storage order, then n."""
    ordered = sorted(coins, key=lambda c: (c[0], c[1]))
    sha = hashlib.sha256()
    mu = MuHash()
    for coin in ordered:
        ser = txout_ser(*coin)
        sha.update(ser)
        mu.insert(ser)
    serialized = hashlib.sha256(sha.digest()).digest()
    return serialized[::-1].hex(), mu.digest()[::-1].hex()


def main(argv):
    coins = []
    with open(argv[1]) as f:
        for line in f:
            if not line.strip():
                continue
            txid, n, height, coinbase, value, script = line.split()
            coins.append((bytes.fromhex(txid)[::-1], int(n), int(height), coinbase == "1", int(value),
                          bytes.fromhex(script) if script != "-" else b""))
    serialized, muhash = utxo_digests(coins)
    print("hash_serialized_3", serialized)
    print("muhash", muhash)


if __name__ == "__main__":
    main(sys.argv)
