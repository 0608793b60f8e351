// How one wallet follows the node's chain exactly (doc/wallet.md, "Following
// the chain"): each block connected or disconnected is applied when it fits
// the wallet's last processed block; anything else — a restart of either
// process, a dropped queue, a reorganization the wallet did not see — is
// repaired by CatchUp, which rolls the wallet back to the fork point with the
// node's active chain (findBlock + prev_hash) and reads forward from there with
// getBlocksFrom. Never a full rescan: the wallet resumes from its last block.
// Rescans (rescanblockchain, importdescriptors) read a range of the active
// chain without moving the last processed block.
#ifndef ORRERY_SERVICES_WALLET_SYNC_CHAIN_SYNC_H
#define ORRERY_SERVICES_WALLET_SYNC_CHAIN_SYNC_H

#include <common/interfaces/chain.h>
#include <services/wallet/hd_wallet.h>

#include <cstdint>
#include <optional>

namespace orrery::wallet {

//! bitcoind's TIMESTAMP_WINDOW: a scan for keys born at time t starts at blocks this much older.
inline constexpr int64_t TIMESTAMP_WINDOW{2 * 60 * 60};
//! Blocks asked of the node per getBlocksFrom call while catching up or rescanning.
inline constexpr int64_t SYNC_BATCH{100};

struct CatchUpResult {
    int64_t disconnected{0};
    int64_t connected{0};
};

//! Brings `wallet` to the node's active chain as it is now: logs where it resumes from, rolls back blocks that
//! left the active chain, connects the rest. Throws ipc::Error when the node goes away (the wallet stays at the
//! last block it finished: every block is one database transaction).
CatchUpResult CatchUp(HdWallet& wallet, interfaces::Chain& chain);

//! Applies a block the node connected; catches up when it does not fit the wallet's last block.
void ApplyBlockConnected(HdWallet& wallet, interfaces::Chain& chain, const interfaces::ChainBlock& block,
                         const Block& decoded);
//! Applies a block the node disconnected; catches up when it is not the wallet's last block.
void ApplyBlockDisconnected(HdWallet& wallet, interfaces::Chain& chain, const interfaces::ChainBlock& block,
                            const Block& decoded);

//! The first height whose median time past is at least `time` - TIMESTAMP_WINDOW, less 11 blocks (a block's own
//! time may run ahead of its median time past by that many blocks' worth); 0 for old times, the tip's height + 1
//! for times after it.
int64_t FindStartHeight(interfaces::Chain& chain, int64_t time);

struct RescanResult {
    int64_t start_height{0};
    int64_t stop_height{0}; //!< the last block scanned
    bool aborted{false};
};

//! Reads blocks [start, stop] (stop: the wallet's last processed block when unset) into the wallet as confirmed
//! transactions; getwalletinfo.scanning shows its progress; abortrescan stops it between blocks. Throws WalletError
//! (RPC_WALLET_ERROR) if a scan already runs.
RescanResult Rescan(HdWallet& wallet, interfaces::Chain& chain, int64_t start, std::optional<int64_t> stop);

} // namespace orrery::wallet

#endif // ORRERY_SERVICES_WALLET_SYNC_CHAIN_SYNC_H
