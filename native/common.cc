#include "common.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <system_error>

namespace eucanet {

NetnsTarget ParseNetnsTarget(const Napi::CallbackInfo& info, size_t index) {
  NetnsTarget t;
  if (info.Length() <= index) return t;
  Napi::Value v = info[index];
  if (v.IsUndefined() || v.IsNull()) return t;
  t.present = true;
  if (v.IsNumber()) {
    // Int32Value would turn NaN into 0 (stdin) and 3.5 into 3.
    double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || d != std::floor(d) || d < 0 || d > INT_MAX)
      throw Napi::RangeError::New(info.Env(), "netns fd must be an integer in 0-2147483647");
    t.fd = static_cast<int>(d);
  } else if (v.IsString()) {
    t.path = v.As<Napi::String>().Utf8Value();
    if (t.path.empty() || t.path.find('\0') != std::string::npos)
      throw Napi::TypeError::New(info.Env(), "netns path must be a non-empty string without NUL bytes");
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

int ErrnoOfCurrentException() {
  try {
    throw;
  } catch (const std::system_error& e) {
    const auto& cat = e.code().category();
    bool os = cat == std::generic_category() || cat == std::system_category();
    return os && e.code().value() > 0 ? e.code().value() : EIO;
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  } catch (...) {
    return EIO;
  }
}

namespace {

const char* FileKind(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFIFO: return "a FIFO";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFDIR: return "a directory";
    case S_IFSOCK: return "a socket";
    case S_IFLNK: return "a symbolic link";
    case S_IFREG: return "a regular file";
    default: return "a file of another kind";
  }
}

std::string NotNsfs(const std::string& label, mode_t mode) {
  return label + " is not a network namespace (it is " + FileKind(mode) + ", not a namespace file)";
}

const char* NsKind(int type) {
  switch (type) {
    case CLONE_NEWNS: return "a mount namespace";
    case CLONE_NEWUTS: return "a uts namespace";
    case CLONE_NEWIPC: return "an ipc namespace";
    case CLONE_NEWUSER: return "a user namespace";
    case CLONE_NEWPID: return "a pid namespace";
    case CLONE_NEWCGROUP: return "a cgroup namespace";
#ifdef CLONE_NEWTIME
    case CLONE_NEWTIME: return "a time namespace";
#endif
    default: return "another kind of namespace";
  }
}

// Checks that open `fd` is a network namespace: a file of nsfs (the namespace
// filesystem) whose namespace type is CLONE_NEWNET. On failure returns EINVAL
// (or the failing call's errno) with `what` saying what the file is instead.
int CheckNetnsFd(int fd, const std::string& label, std::string* what) {
  struct statfs fs {};
  if (fstatfs(fd, &fs) < 0) {
    int err = errno;
    *what = "fstatfs(" + label + ")";
    return err;
  }
  if (fs.f_type != NSFS_MAGIC) {
    struct stat st {};
    *what = NotNsfs(label, fstat(fd, &st) == 0 ? st.st_mode : 0);
    return EINVAL;
  }
  int type = ioctl(fd, NS_GET_NSTYPE);
  if (type < 0) {
    int err = errno;
    *what = "ioctl(" + label + ", NS_GET_NSTYPE)";
    return err;
  }
  if (type != CLONE_NEWNET) {
    *what = label + " is not a network namespace (it is " + NsKind(type) + ")";
    return EINVAL;
  }
  return 0;
}

}  // namespace

// Opens the target's namespace file, or takes its fd, and checks it before
// setns. The path is checked with statfs before it is opened (a device's open
// can have side effects) and again on the open fd (the path may have changed
// in between); O_NONBLOCK keeps a FIFO's open from waiting for a writer.
int NetnsScope::Open(const NetnsTarget& target, int* fd, bool* owned) {
  if (target.path.empty()) {
    *fd = target.fd;
    *owned = false;
    return CheckNetnsFd(*fd, "netns fd " + std::to_string(target.fd), &what_);
  }
  const std::string label = "netns " + target.path;
  struct statfs fs {};
  if (statfs(target.path.c_str(), &fs) < 0) {
    int err = errno;
    what_ = label;
    return err;
  }
  if (fs.f_type != NSFS_MAGIC) {
    struct stat st {};
    what_ = NotNsfs(label, stat(target.path.c_str(), &st) == 0 ? st.st_mode : 0);
    return EINVAL;
  }
  *fd = open(target.path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (*fd < 0) {
    int err = errno;
    what_ = "open(" + target.path + ")";
    return err;
  }
  *owned = true;
  return CheckNetnsFd(*fd, label, &what_);
}

int NetnsScope::Enter(const NetnsTarget& target, const char** syscall) {
  if (!target.present) return 0;
  self_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self_ < 0) {
    *syscall = "open(/proc/thread-self/ns/net)";
    return errno;
  }
  int fd = -1;
  bool owned = false;
  int err = Open(target, &fd, &owned);
  if (err == 0 && setns(fd, CLONE_NEWNET) < 0) {
    err = errno;
    what_ = "setns(" + (target.path.empty() ? "fd " + std::to_string(target.fd) : target.path) + ")";
  }
  if (owned) close(fd);
  if (err != 0) {
    *syscall = what_.c_str();
    return err;
  }
  entered_ = true;
  return 0;
}

int NetnsScope::Check(const NetnsTarget& target, const char** syscall) {
  if (!target.present) return 0;
  int fd = -1;
  bool owned = false;
  int err = Open(target, &fd, &owned);
  if (owned) close(fd);
  if (err != 0) *syscall = what_.c_str();
  return err;
}

NetnsScope::~NetnsScope() {
  if (entered_ && setns(self_, CLONE_NEWNET) < 0) {
    std::fprintf(stderr, "eucanet: cannot return to the original network namespace: %s\n",
                 std::strerror(errno));
    std::abort();
  }
  if (self_ >= 0) close(self_);
}

void StopPollAndClose(uv_poll_t** poll, int* fd) {
  if (*poll) {
    uv_poll_stop(*poll);
    (*poll)->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(*poll), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    *poll = nullptr;
  }
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

}  // namespace eucanet
