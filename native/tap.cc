// Persistent tun/tap devices through /dev/net/tun ioctls. A device belongs to
// the network namespace the /dev/net/tun file was opened in, so the whole job
// runs inside the target namespace. A batch is all or nothing: if one device
// fails, the ones this call made are removed again. Creation hands back each
// new device's ifindex, so that the caller need not ask the kernel for it.
#include <fcntl.h>
#include <sys/socket.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "addon.h"
#include "common.h"

// From <net/if.h>, which cannot be included next to <linux/if.h>.
extern "C" unsigned int if_nametoindex(const char* ifname) noexcept;

namespace eucanet {

namespace {

struct TapJob {
  NetnsTarget netns;
  std::vector<std::string> names;
  bool create = true;
  short flags = IFF_TAP | IFF_NO_PI;
  long owner = -1;
  long group = -1;
  SysError error;
  int failed_index = -1;
  std::vector<int> ifindexes;  // of the devices created, in order
  int ioctl_fd = -1;           // any socket of the namespace, for SIOCGIFINDEX

  // Attaches to (or creates) `name` on a fresh /dev/net/tun fd.
  int Attach(const std::string& name, const char** call, short extra) {
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      *call = "open(/dev/net/tun)";
      return -1;
    }
    ifreq ifr{};
    ifr.ifr_flags = static_cast<short>(flags | extra);
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
      *call = "ioctl(TUNSETIFF)";
      int err = errno;
      close(fd);
      errno = err;
      return -1;
    }
    return fd;
  }

  bool Create(const std::string& name) {
    // Without IFF_TUN_EXCL, TUNSETIFF attaches to an existing persistent tap of
    // the same name instead of failing, and a rollback would then delete
    // someone else's tap. With it the kernel refuses (EBUSY; EINVAL for a
    // device that is not a tun/tap): reported as EEXIST when the name is taken.
    const char* call = nullptr;
    int fd = Attach(name, &call, IFF_TUN_EXCL);
    if (fd < 0) {
      int err = errno;
      if ((err == EBUSY || err == EINVAL) && if_nametoindex(name.c_str()) != 0)
        return error.set(EEXIST, "TUNSETIFF (a device of that name exists)"), false;
      return error.set(err, call), false;
    }
    // Until TUNSETPERSIST, closing the fd removes the device again: every
    // step that can fail comes before it.
    bool ok = true;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (owner >= 0 && ioctl(fd, TUNSETOWNER, owner) < 0) ok = false, error.set(errno, "ioctl(TUNSETOWNER)");
    if (ok && group >= 0 && ioctl(fd, TUNSETGROUP, group) < 0) ok = false, error.set(errno, "ioctl(TUNSETGROUP)");
    if (ok && ioctl(ioctl_fd, SIOCGIFINDEX, &ifr) < 0) ok = false, error.set(errno, "ioctl(SIOCGIFINDEX)");
    if (ok && ioctl(fd, TUNSETPERSIST, 1) < 0) ok = false, error.set(errno, "ioctl(TUNSETPERSIST)");
    if (ok) ifindexes.push_back(ifr.ifr_ifindex);
    close(fd);
    return ok;
  }

  bool Delete(const std::string& name, SysError* err) {
    // TUNSETIFF on a name that does not exist would create a device (and
    // dropping it would delete it again): deleting a missing tap would
    // "succeed" and emit link events for a device nobody asked for.
    if (if_nametoindex(name.c_str()) == 0) return err->set(ENODEV, "TUNSETIFF (no device of that name)"), false;
    const char* call = nullptr;
    int fd = Attach(name, &call, 0);
    if (fd < 0) return err->set(errno, call), false;
    bool ok = ioctl(fd, TUNSETPERSIST, 0) == 0;
    if (!ok) err->set(errno, "ioctl(TUNSETPERSIST 0)");
    close(fd);
    return ok;
  }

  void Run() {
    NetnsScope scope;
    const char* call = nullptr;
    if (int err = scope.Enter(netns, &call)) return error.set(err, call);
    if (create) {
      ioctl_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (ioctl_fd < 0) return error.set(errno, "socket(AF_UNIX)");
      ifindexes.reserve(names.size());
    }
    try {
      RunAll();
    } catch (...) {
      // Whatever this call made goes again: the batch is all or nothing.
      error.set(ErrnoOfCurrentException(), "tap job (C++ exception)");
      SysError ignored;
      if (create)
        for (size_t j = 0; j < ifindexes.size(); ++j) Delete(names[j], &ignored);
    }
    if (ioctl_fd >= 0) close(ioctl_fd);
  }

