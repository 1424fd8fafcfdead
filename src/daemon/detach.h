// Running lvsd as a service: detaching from the terminal with the start's outcome as the exit
// status, the pid file, and systemd's readiness notification.
#pragma once

#include <string>

namespace lvs::daemon {

// Forks into the background. The parent waits until the child calls ready() or failed() (or
// dies) and exits with 0 or 1, so `lvsd` in a shell or an init script returns once it serves,
// or with its error. Returns in the child only, in a new session. Call it before any thread
// starts. False with `err` when it cannot fork (then nothing forked).
bool detach(std::string* err);
// In a detached child: starting went well (the parent exits 0) and standard input, output and
// error go to /dev/null; logs go elsewhere by then. Without detach(): nothing.
void detach_ready();
// In a detached child: starting failed (the parent exits 1). Without detach(): nothing.
void detach_failed();

// Writes the pid file (the process's pid and a newline); removed by remove_pid_file().
bool write_pid_file(const std::string& path, std::string* err);
void remove_pid_file(const std::string& path);

// sd_notify(3) without libsystemd: `state` ("READY=1", "STOPPING=1", ...) to $NOTIFY_SOCKET when
// systemd started us with Type=notify; nothing otherwise.
void notify_systemd(const std::string& state);

}  // namespace lvs::daemon
