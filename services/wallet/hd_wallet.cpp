// One loaded wallet; see hd_wallet.h.
#include <services/wallet/hd_wallet.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <sys/random.h>

namespace orrery::wallet {
namespace {

std::string HexOf(std::span<const uint8_t> bytes)
{
    std::string hex;
    for (uint8_t b : bytes) hex += fmt::format("{:02x}", b);
    return hex;
}

} // namespace

void GetStrongRandBytes(std::span<uint8_t> out)
{
    size_t done = 0;
    while (done < out.size()) {
        ssize_t n = ::getrandom(out.data() + done, out.size() - done, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw std::runtime_error(fmt::format("getrandom failed: {}", std::strerror(errno)));
        done += static_cast<size_t>(n);
    }
}

std::unique_ptr<HdWallet> HdWallet::Create(const std::filesystem::path& file, std::string name, Network network,
                                           std::optional<std::span<const uint8_t>> seed)
{
    SecureBytes fresh;
    if (!seed) {
        fresh.get().resize(SEED_SIZE);
        GetStrongRandBytes(fresh.get());
        seed = fresh.get();
    }
    std::optional<ExtKey> master = ExtKey::FromSeed(*seed);
    if (!master) throw DatabaseError("The seed does not give a valid BIP32 master key");
    WalletRecord record;
    record.name = name;
    record.created = static_cast<int64_t>(std::time(nullptr));
    record.master_fingerprint = HexOf(master->GetFingerprint());
    auto database = WalletDatabase::Create(file, record, *seed);
    return std::unique_ptr<HdWallet>(new HdWallet(std::move(name), std::move(database), network));
}

std::unique_ptr<HdWallet> HdWallet::Load(const std::filesystem::path& file, std::string name, Network network)
{
    return std::unique_ptr<HdWallet>(new HdWallet(std::move(name), WalletDatabase::Open(file), network));
}

HdWallet::HdWallet(std::string name, std::unique_ptr<WalletDatabase> database, Network network)
    : m_name(std::move(name)), m_database(std::move(database))
{
    std::optional<ExtKey> master;
    {
        SecureBytes seed;
        m_database->ReadSeed(seed);
        master = ExtKey::FromSeed(seed.get());
    }
    if (!master) throw DatabaseError(fmt::format("Wallet '{}' holds an invalid seed", m_name));
    if (HexOf(master->GetFingerprint()) != m_database->Record().master_fingerprint) {
        throw DatabaseError(
            fmt::format("Wallet '{}' is corrupt: its seed does not match its master fingerprint", m_name));
    }
    for (OutputType type : ALL_OUTPUT_TYPES) {
        std::optional<ReceiveChain> chain = ReceiveChain::Make(*master, type, network);
        if (!chain)
            throw DatabaseError(fmt::format("Wallet '{}': cannot derive its {} account", m_name, OutputTypeName(type)));
        m_chains.push_back(std::move(*chain));
    }
}

std::string HdWallet::GetNewAddress(OutputType type, std::string_view label)
{
    std::lock_guard lock(m_mutex);
    const ReceiveChain& chain = m_chains.at(static_cast<size_t>(type));
    return m_database->ReserveAddress(OutputTypeName(type), label,
                                      [&chain](uint32_t index) { return chain.Address(index); });
}

WalletInfo HdWallet::GetInfo()
{
    std::lock_guard lock(m_mutex);
    WalletInfo info;
    info.name = m_name;
    info.format_version = m_database->Record().format_version;
    info.address_count = m_database->CountAddresses();
    info.master_fingerprint = m_database->Record().master_fingerprint;
    return info;
}

std::optional<std::string> HdWallet::GetLabel(std::string_view address)
{
    std::lock_guard lock(m_mutex);
    return m_database->LabelOf(address);
}

} // namespace orrery::wallet
