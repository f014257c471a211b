// Named network namespaces, made the way `ip netns add` makes them but without
// forking: a private thread unshares its network namespace and bind-mounts it
// onto /run/netns/NAME, then exits; the mount keeps the namespace alive.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "addon.h"
#include "common.h"

namespace eucanet {

namespace {

constexpr const char* kNetnsDir = "/run/netns";

// /run/netns must be a shared mount point so that namespaces mounted later are
// seen by every mount namespace, as iproute2 arranges it.
int EnsureNetnsDir(const char** call) {
  if (mkdir(kNetnsDir, 0755) < 0 && errno != EEXIST) {
    *call = "mkdir(/run/netns)";
    return errno;
  }
  if (mount("", kNetnsDir, "none", MS_SHARED | MS_REC, nullptr) == 0) return 0;
  if (errno != EINVAL) {
    *call = "mount(/run/netns, MS_SHARED)";
    return errno;
  }
  if (mount(kNetnsDir, kNetnsDir, "none", MS_BIND | MS_REC, nullptr) < 0) {
    *call = "mount(/run/netns, MS_BIND)";
    return errno;
  }
  if (mount("", kNetnsDir, "none", MS_SHARED | MS_REC, nullptr) < 0) {
    *call = "mount(/run/netns, MS_SHARED)";
    return errno;
  }
  return 0;
}

std::string PathFor(Napi::Env env, const Napi::Value& v) {
  if (!v.IsString()) throw Napi::TypeError::New(env, "netns name must be a string");
  std::string name = v.As<Napi::String>().Utf8Value();
  if (name.empty() || name.find_first_of(std::string("/\0", 2)) != std::string::npos || name == "." || name == "..")
    throw Napi::TypeError::New(env, "netns name must be a plain file name");
  return std::string(kNetnsDir) + "/" + name;
}

// Runs `fn` on a thread of its own (one whose namespaces can be changed and
// then thrown away) and waits for it. A thread that cannot be started
// (std::system_error, EAGAIN at a pids limit) is reported in `e`, not thrown.
template <typename Fn>
void OnOwnThread(SysError* e, Fn fn) {
  try {
    std::thread t(fn);
    t.join();
  } catch (...) {
    e->set(ErrnoOfCurrentException(), "std::thread (cannot start the thread that makes the namespace)");
  }
}

}  // namespace

// netnsCreate(name): creates /run/netns/NAME holding a new network namespace.
// If anything fails after the file was made, the file is removed again.
Napi::Value NetnsCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = PathFor(env, info[0]);
  const char* call = nullptr;
  if (int err = EnsureNetnsDir(&call)) ThrowErrno(env, err, call);
  int fd = open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (fd < 0) ThrowErrno(env, errno, "open(/run/netns/NAME)");
  close(fd);
  SysError e;
  OnOwnThread(&e, [&e, &path] {
    if (unshare(CLONE_NEWNET) < 0) return e.set(errno, "unshare(CLONE_NEWNET)");
    if (mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) < 0)
      return e.set(errno, "mount(netns bind)");
  });
  if (e.failed()) {
    unlink(path.c_str());
    throw MakeErrnoError(env, e);
  }
  return Napi::String::New(env, path);
}

// netnsDelete(name): unmounts and removes /run/netns/NAME. The namespace itself
// goes away when nothing else holds it.
Napi::Value NetnsDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = PathFor(env, info[0]);
  if (umount2(path.c_str(), MNT_DETACH) < 0 && errno != EINVAL) {
    ThrowErrno(env, errno, "umount2(/run/netns/NAME)");
  }
  if (unlink(path.c_str()) < 0) ThrowErrno(env, errno, "unlink(/run/netns/NAME)");
  return env.Undefined();
}

// netnsCheck(netns): throws unless `netns` (a path or fd) is a network
// namespace that the other calls could enter; never blocks (a FIFO) and
// never enters it.
Napi::Value NetnsCheck(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  NetnsTarget target = ParseNetnsTarget(info, 0);
  NetnsScope scope;
  const char* call = nullptr;
  if (int err = scope.Check(target, &call)) ThrowErrno(env, err, call);
  return env.Undefined();
}

// openInNetns(netns, path, flags, mode): opens a file while inside a network
// namespace. /proc/sys/net files belong to the namespace they were opened in.
Napi::Value OpenInNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  NetnsTarget target = ParseNetnsTarget(info, 0);
  if (!info[1].IsString() || !info[2].IsNumber() || (info.Length() > 3 && !info[3].IsUndefined() && !info[3].IsNumber()))
    throw Napi::TypeError::New(env, "openInNetns(netns, path: string, flags: number, mode?: number)");
  std::string path = info[1].As<Napi::String>().Utf8Value();
  if (path.find('\0') != std::string::npos) throw Napi::TypeError::New(env, "path must not contain NUL bytes");
  int flags = info[2].As<Napi::Number>().Int32Value();
  int mode = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Int32Value() : 0;
  int fd;
  {
    NetnsScope scope;
    const char* call = nullptr;
    if (int err = scope.Enter(target, &call)) ThrowErrno(env, err, call);
    fd = open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd < 0) ThrowErrno(env, errno, "open");
  }
  return Napi::Number::New(env, fd);
}

}  // namespace eucanet
