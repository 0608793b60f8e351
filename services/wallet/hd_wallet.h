// One loaded wallet: its database and the receive chains derived from its
// seed. The seed is read and the master key derived only while loading; what
// stays in memory are the chains' extended public keys, enough to hand out
// addresses. Signing, when it comes, derives private keys on demand.
#ifndef ORRERY_SERVICES_WALLET_HD_WALLET_H
#define ORRERY_SERVICES_WALLET_HD_WALLET_H

#include <common/keys/network.h>
#include <services/wallet/database.h>
#include <services/wallet/derivation.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace orrery::wallet {

//! Bytes of a new wallet's BIP32 seed.
inline constexpr size_t SEED_SIZE{32};

//! Fills `out` from the kernel's random source (getrandom). Throws on failure.
void GetStrongRandBytes(std::span<uint8_t> out);

//! A block by hash (hex, as bitcoind prints it) and height.
struct BlockRef {
    std::string hash;
    int64_t height{0};
};

//! What getwalletinfo shows of one wallet (services/wallet/rpc/ gives it bitcoind's field names).
struct WalletInfo {
    std::string name;
    int64_t format_version{1};
    int64_t address_count{0};       //!< receive addresses handed out
    std::string master_fingerprint; //!< hex, public
    //! bitcoind's lastprocessedblock: the node's tip as the wallet last saw it; unset until it has heard from the node.
    std::optional<BlockRef> last_processed_block;
};

//! Thread-safe: every method takes the wallet's own lock.
class HdWallet
{
public:
    //! Creates the database at `file` (its folder must exist) with a new
    //! random seed, or with `seed` (16..64 bytes) when given. Throws DatabaseError.
    static std::unique_ptr<HdWallet> Create(const std::filesystem::path& file, std::string name, Network network,
                                            std::optional<std::span<const uint8_t>> seed = std::nullopt);
    //! Opens an existing database. Throws DatabaseError.
    static std::unique_ptr<HdWallet> Load(const std::filesystem::path& file, std::string name, Network network);

    const std::string& Name() const { return m_name; }
    //! A receive address never handed out before, recorded with `label` on disk before it is returned.
    std::string GetNewAddress(OutputType type, std::string_view label);
    WalletInfo GetInfo();
    //! The label recorded with an address of this wallet (nullopt: not ours).
    std::optional<std::string> GetLabel(std::string_view address);

private:
    HdWallet(std::string name, std::unique_ptr<WalletDatabase> database, Network network);

    std::mutex m_mutex;
    const std::string m_name;
    std::unique_ptr<WalletDatabase> m_database;
    //! One per OutputType, in ALL_OUTPUT_TYPES order.
    std::vector<ReceiveChain> m_chains;
};

} // namespace orrery::wallet

#endif // ORRERY_SERVICES_WALLET_HD_WALLET_H
