#pragma once
// The one error type of the Hugging Face Hub client (core/hub). Its message is for a person:
// it names the repo, file or folder and says what to do; kind() lets callers (CLI exit codes,
// the Model Manager) react to a class of failure without parsing text.
#include "common/error.h"

namespace grym {

enum class HubErrorKind {
    InvalidArgument,   // a malformed repo id, revision or glob
    RepoNotFound,      // 404 / RepoNotFound: no such repo (or private and no access)
    RevisionNotFound,  // the branch, tag or commit does not exist
    EntryNotFound,     // a file named by the repo is missing on the server
    Unauthorized,      // gated or private and no (valid) token
    Offline,           // HF_HUB_OFFLINE=1 and the repo is not in the cache
    Network,           // connection, TLS, timeout, 5xx after every retry
    DiskFull,          // not enough free space, or a write failed for lack of it
    ChecksumMismatch,  // a downloaded blob does not match the hash the Hub published
    Unsupported,       // an architecture grym-synth cannot run
    Cancelled,         // the caller cancelled; partial downloads are kept for a resume
    Cache,             // the local cache is damaged or cannot be written
    Protocol,          // the server answered something the Hub protocol does not allow
};

class HubError : public Error {
public:
    HubError(HubErrorKind kind, const std::string& message) : Error(message), kind_(kind) {}
    HubErrorKind kind() const { return kind_; }

private:
    HubErrorKind kind_;
};

}  // namespace grym
