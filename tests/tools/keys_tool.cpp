// keys_tool: a thin command-line front end to common/keys, so that
// tests/functional/test_keys_crosscheck.py can compare its answers with an
// independent implementation (python-bitcoinlib). One command per call,
// answer on stdout, exit status 1 with a message on stderr on failure.
#include "common/consensus/transaction.h"
#include "common/crypto/hash.h"
#include "common/keys/bip32.h"
#include "common/keys/key.h"
#include "common/keys/key_io.h"
#include "common/keys/network.h"
#include "common/script/sighash.h"

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace orrery;

namespace {

constexpr std::string_view USAGE =
    "usage: keys_tool COMMAND ARGS...\n"
    "  wif-encode NET SECRET_HEX COMPRESSED(0|1)   WIF of a secret\n"
    "  wif-decode NET WIF                          prints SECRET_HEX COMPRESSED\n"
    "  pubkey SECRET_HEX COMPRESSED(0|1)           serialized public key\n"
    "  address NET SCRIPT_HEX                      address of a scriptPubKey\n"
    "  script NET ADDRESS                          scriptPubKey of an address\n"
    "  p2pkh|p2wpkh NET PUBKEY_HEX                 address paying to a key\n"
    "  p2sh|p2wsh NET SCRIPT_HEX                   address paying to a script\n"
    "  xprv-derive NET SEED_HEX PATH               prints xprv and xpub\n"
    "  sign-p2wpkh SECRET_HEX TX_HEX INDEX AMOUNT  signs input INDEX (spending AMOUNT satoshis to the key's\n"
    "                                              P2WPKH) with SIGHASH_ALL; prints the transaction\n"
    "NET is main, test, testnet4, signet or regtest.\n";

std::optional<std::vector<uint8_t>> ParseHex(std::string_view hex)
{
    if (hex.size() % 2 != 0) return std::nullopt;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::vector<uint8_t> out;
    for (size_t i = 0; i < hex.size(); i += 2) {
        const int hi = nibble(hex[i]);
        const int lo = nibble(hex[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<uint8_t>(hi << 4 | lo));
    }
    return out;
}

std::string HexStr(std::span<const uint8_t> bytes)
{
    static constexpr char DIGITS[] = "0123456789abcdef";
    std::string out;
    for (const uint8_t b : bytes) {
        out.push_back(DIGITS[b >> 4]);
        out.push_back(DIGITS[b & 15]);
    }
    return out;
}

int Fail(std::string_view message)
{
    std::fprintf(stderr, "keys_tool: %.*s\n", static_cast<int>(message.size()), message.data());
    return 1;
}

int Print(std::string_view answer)
{
    if (answer.empty()) return Fail("no result");
    std::printf("%.*s\n", static_cast<int>(answer.size()), answer.data());
    return 0;
}

int Run(const std::vector<std::string_view>& args)
{
    if (args.empty()) return Fail("missing command");
    const std::string_view cmd = args[0];

    if (cmd == "pubkey" && args.size() == 3) {
        const auto secret = ParseHex(args[1]);
        const auto key = secret ? Key::FromSecret(*secret, args[2] == "1") : std::nullopt;
        if (!key) return Fail("invalid secret");
        return Print(HexStr(key->GetPubKey().bytes()));
    }

    if (cmd == "sign-p2wpkh" && args.size() == 5) {
        const auto secret = ParseHex(args[1]);
        const auto key = secret ? Key::FromSecret(*secret, true) : std::nullopt;
        const auto raw = ParseHex(args[2]);
        if (!key || !raw) return Fail("invalid secret or transaction");
        Transaction tx = DeserializeTransaction(*raw);
        const size_t index = std::stoul(std::string(args[3]));
        const Amount amount = std::stoll(std::string(args[4]));
        if (index >= tx.vin.size()) return Fail("no such input");
        // BIP143's script code of a P2WPKH spend is the P2PKH script of the key.
        const PubKey pubkey = key->GetPubKey();
        const auto script_code = MakeP2PKHScript(pubkey.GetId());
        const uint256 hash = SignatureHashWitnessV0(script_code, tx, index, SIGHASH_ALL, amount, nullptr);
        crypto::Hash32 digest;
        std::copy(hash.begin(), hash.end(), digest.begin());
        std::vector<uint8_t> sig = key->SignEcdsa(digest);
        sig.push_back(SIGHASH_ALL);
        tx.vin[index].witness = {sig, std::vector<uint8_t>(pubkey.bytes().begin(), pubkey.bytes().end())};
        return Print(HexStr(SerializeTransaction(tx)));
    }

    if (args.size() < 3) return Fail(USAGE);
    const std::optional<Network> network = ParseNetworkName(args[1]);
    if (!network) return Fail("unknown network");

    if (cmd == "wif-encode" && args.size() == 4) {
        const auto secret = ParseHex(args[2]);
        const auto key = secret ? Key::FromSecret(*secret, args[3] == "1") : std::nullopt;
        if (!key) return Fail("invalid secret");
        return Print(EncodeWif(*key, *network));
    }
    if (cmd == "wif-decode" && args.size() == 3) {
        const auto key = DecodeWif(args[2], *network);
        if (!key) return Fail("invalid WIF");
        return Print(HexStr(key->Secret()) + (key->IsCompressed() ? " 1" : " 0"));
    }
    if (cmd == "address" && args.size() == 3) {
        const auto script = ParseHex(args[2]);
        if (!script) return Fail("bad hex");
        return Print(EncodeAddress(*script, *network));
    }
    if (cmd == "script" && args.size() == 3) {
        const auto script = DecodeAddress(args[2], *network);
        if (!script) return Fail("invalid address");
        return Print(HexStr(*script));
    }
    if ((cmd == "p2pkh" || cmd == "p2wpkh") && args.size() == 3) {
        const auto bytes = ParseHex(args[2]);
        const auto pubkey = bytes ? PubKey::Parse(*bytes) : std::nullopt;
        if (!pubkey) return Fail("invalid public key");
        const auto script = cmd == "p2pkh" ? MakeP2PKHScript(pubkey->GetId()) : MakeP2WPKHScript(*pubkey);
        return Print(EncodeAddress(script, *network));
    }
    if ((cmd == "p2sh" || cmd == "p2wsh") && args.size() == 3) {
        const auto inner = ParseHex(args[2]);
        if (!inner) return Fail("bad hex");
        if (cmd == "p2sh") return Print(EncodeAddress(MakeP2SHScript(crypto::Hash160(*inner)), *network));
        const crypto::Hash32 h = crypto::Sha256(*inner);
        return Print(EncodeAddress(MakeWitnessScript({0, std::vector<uint8_t>(h.begin(), h.end())}), *network));
    }
    if (cmd == "xprv-derive" && args.size() == 4) {
        const auto seed = ParseHex(args[2]);
        const auto path = ParseDerivationPath(args[3]);
        const auto master = seed ? ExtKey::FromSeed(*seed) : std::nullopt;
        const auto key = master && path ? master->DerivePath(*path) : std::nullopt;
        if (!key) return Fail("bad seed or path");
        return Print(EncodeExtKey(*key, *network) + " " + EncodeExtPubKey(key->Neuter(), *network));
    }
    return Fail(USAGE);
}

} // namespace

int main(int argc, char** argv)
{
    return Run(std::vector<std::string_view>(argv + 1, argv + argc));
}