  void RunAll() {
    for (size_t i = 0; i < names.size(); ++i) {
      bool ok = create ? Create(names[i]) : Delete(names[i], &error);
      if (!ok) {
        failed_index = static_cast<int>(i);
        if (create) {
          SysError ignored;
          for (size_t j = 0; j < i; ++j) Delete(names[j], &ignored);
        }
        return;
      }
    }
  }
};

// A uid or gid for TUNSETOWNER / TUNSETGROUP, or -1 when absent. The ioctl
// takes an unsigned long that the kernel cuts to 32 bits (2^32+1000 would be
// uid 1000) and (uid_t)-1 is no valid id: anything outside 0-4294967294 is
// refused here, before a device is made.
long ParseId(Napi::Env env, const Napi::Object& opts, const char* field) {
  Napi::Value v = opts.Get(field);
  if (v.IsUndefined() || v.IsNull()) return -1;
  std::string what = std::string("tap ") + field;
  if (!v.IsNumber()) throw Napi::TypeError::New(env, what + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d) || d < 0 || d > 4294967294.0) {
    char shown[64];
    std::snprintf(shown, sizeof shown, "%.17g", d);
    throw Napi::RangeError::New(env, what + " must be an integer in 0-4294967294, got " + shown);
  }
  return static_cast<long>(d);
}

void ParseJob(const Napi::CallbackInfo& info, TapJob* job, bool create) {
  Napi::Env env = info.Env();
  job->create = create;
  job->netns = ParseNetnsTarget(info, 0);
  if (!info[1].IsArray()) throw Napi::TypeError::New(env, "tap names must be an array of strings");
  auto names = info[1].As<Napi::Array>();
  for (uint32_t i = 0; i < names.Length(); ++i) {
    Napi::Value v = names.Get(i);
    if (!v.IsString()) throw Napi::TypeError::New(env, "tap names must be an array of strings");
    std::string n = v.As<Napi::String>().Utf8Value();
    if (n.empty() || n.size() >= IFNAMSIZ || n.find('\0') != std::string::npos)
      throw Napi::RangeError::New(env, "tap name must be 1-15 bytes without NUL");
    job->names.push_back(n);
  }
  if (!info[2].IsObject()) throw Napi::TypeError::New(env, "tap options must be an object");
  auto opts = info[2].As<Napi::Object>();
  if (opts.Get("tun").ToBoolean()) job->flags = IFF_TUN | IFF_NO_PI;
  if (opts.Get("vnetHdr").ToBoolean()) job->flags |= IFF_VNET_HDR;
  if (opts.Get("multiQueue").ToBoolean()) job->flags |= IFF_MULTI_QUEUE;
  job->owner = ParseId(env, opts, "owner");
  job->group = ParseId(env, opts, "ownerGroup");
}

Napi::Error JobError(Napi::Env env, const TapJob& job) {
  Napi::Error e = MakeErrnoError(env, job.error);
  if (job.failed_index >= 0) {
    e.Set("index", Napi::Number::New(env, job.failed_index));
    e.Set("device", Napi::String::New(env, job.names[job.failed_index]));
  }
  return e;
}

// What a job resolves to: the new devices' ifindexes (creation), or undefined.
Napi::Value Result(Napi::Env env, const TapJob& job) {
  if (!job.create) return env.Undefined();
  auto out = Napi::Int32Array::New(env, job.ifindexes.size());
  for (size_t i = 0; i < job.ifindexes.size(); ++i) out[i] = job.ifindexes[i];
  return out;
}

class TapWorker : public Napi::AsyncWorker {
 public:
  explicit TapWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}
  TapJob job;
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { job.Run(); }
  void OnOK() override {
    if (job.error.failed())
      deferred_.Reject(JobError(Env(), job).Value());
    else
      deferred_.Resolve(Result(Env(), job));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
};

// Runs the job on the libuv pool (a Promise) or, with sync, right here.
Napi::Value Dispatch(const Napi::CallbackInfo& info, bool create) {
  bool sync = info[3].ToBoolean();
  if (sync) {
    TapJob job;
    ParseJob(info, &job, create);
    job.Run();
    if (job.error.failed()) throw JobError(info.Env(), job);
    return Result(info.Env(), job);
  }
  auto* w = new TapWorker(info.Env());
  try {
    ParseJob(info, &w->job, create);
  } catch (...) {
    delete w;
    throw;
  }
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace

// tapCreate(netns, names[], {tun, vnetHdr, multiQueue, owner, ownerGroup}, sync): Int32Array of ifindexes
Napi::Value TapCreate(const Napi::CallbackInfo& info) { return Dispatch(info, true); }
// tapDelete(netns, names[], {tun, ...}, sync)
Napi::Value TapDelete(const Napi::CallbackInfo& info) { return Dispatch(info, false); }

}  // namespace eucanet
