// Shared helpers for the eucanet addon: errno-carrying errors and entering a
// network namespace for the duration of a scope on the calling thread.
//
// The addon knows sockets, file descriptors and namespaces. It knows nothing of
// rtnetlink or nftables messages: JavaScript encodes and decodes every byte.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cerrno>
#include <string>

namespace eucanet {

// Where a call should run: the caller's own namespace, a namespace file
// (a /run/netns/NAME bind mount, /proc/PID/ns/net, ...), or an open fd.
struct NetnsTarget {
  bool present = false;
  std::string path;
  int fd = -1;
};

// Reads argument `index` as a NetnsTarget: undefined/null, a string path or an
// fd number.
NetnsTarget ParseNetnsTarget(const Napi::CallbackInfo& info, size_t index);

// A failed system call, carried from a worker thread back to JavaScript.
struct SysError {
  int err = 0;
  std::string syscall;
  bool failed() const { return err != 0; }
  void set(int e, const char* call) {
    if (err == 0) {
      err = e;
      syscall = call;
    }
  }
};

// Builds an Error with .errno and .syscall; the JS wrapper adds .code and the
// JavaScript call site.
Napi::Error MakeErrnoError(Napi::Env env, const SysError& e);
[[noreturn]] void ThrowErrno(Napi::Env env, int err, const char* syscall);

// Called inside a catch block: the errno the exception being handled stands
// for: a std::system_error's own code (std::thread cannot start: EAGAIN),
// ENOMEM for std::bad_alloc, else EIO.
int ErrnoOfCurrentException();

// Enters a network namespace on the calling thread and returns to the original
// one when destroyed. If returning fails the thread would silently keep
// working in the wrong namespace, so the process aborts instead.
//
// A target given by path is opened O_NONBLOCK (a FIFO never hangs the call),
// and path and fd must be a network namespace file (nsfs, CLONE_NEWNET):
// anything else fails with EINVAL and a description naming the path and what
// it is instead. The text `Enter` points `syscall` at lives as long as the scope.
class NetnsScope {
 public:
  NetnsScope() = default;
  ~NetnsScope();
  NetnsScope(const NetnsScope&) = delete;
  NetnsScope& operator=(const NetnsScope&) = delete;
  // Returns 0, or an errno with `syscall` naming the failed call.
  int Enter(const NetnsTarget& target, const char** syscall);
  // The same checks as Enter, without entering: 0 when `target` is a network
  // namespace that Enter could use.
  int Check(const NetnsTarget& target, const char** syscall);

 private:
  int Open(const NetnsTarget& target, int* fd, bool* owned);
  int self_ = -1;
  std::string what_;
  bool entered_ = false;
};

// Stops a uv_poll_t and closes the fd it watched: no callback can come
// afterwards (the poll's memory is freed in uv_close's callback, which touches
// nothing else). Either may be closed already (nullptr, -1); both are left so.
void StopPollAndClose(uv_poll_t** poll, int* fd);

}  // namespace eucanet
