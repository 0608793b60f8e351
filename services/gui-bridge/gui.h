// The web GUI as the gui-bridge serves it: its files, embedded in the binary
// at build time (scripts/embed_files.py over services/gui-bridge/gui/), served
// at "/" and "/gui/<file>" without credentials (they hold nothing secret; every
// call the pages make goes to JSON-RPC or /events with the user's
// credentials), and the methods the bridge adds for the GUI's constellation
// page: getprocessinfo and restartservice (Orrery's own, not bitcoind's).
#ifndef ORRERY_SERVICES_GUI_BRIDGE_GUI_H
#define ORRERY_SERVICES_GUI_BRIDGE_GUI_H

#include <services/gui-bridge/backends.h>

#include <common/http/http.h>
#include <common/rpc/json_rpc.h>

#include <optional>
#include <string_view>
#include <vector>

namespace orrery::bridge {

struct EmbeddedFile {
    std::string_view path; //!< under gui/, e.g. "app.js"
    std::string_view content_type;
    std::string_view data;
};

//! Every file of the GUI (generated at build time).
const std::vector<EmbeddedFile>& EmbeddedFiles();

//! True for the paths the GUI's files answer: "/", "/index.html" and "/gui/...".
bool IsGuiPath(std::string_view path);
//! A GET of a GUI path: the file, 404 when there is none, 405 for another method.
http::Response ServeGuiFile(const http::Request& request);

//! getprocessinfo's answer from orreryd's Supervisor.status: one object per process.
rpc::Json ProcessInfo(rpc::Backend& supervisor);
//! getprocessinfo and restartservice, answered by the bridge through orreryd.
std::vector<rpc::Method> GuiMethods(rpc::Backend& supervisor);

} // namespace orrery::bridge

#endif // ORRERY_SERVICES_GUI_BRIDGE_GUI_H
