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
  std::string name = v.As<Napi::String>().Utf8Value();
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    throw Napi::TypeError::New(env, "netns name must be a plain file name");
  return std::string(kNetnsDir) + "/" + name;
}

}  // namespace

// netnsCreate(name): creates /run/netns/NAME holding a new network namespace.
Napi::Value NetnsCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = PathFor(env, info[0]);
  const char* call = nullptr;
  if (int err = EnsureNetnsDir(&call)) ThrowErrno(env, err, call);
  int fd = open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (fd < 0) ThrowErrno(env, errno, "open(/run/netns/NAME)");
  close(fd);
  SysError e;
  std::thread t([&] {
    if (unshare(CLONE_NEWNET) < 0) return e.set(errno, "unshare(CLONE_NEWNET)");
    if (mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) < 0)
      return e.set(errno, "mount(netns bind)");
  });
  t.join();
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

// openInNetns(netns, path, flags, mode): opens a file while inside a network
// namespace. /proc/sys/net files belong to the namespace they were opened in.
Napi::Value OpenInNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  NetnsTarget target = ParseNetnsTarget(info, 0);
  std::string path = info[1].As<Napi::String>().Utf8Value();
  int flags = info[2].As<Napi::Number>().Int32Value();
  int mode = info.Length() > 3 ? info[3].As<Napi::Number>().Int32Value() : 0;
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
