#include "common.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace eucanet {

NetnsTarget ParseNetnsTarget(const Napi::CallbackInfo& info, size_t index) {
  NetnsTarget t;
  if (info.Length() <= index) return t;
  Napi::Value v = info[index];
  if (v.IsUndefined() || v.IsNull()) return t;
  t.present = true;
  if (v.IsNumber()) {
    t.fd = v.As<Napi::Number>().Int32Value();
  } else if (v.IsString()) {
    t.path = v.As<Napi::String>().Utf8Value();
  } else {
    throw Napi::TypeError::New(info.Env(), "netns must be a path string or an fd number");
  }
  return t;
}

Napi::Error MakeErrnoError(Napi::Env env, const SysError& e) {
  std::string msg = e.syscall + ": " + std::strerror(e.err);
  Napi::Error error = Napi::Error::New(env, msg);
  error.Set("errno", Napi::Number::New(env, e.err));
  error.Set("syscall", Napi::String::New(env, e.syscall));
  return error;
}

void ThrowErrno(Napi::Env env, int err, const char* syscall) {
  SysError e;
  e.set(err, syscall);
  throw MakeErrnoError(env, e);
}

int NetnsScope::Enter(const NetnsTarget& target, const char** syscall) {
  if (!target.present) return 0;
  self_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self_ < 0) {
    *syscall = "open(/proc/thread-self/ns/net)";
    return errno;
  }
  int fd = target.fd;
  bool owned = false;
  if (fd < 0) {
    fd = open(target.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      *syscall = "open(netns)";
      return errno;
    }
    owned = true;
  }
  int rc = setns(fd, CLONE_NEWNET);
  int err = errno;
  if (owned) close(fd);
  if (rc < 0) {
    *syscall = "setns";
    return err;
  }
  entered_ = true;
  return 0;
}

NetnsScope::~NetnsScope() {
  if (entered_ && setns(self_, CLONE_NEWNET) < 0) {
    std::fprintf(stderr, "eucanet: cannot return to the original network namespace: %s\n",
                 std::strerror(errno));
    std::abort();
  }
  if (self_ >= 0) close(self_);
}

}  // namespace eucanet
