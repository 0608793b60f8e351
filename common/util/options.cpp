// The option table and what is derived from it; see options.h.
//
// Help texts are Orrery's own words. A row without users is an option of
// bitcoind that Orrery has no feature for yet: it is accepted (bitcoin.conf
// files and scripts keep working) and orreryd says once that it does nothing.
#include <common/util/options.h>

#include <algorithm>

namespace orrery {
namespace {

constexpr unsigned O = PROCESS_ORRERYD;
constexpr unsigned N = PROCESS_NODE;
constexpr unsigned W = PROCESS_WALLET;
constexpr unsigned B = PROCESS_GUI_BRIDGE;
constexpr unsigned A = PROCESS_P2P_AGENT;
constexpr unsigned ALL = PROCESS_ALL;
constexpr unsigned NONE = 0;
constexpr unsigned NET = ARG_NETWORK_ONLY;
constexpr unsigned CLI = ARG_COMMAND_LINE_ONLY;
constexpr unsigned MINE = OPT_SET_BY_ORRERYD;

// clang-format off
constexpr OptionInfo OPTIONS[] = {
    // --- help, files, start-up
    {"-?", "Print this help and exit", CLI, ALL},
    {"-help", "Print this help and exit", CLI, ALL},
    {"-help-debug", "Print this help, debugging options included, and exit", CLI, ALL},
    {"-version", "Print the version and exit", CLI, ALL},
    {"-datadir=<dir>", "Data directory (default: ~/.orrery)", CLI | MINE, ALL},
    {"-conf=<file>", "Configuration file, relative to the datadir (default: orrery.conf, else bitcoin.conf)", CLI, ALL},
    {"-includeconf=<file>", "Read another configuration file, relative to the datadir (config file only)", NONE, ALL},
    {"-allowignoredconf", "bitcoind: warn instead of failing when a bitcoin.conf in the datadir is not read", NONE, NONE},
    {"-pid=<file>", "Write orreryd's process id to <file>, relative to the network's folder; removed at a clean stop "
                    "(default: orreryd.pid; -nopid: none)", NONE, O},
    {"-daemon", "bitcoind: fork into the background (Orrery: run it under systemd or with &)", NONE, NONE},
    {"-daemonwait", "bitcoind: with -daemon, wait until start-up is done", NONE, NONE},
    {"-startupnotify=<cmd>", "Run a shell command once every service has started", NONE, O},
    {"-shutdownnotify=<cmd>", "Run a shell command as shutdown begins; orreryd waits for it up to -stoptimeout", NONE, O},
    {"-settings=<file>", "bitcoind: file of settings changed at run time", NONE, NONE},
    // --- chain selection
    {"-chain=<chain>", "Use the chain <chain>: main, test, testnet4, signet, regtest", NONE, ALL},
    {"-regtest", "Use the regression test chain", NONE, ALL},
    {"-testnet", "Use the test chain (testnet3)", NONE, ALL},
    {"-testnet4", "Use the testnet4 chain", NONE, ALL},
    {"-signet", "Use the signet chain", NONE, ALL},
    {"-signetchallenge", "bitcoind: a custom signet's block challenge", NONE, NONE},
    {"-signetseednode", "bitcoind: a custom signet's seed node", NONE, NONE},
    {"-vbparams=<deployment:start:end>", "bitcoind (regtest): version bits deployment parameters", NONE, NONE},
    {"-testactivationheight=<name@height>", "Regtest only: enforce soft fork <name> (bip34, dersig, cltv, csv, segwit) from block <height> on", NONE, N},
    // --- logging
    {"-debug=<category>", "Log debugging records of a category (ipc, net, rpc, validation, wallet, supervisor, "
                          "or any of bitcoind's; all or 1: every one; 0 or none: none). Repeatable", NONE, ALL},
    {"-debugexclude=<category>", "Leave a category out of -debug (wins over -debug). Repeatable", NONE, ALL},
    {"-debuglogfile=<file>", "Log file, relative to the network's folder (default: debug.log; -nodebuglogfile: none)",
     MINE, ALL},
    {"-loglevel=<level>|<category>:<level>", "Lowest level of debug records logged: trace or debug (default: debug), "
                                             "for all categories or one. Repeatable", NONE, ALL},
    {"-loglevelalways", "bitcoind: print a category and level on every line", NONE, NONE},
    {"-logips", "bitcoind: include IP addresses in debug records (Orrery always does)", NONE, NONE},
    {"-logtimestamps", "bitcoind: time stamp every line (Orrery always does)", NONE, NONE},
    {"-logtimemicros", "Time stamps with microseconds", NONE, ALL},
    {"-logthreadnames", "Name the thread of each record", NONE, ALL},
    {"-logsourcelocations", "Name the source file, line and function of each record", NONE, ALL},
    {"-printtoconsole", "Also write the log to standard output", MINE, ALL},
    {"-shrinkdebugfile", "At start, cut debug.log to its last 10 MB when it is larger than 11 MB (default: 1 unless "
                         "-debug)", NONE, O},
    // --- P2P connections
    {"-addnode=<ip>", "Connect to this peer and keep the connection open (repeatable)", NET, N},
    {"-asmap=<file>", "bitcoind: ASN map for peer bucketing", NONE, NONE},
    {"-bantime=<n>", "Default duration of setban's bans in seconds (default: 86400)", NONE, N},
    {"-bind=<addr>[:<port>]", "Listen for peers on this address (repeatable; default: 0.0.0.0 and ::); implies -listen",
     NET, O | N},
    {"-cjdnsreachable", "bitcoind: this host reaches the CJDNS network", NONE, NONE},
    {"-connect=<ip>", "Connect only to these peers (repeatable; -connect=0 or -noconnect: none); implies -listen=0 "
                      "unless -bind is given", NET, O | N},
    {"-discover", "bitcoind: discover our own addresses", NONE, NONE},
    {"-dns", "bitcoind: allow DNS lookups for -addnode, -seednode and -connect", NONE, NONE},
    {"-dnsseed", "Ask the network's DNS seeds for peer addresses when the address book is empty (default: 1 unless "
                 "-connect; regtest has no seeds)", NONE, N},
    {"-externalip=<ip>", "bitcoind: our own public address", NONE, NONE},
    {"-fixedseeds", "bitcoind: use the built-in seed addresses", NONE, NONE},
    {"-forcednsseed", "bitcoind: always ask DNS seeds", NONE, NONE},
    {"-i2pacceptincoming", "bitcoind: accept I2P peers", NONE, NONE},
    {"-i2psam=<ip:port>", "bitcoind: I2P SAM proxy", NONE, NONE},
    {"-listen", "Accept peers from outside (default: 1 unless -connect, -proxy or -maxconnections=0)", NONE, O | N},
    {"-listenonion", "bitcoind: make a Tor onion service", NONE, NONE},
    {"-maxconnections=<n>", "At most <n> automatic peer connections (default: 125)", NONE, O | N},
    {"-maxreceivebuffer=<n>", "bitcoind: per-peer receive buffer in kB", NONE, NONE},
    {"-maxsendbuffer=<n>", "bitcoind: per-peer send buffer in kB", NONE, NONE},
    {"-maxuploadtarget=<n>", "bitcoind: outbound traffic target per day", NONE, NONE},
    {"-natpmp", "bitcoind: map the listening port with PCP or NAT-PMP", NONE, NONE},
    {"-networkactive", "bitcoind: start with the network active", NONE, NONE},
    {"-onion=<ip:port>", "bitcoind: SOCKS5 proxy for onion peers", NONE, NONE},
    {"-onlynet=<net>", "bitcoind: automatic connections only to this network", NONE, NONE},
    {"-peerblockfilters", "bitcoind: serve BIP157 block filters", NONE, NONE},
    {"-peerbloomfilters", "bitcoind: serve BIP37 bloom filters", NONE, NONE},
    {"-peertimeout=<n>", "Seconds a new peer has to finish the version handshake and send something before it is "
                         "dropped (default: 60)", NONE, A},
    {"-port=<port>", "Listen for peers on <port> (default: 8333, testnet3: 18333, testnet4: 48333, signet: 38333, "
                     "regtest: 18444)", NET, O | N},
    {"-proxy=<ip:port>", "bitcoind: connect through a SOCKS5 proxy (Orrery: not yet; it still turns -listen off)", NONE,
     NONE},
    {"-proxyrandomize", "bitcoind: random proxy credentials per connection", NONE, NONE},
    {"-seednode=<ip>", "Connect to this peer at start to ask it for addresses, then disconnect (repeatable)", NET, N},
    {"-timeout=<n>", "Milliseconds an outbound connection attempt may take (default: 5000)", NONE, A},
    {"-torcontrol=<ip:port>", "bitcoind: Tor control port", NONE, NONE},
    {"-torpassword=<pass>", "bitcoind: Tor control password", NONE, NONE},
    {"-txreconciliation", "bitcoind: BIP330 transaction reconciliation", NONE, NONE},
    {"-upnp", "bitcoind: map the listening port with UPnP", NONE, NONE},
    {"-v2transport", "bitcoind: BIP324 encrypted transport", NONE, NONE},
    {"-whitebind=<[permissions@]addr>", "Listen on this address (a port is needed) and give its peers the "
                                        "permissions: noban, relay, mempool, download, forcerelay, bloomfilter, addr, "
                                        "all (default: noban,relay,mempool,download). Repeatable", NONE, O | N},
    {"-whitelist=<[permissions@]IP address or network>", "Give peers from this address or subnet the permissions of "
                                                         "-whitebind; in and out choose the direction (default: in). "
                                                         "Repeatable", NONE, N},
    {"-whitelistforcerelay", "Whitelisted peers with default permissions also get forcerelay (default: 0)", NONE, N},
    {"-whitelistrelay", "Whitelisted peers with default permissions also get relay (default: 1)", NONE, N},
    {"-uacomment=<cmt>", "Add a comment to the user agent we announce (repeatable)", NONE, O | N},
    // --- chain state, mempool, indexes
    {"-alertnotify=<cmd>", "bitcoind: command run on an alert", NONE, NONE},
    {"-assumevalid=<hex>", "Trust the scripts of this block's ancestors (skip their script checks when it is in the best header chain; 0: check every script)", NONE, N},
    {"-blockfilterindex=<type>", "bitcoind: index of compact block filters", NONE, NONE},
    {"-blocknotify=<cmd>", "bitcoind: command run when the best block changes", NONE, NONE},
    {"-blockreconstructionextratxn=<n>", "bitcoind: extra transactions kept for compact blocks", NONE, NONE},
    {"-blocksdir=<dir>", "Keep the blocks folder (blk*.dat, rev*.dat, index/) under <dir>/<net>/ instead of the datadir", NONE, N},
    {"-blocksonly", "Ask peers not to send transactions and refuse those they send (peers with the relay permission excepted); transactions of this node's own RPC and wallets are still relayed (default: 0)", NONE, N},
    {"-blocksxor", "bitcoind: obfuscate block files with a key", NONE, NONE},
    {"-coinstatsindex", "bitcoind: index for gettxoutsetinfo", NONE, NONE},
    {"-dbbatchsize", "Bytes per batch when the coins cache is written to the database (default: 16 MiB)", NONE, N},
    {"-dbcache=<n>", "Memory for the coins cache in MiB; it is written to disk when full (default: 450)", NONE, N},
    {"-loadblock=<file>", "At start, import the blocks of a file of serialized blocks (blk*.dat format)", NONE, N},
    {"-maxmempool=<n>", "Keep the mempool under <n> MB, evicting the lowest fee rates first (default: 300)", NONE, N},
    {"-maxorphantx=<n>", "Keep at most <n> transactions whose parents are missing (default: 100)", NONE, N},
    {"-mempoolexpiry=<n>", "Drop mempool transactions older than <n> hours (default: 336)", NONE, N},
    {"-mempoolfullrbf", "Let any mempool transaction be replaced by a better-paying one, signalled or not (default: 1; 0: only BIP125 signalling ones)", NONE, N},
    {"-minimumchainwork=<hex>", "bitcoind: least chain work of a valid chain", NONE, NONE},
    {"-par=<n>", "Script verification threads (0: as many as cores, negative: leave that many cores free; default: 0)", NONE, N},
    {"-persistmempool", "Save the mempool to mempool.dat at shutdown and load it at start (default: 1)", NONE, N},
    {"-persistmempoolv1", "Write mempool.dat in version 1, without the XOR key (default: 0)", NONE, N},
    {"-prune=<n>", "Delete old block files to stay under <n> MiB (at least 550), or 1 to prune only with pruneblockchain (default: 0, off); incompatible with -txindex", NONE, N},
    {"-reindex", "Rebuild the block index and the chainstate from the blk*.dat files at start", NONE, N},
    {"-reindex-chainstate", "Rebuild the chainstate from the stored blocks at start", NONE, N},
    {"-txindex", "Keep an index of every transaction (getrawtransaction without a block hash)", NONE, N},
    // --- relay policy and block creation
    {"-acceptnonstdtxn", "Accept transactions that break the standardness rules (test chains only; default: 0)", NONE, N},
    {"-bytespersigop", "Virtual bytes each signature operation counts for in fee rates (default: 20)", NONE, N},
    {"-datacarrier", "Relay and mine transactions with an OP_RETURN data output (default: 1)", NONE, N},
    {"-datacarriersize", "Largest OP_RETURN output script relayed, in bytes (default: 83)", NONE, N},
    {"-dustrelayfee=<amt>", "Fee rate in BTC/kvB below which spending an output costs more than a third of it: such outputs are dust (default: 0.00003)", NONE, N},
    {"-incrementalrelayfee=<amt>", "Fee rate in BTC/kvB a replacement or the mempool's minimum after an eviction adds (default: 0.00001)", NONE, N},
    {"-minrelaytxfee=<amt>", "Lowest fee rate in BTC/kvB the mempool accepts (default: 0.00001)", NONE, N},
    {"-permitbaremultisig", "Relay bare multisig outputs of up to 3 keys (default: 1)", NONE, N},
    {"-blockmaxweight=<n>", "bitcoind: largest block weight mined", NONE, NONE},
    {"-blockmintxfee=<amt>", "bitcoind: lowest fee rate mined", NONE, NONE},
    {"-blockreservedweight=<n>", "bitcoind: weight kept for the coinbase", NONE, NONE},
    {"-blockversion=<n>", "bitcoind: version of mined blocks", NONE, NONE},
    // --- debugging and testing (not yet)
    {"-acceptstalefeeestimates", "bitcoind (regtest): read stale fee estimates", NONE, NONE},
    {"-capturemessages", "bitcoind: write every P2P message to disk", NONE, NONE},
    {"-checkaddrman=<n>", "bitcoind: address manager consistency checks", NONE, NONE},
    {"-checkblockindex", "bitcoind: block index consistency checks", NONE, NONE},
    {"-checkblocks=<n>", "How many blocks below the tip to verify at start (default: 6, 0 = all)", NONE, N},
    {"-checklevel=<n>", "How thoroughly -checkblocks verifies, 0-4 as verifychain (default: 3)", NONE, N},
    {"-checkmempool=<n>", "bitcoind: mempool consistency checks", NONE, NONE},
    {"-checkpoints", "bitcoind: use checkpoints", NONE, NONE},
    {"-dbcrashratio", "bitcoind: test crashes while writing the database", NONE, NONE},
    {"-deprecatedrpc=<method>", "bitcoind: allow a deprecated RPC", NONE, NONE},
    {"-fastprune", "Small block files (64 KiB), to test pruning", NONE, N},
    {"-forcecompactdb", "bitcoind: compact the database at start", NONE, NONE},
    {"-limitancestorcount=<n>", "Refuse a transaction with more than <n> unconfirmed ancestors, itself included (default: 25)", NONE, N},
    {"-limitancestorsize=<n>", "Refuse a transaction whose unconfirmed ancestors, itself included, exceed <n> kvB (default: 101)", NONE, N},
    {"-limitdescendantcount=<n>", "Refuse a transaction that gives an ancestor more than <n> descendants, itself included (default: 25)", NONE, N},
    {"-limitdescendantsize=<n>", "Refuse a transaction that makes an ancestor's descendants exceed <n> kvB (default: 101)", NONE, N},
    {"-maxsigcachesize=<n>", "bitcoind: signature cache size", NONE, NONE},
    {"-maxtipage=<n>", "bitcoind: tip age that ends initial block download", NONE, NONE},
    {"-mocktime=<n>", "Pin every process's clock to this unix time, for tests (0: the real clock)", NONE, ALL},
    {"-printpriority", "bitcoind: log fee rates when mining", NONE, NONE},
    {"-stopafterblockimport", "bitcoind: stop after importing blocks", NONE, NONE},
    {"-stopatheight", "Stop the node once the chain reaches this height", NONE, N},
    {"-test=<option>", "bitcoind: a test-only option", NONE, NONE},
    // --- wallet
    {"-disablewallet", "Do not run the wallet, and offer no wallet RPC methods", NONE, O | W | B},
    {"-wallet=<path>", "Load this wallet at start (repeatable); it must exist in -walletdir", NET, W},
    {"-walletdir=<dir>", "Folder of the wallets (default: <net>/wallets)", NET, W},
    {"-addresstype", "bitcoind: address type of getnewaddress", NONE, NONE},
    {"-avoidpartialspends", "Spend all coins of an address together, so that it is never partly spent (default: 0)", NONE, W},
    {"-changetype", "bitcoind: address type of change", NONE, NONE},
    {"-consolidatefeerate=<amt>", "Fee rate (BTC/kvB) at or below which coin selection prefers more inputs (default: 0.0001)", NONE, W},
    {"-dblogsize=<n>", "bitcoind: BDB log flush size", NONE, NONE},
    {"-discardfee=<amt>", "Fee rate (BTC/kvB) at which change too small to be worth spending goes to the fee (default: 0.0001)", NONE, W},
    {"-fallbackfee=<amt>", "Fee rate (BTC/kvB) of sends when the node has no estimate yet; 0 refuses to send then (default: 0)", NONE, W},
    {"-flushwallet", "bitcoind: flush the wallet periodically", NONE, NONE},
    {"-keypool=<n>", "Scripts derived ahead of the next index of each ranged descriptor (default: 1000)", NONE, W},
    {"-maxapsfee=<n>", "bitcoind: extra fee for avoiding partial spends", NONE, NONE},
    {"-maxtxfee=<amt>", "Highest total fee (BTC) of one wallet transaction (default: 0.1)", NONE, W},
    {"-mintxfee=<amt>", "Lowest fee rate (BTC/kvB) of wallet transactions (default: 0.00001)", NONE, W},
    {"-paytxfee=<amt>", "Fee rate (BTC/kvB) of sends instead of estimates (default: 0, use estimates)", NONE, W},
    {"-privdb", "bitcoind: BDB private environment", NONE, NONE},
    {"-signer=<cmd>", "bitcoind: external signer tool", NONE, NONE},
    {"-spendzeroconfchange", "Spend unconfirmed change of the wallet's own transactions (default: 1)", NONE, W},
    {"-swapbdbendian", "bitcoind: swap BDB endianness", NONE, NONE},
    {"-txconfirmtarget=<n>", "Confirmation target in blocks of the fee estimate of sends (default: 6)", NONE, W},
    {"-unsafesqlitesync", "bitcoind: SQLite without fsync (tests)", NONE, NONE},
    {"-walletbroadcast", "bitcoind: broadcast wallet transactions", NONE, NONE},
    {"-walletcrosschain", "bitcoind: allow a wallet of another chain", NONE, NONE},
    {"-walletnotify=<cmd>", "bitcoind: command run when a wallet transaction changes", NONE, NONE},
    {"-walletrbf", "Signal BIP125 replace-by-fee in sent transactions (default: 1)", NONE, W},
    {"-walletrejectlongchains", "bitcoind: refuse transactions past mempool chain limits", NONE, NONE},
    // --- ZMQ notifications (the gui-bridge publishes them)
    {"-zmqpubhashblock=<address>", "Publish the hash of each new tip on this ZeroMQ address (repeatable)", NONE, B},
    {"-zmqpubhashblockhwm=<n>", "Send high-water mark of -zmqpubhashblock in messages (default: 1000)", NONE, B},
    {"-zmqpubhashtx=<address>", "Publish the id of each transaction (of blocks and the mempool) on this ZeroMQ "
                                "address (repeatable)", NONE, B},
    {"-zmqpubhashtxhwm=<n>", "Send high-water mark of -zmqpubhashtx in messages (default: 1000)", NONE, B},
    {"-zmqpubrawblock=<address>", "Publish each new tip block, serialized, on this ZeroMQ address (repeatable)", NONE, B},
    {"-zmqpubrawblockhwm=<n>", "Send high-water mark of -zmqpubrawblock in messages (default: 1000)", NONE, B},
    {"-zmqpubrawtx=<address>", "Publish each transaction, serialized, on this ZeroMQ address (repeatable)", NONE, B},
    {"-zmqpubrawtxhwm=<n>", "Send high-water mark of -zmqpubrawtx in messages (default: 1000)", NONE, B},
    {"-zmqpubsequence=<address>", "Publish block connections and disconnections, mempool additions and removals, "
                                  "on this ZeroMQ address (repeatable)", NONE, B},
    {"-zmqpubsequencehwm=<n>", "Send high-water mark of -zmqpubsequence in messages (default: 1000)", NONE, B},
    // --- JSON-RPC
    {"-rest", "Serve bitcoind's unauthenticated REST interface under /rest/ on the RPC port (default: 0)", NONE, B},
    {"-rpcallowip=<ip>", "Serve JSON-RPC and REST to clients of this address or network (1.2.3.4, 1.2.3.0/24, "
                         "1.2.3.0/255.255.255.0; repeatable; loopback always); makes -rpcbind count", NONE, B},
    {"-rpcauth=<userpw>", "A user and salted password hash for JSON-RPC: <user>:<salt>$<hash> (repeatable)", NONE, B},
    {"-rpcbind=<addr>[:port]", "Listen for JSON-RPC on this address (repeatable; ignored without -rpcallowip; "
                               "default: 127.0.0.1, with -rpcallowip 0.0.0.0)", NET, O | B},
    {"-rpccookiefile=<loc>", "RPC cookie file, relative to the network's folder (default: .cookie)", NONE, B},
    {"-rpccookieperms=<readable-by>", "bitcoind: permissions of the cookie file", NONE, NONE},
    {"-rpcdoccheck", "bitcoind: check RPC help at run time", NONE, NONE},
    {"-rpcpassword=<pw>", "Password for JSON-RPC (without it, a cookie file is made)", NONE, B},
    {"-rpcport=<port>", "Listen for JSON-RPC on <port> (default: 8332, testnet3: 18332, testnet4: 48332, signet: "
                        "38332, regtest: 18443)", NET, O | B},
    {"-rpcservertimeout=<n>", "Seconds an HTTP request may take (default: 30)", NONE, B},
    {"-rpcthreads=<n>", "Threads that run RPC calls (default: 4)", NONE, B},
    {"-rpcuser=<user>", "User name for JSON-RPC", NONE, B},
    {"-rpcwhitelist=<whitelist>", "The RPC methods a user may call: <user>:<method>,<method>,... (repeatable; "
                                  "twice for one user: the methods both name)", NONE, B},
    {"-rpcwhitelistdefault", "Users named in no -rpcwhitelist may call nothing (default: 1 when any -rpcwhitelist "
                             "is given)", NONE, B},
    {"-rpcworkqueue=<n>", "Largest queue of RPC calls waiting for a thread (default: 16)", NONE, B},
    {"-server", "Serve JSON-RPC (default: 1; -server=0: orreryd does not start the gui-bridge)", NONE, O | B},
    // --- bitcoin-qt's options, accepted by bitcoind too
    {"-choosedatadir", "bitcoin-qt: choose the datadir at start", NONE, NONE},
    {"-lang=<lang>", "bitcoin-qt: language", NONE, NONE},
    {"-min", "bitcoin-qt: start minimized", NONE, NONE},
    {"-resetguisettings", "bitcoin-qt: reset GUI settings", NONE, NONE},
    {"-splash", "bitcoin-qt: show a splash screen", NONE, NONE},
    {"-uiplatform", "bitcoin-qt: platform look", NONE, NONE},
    // --- Orrery's own, shared by every process
    {"-ipcbind=<endpoint>", "Serve this process's interfaces on an endpoint (ipc://, tcp://)", NET | MINE | OPT_ORRERY,
     ALL},
    {"-ipcconnect=<endpoint>", "Connect to another service's endpoint (ipc://, tcp://)", NET | MINE | OPT_ORRERY, ALL},
    {"-ipcmaxmessagesize=<bytes>", "Largest IPC message accepted (default: 33554432)", OPT_ORRERY, ALL},
    {"-guiport=<port>", "Also serve the web GUI, with the JSON-RPC it calls and /events, on <port> (same addresses as "
                        "JSON-RPC; the GUI is always on the RPC port too)", NET | OPT_ORRERY, O | B},
    // Each process's own: not passed on by orreryd (doc/ipc.md, "Who may call what").
    {"-ipcallow=<role>:<uid>", "Let processes of user id <uid> (or of the user so named) that orreryd did not start say "
                               "they are <role> on "
                               "this process's ipc:// endpoints (repeatable); a role named by no -ipcallow is open "
                               "to this process's own uid only", NET | MINE | OPT_ORRERY, ALL},
};
// clang-format on

//! "-regtest.port" -> "port"; "-noport" -> "port" when "noport" is no option of its own.
std::string_view BareName(std::string_view arg)
{
    while (arg.starts_with('-')) arg.remove_prefix(1);
    arg = arg.substr(0, arg.find('='));
    if (size_t dot = arg.find('.'); dot != std::string_view::npos) arg = arg.substr(dot + 1);
    if (arg.starts_with("no") && !FindOption(arg) && FindOption(arg.substr(2))) arg = arg.substr(2);
    return arg;
}

} // namespace

std::string_view OptionInfo::Name() const
{
    std::string_view name = spec.substr(1);
    return name.substr(0, name.find('='));
}

std::span<const OptionInfo> OptionTable()
{
    return OPTIONS;
}

const OptionInfo* FindOption(std::string_view name)
{
    for (const OptionInfo& option : OPTIONS) {
        if (option.Name() == name) return &option;
    }
    return nullptr;
}

void AddOptions(ArgsManager& args, OrreryProcess process)
{
    for (const OptionInfo& option : OPTIONS) {
        if (process == PROCESS_ORRERYD || (option.used_by & process)) {
            args.AddArg(option.spec, option.help, option.flags & (ARG_NETWORK_ONLY | ARG_COMMAND_LINE_ONLY));
        }
    }
}

unsigned OptionUsers(std::string_view name)
{
    const OptionInfo* option = FindOption(name);
    return option ? option->used_by : 0;
}

std::vector<std::string> OptionsWithoutEffect(const ArgsManager& args)
{
    std::vector<std::string> out;
    for (const OptionInfo& option : OPTIONS) {
        if (option.used_by == 0 && args.IsArgSet(option.Name())) out.emplace_back(option.Name());
    }
    return out;
}

unsigned ProcessOfRole(std::string_view role)
{
    if (role == "orreryd") return PROCESS_ORRERYD;
    if (role == "node") return PROCESS_NODE;
    if (role == "wallet") return PROCESS_WALLET;
    if (role == "gui-bridge") return PROCESS_GUI_BRIDGE;
    if (role == "p2p-agent") return PROCESS_P2P_AGENT;
    return 0;
}

std::vector<std::string> ForwardedArgs(const std::vector<std::string>& command_line, std::string_view role)
{
    const unsigned process = ProcessOfRole(role);
    std::vector<std::string> out;
    for (const std::string& arg : command_line) {
        if (!arg.starts_with('-')) continue;
        const OptionInfo* option = FindOption(BareName(arg));
        if (!option || !(option->used_by & process) || (option->flags & OPT_SET_BY_ORRERYD)) continue;
        out.push_back(arg);
    }
    return out;
}

} // namespace orrery
