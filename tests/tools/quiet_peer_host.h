// A PeerHost that takes every report and answers every request with nothing:
// the base of the stand-in nodes that tests put behind a p2p-agent (the test
// service, the agent test host, the sandbox unit tests). Each stand-in keeps
// admission (registerAgent) for itself and overrides only what its scenarios
// watch, so a new PeerHost method is added here once.
#ifndef ORRERY_TESTS_TOOLS_QUIET_PEER_HOST_H
#define ORRERY_TESTS_TOOLS_QUIET_PEER_HOST_H

#include <common/interfaces/peer_host.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace orrery::test_tools {

class QuietPeerHost : public interfaces::PeerHost
{
public:
    //! Stand-ins start their agents with -peerid: a socket-activated agent's own admission is refused.
    interfaces::Admission requestAdmission(std::string, std::string) override
    {
        return {.accepted = false, .peer_id = 0, .reason = "this stand-in node admits no peer itself"};
    }
    void handshakeDone(int64_t, interfaces::PeerVersion) override {}
    void reportStats(int64_t, interfaces::PeerStats) override {}
    void peerDisconnected(int64_t, std::string) override {}
    // No chain: nothing is synced, nothing is served.
    void headersReceived(int64_t, std::vector<uint8_t>) override {}
    void blockReceived(int64_t, std::vector<uint8_t>) override {}
    void blocksAnnounced(int64_t, std::vector<uint8_t>) override {}
    std::optional<std::vector<uint8_t>> getHeaders(int64_t, std::vector<uint8_t>, std::vector<uint8_t>) override
    {
        return std::nullopt;
    }
    std::vector<uint8_t> getBlocks(int64_t, std::vector<uint8_t>, std::vector<uint8_t>) override { return {}; }
    std::optional<std::vector<uint8_t>> getBlock(int64_t, std::vector<uint8_t>, bool) override { return std::nullopt; }
    // No mempool and no address book.
    void transactionsAnnounced(int64_t, std::vector<uint8_t>) override {}
    void transactionReceived(int64_t, std::vector<uint8_t>) override {}
    void transactionsNotFound(int64_t, std::vector<uint8_t>) override {}
    std::optional<std::vector<uint8_t>> getTransaction(int64_t, std::vector<uint8_t>, bool, bool) override
    {
        return std::nullopt;
    }
    void feeFilterReceived(int64_t, int64_t) override {}
    void mempoolRequested(int64_t) override {}
    void addressesReceived(int64_t, bool, std::vector<uint8_t>) override {}
    std::optional<std::vector<uint8_t>> getAddresses(int64_t) override { return std::nullopt; }
    //! Misbehaviour always ends the connection.
    bool peerMisbehaved(int64_t, std::string) override { return true; }
    // Compact blocks: none offered.
    void compactBlocksOffered(int64_t, bool) override {}
    void compactBlockReceived(int64_t, std::vector<uint8_t>) override {}
    void blockTransactionsReceived(int64_t, std::vector<uint8_t>) override {}
    std::optional<interfaces::WireMessage> getBlockTransactions(int64_t, std::vector<uint8_t>) override
    {
        return std::nullopt;
    }
    std::optional<interfaces::WireMessage> getCompactBlock(int64_t, std::vector<uint8_t>) override
    {
        return std::nullopt;
    }
};

} // namespace orrery::test_tools

#endif // ORRERY_TESTS_TOOLS_QUIET_PEER_HOST_H
