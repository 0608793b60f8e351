// The shared frame of the test tools that make one IPC call and print its
// answer as a JSON line (chain_call, wallet_query): connect with a role, run
// the call, print {"result": ...} or {"error": {"code", "message"}}.
#ifndef ORRERY_TESTS_TOOLS_IPC_CALL_TOOL_H
#define ORRERY_TESTS_TOOLS_IPC_CALL_TOOL_H

#include <common/ipc/connection.h>
#include <common/util/args.h>

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace orrery::test_tools {

struct IpcCallSpec {
    std::string role;                    //!< the role announced to the service
    std::vector<std::string> interfaces; //!< interfaces asked for (empty: the role's default)
    std::string service;                 //!< the default endpoint's service ("node", "wallet")
};

//! Connects as `spec` says (-ipcconnect or the service's default endpoint in the datadir), runs `call` and prints its
//! JSON line. Returns the process exit code: 0 when a line was printed (an IPC error is a result too), 1 otherwise.
int RunIpcCall(const ArgsManager& args, const IpcCallSpec& spec,
               const std::function<nlohmann::json(const std::shared_ptr<ipc::Connection>&)>& call);

} // namespace orrery::test_tools

#endif // ORRERY_TESTS_TOOLS_IPC_CALL_TOOL_H
