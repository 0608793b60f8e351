// BIP9 version bits (Core's versionbits.cpp): the state of each deployment
// (testdummy, taproot) for the block after a given entry of the header tree,
// the height since which it holds, the signalling statistics of the current
// period, and the version a new block carries. A state is the same for every
// block of a period, so it is computed once per period and cached by the
// period's last entry; entries never leave the tree while the node runs, so
// the cache never needs clearing.
#ifndef ORRERY_SERVICES_NODE_VALIDATION_VERSIONBITS_H
#define ORRERY_SERVICES_NODE_VALIDATION_VERSIONBITS_H

#include <common/consensus/params.h>
#include <services/node/validation/block_index.h>

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string_view>
#include <vector>

namespace orrery::node {

//! Core's VERSIONBITS_TOP_BITS / VERSIONBITS_TOP_MASK: a version signals only with the top three bits 001.
inline constexpr int32_t VERSIONBITS_TOP_BITS = 0x20000000;
inline constexpr uint32_t VERSIONBITS_TOP_MASK = 0xE0000000;

//! BIP9's states. DEFINED until the start time, STARTED while blocks signal, LOCKED_IN for one period once
//! enough did, then ACTIVE (no earlier than min_activation_height); FAILED once the timeout passes unlocked.
enum class ThresholdState { DEFINED, STARTED, LOCKED_IN, ACTIVE, FAILED };
//! "defined", "started", "locked_in", "active", "failed" (getdeploymentinfo's words).
std::string_view ThresholdStateName(ThresholdState state);

//! The deployments, in getdeploymentinfo's order.
enum class DeploymentPos { TESTDUMMY, TAPROOT };
inline constexpr std::array<DeploymentPos, 2> ALL_DEPLOYMENTS{DeploymentPos::TESTDUMMY, DeploymentPos::TAPROOT};
std::string_view DeploymentName(DeploymentPos pos);
const Bip9Deployment& DeploymentParams(const ConsensusParams& params, DeploymentPos pos);

//! Signalling in the period that holds a block, up to and including it.
struct Bip9Stats {
    int period{0};
    int threshold{0};
    int elapsed{0};       //!< blocks of the period so far
    int count{0};         //!< of which signalled
    bool possible{false}; //!< the threshold can still be reached in this period
};

//! Whether `version` signals `deployment`'s bit.
bool SignalsDeployment(int32_t version, const Bip9Deployment& deployment);
//! The statistics of the period holding `index` (a zero count when null); `signals` (when given) gets one entry
//! per block of the period up to `index`, true for those that signalled.
Bip9Stats GetStateStatistics(const BlockIndex* index, const Bip9Deployment& deployment,
                             std::vector<bool>* signals = nullptr);

//! Per-deployment caches of period states. Thread-safe; the entries passed in must outlive the cache (the tree's
//! entries live as long as the chainstate that owns both).
class VersionBitsCache
{
public:
    //! The state for the block after `prev` (null: the genesis block).
    ThresholdState State(const BlockIndex* prev, const ConsensusParams& params, DeploymentPos pos);
    //! The height of the first block whose state equals that of the block after `prev` (0 for DEFINED and for
    //! deployments that are always or never active).
    int StateSinceHeight(const BlockIndex* prev, const ConsensusParams& params, DeploymentPos pos);
    //! Core's ComputeBlockVersion: the top bits, plus the bit of every deployment STARTED or LOCKED_IN for the
    //! block after `prev`.
    int32_t ComputeBlockVersion(const BlockIndex* prev, const ConsensusParams& params);

private:
    using Cache = std::map<const BlockIndex*, ThresholdState>;
    ThresholdState StateLocked(const BlockIndex* prev, const Bip9Deployment& deployment, Cache& cache);

    std::mutex m_mutex;
    std::array<Cache, ALL_DEPLOYMENTS.size()> m_caches; // guarded by m_mutex
};

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_VALIDATION_VERSIONBITS_H
