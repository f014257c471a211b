// Starting a long-lived program (the cluster controller's dnsmasq) inside a
// network namespace without forking Node, and hearing when it exits.
//
// child_process (libuv 1.46) forks: the kernel copies the whole process's page
// tables and write-protects every page, and each page Node then writes takes a
// fault until it is written once, each at about 13 us on a VM (measured: 10,000
// faults after one spawn from a 136 MB process). posix_spawn (glibc: clone with
// CLONE_VM | CLONE_VFORK) shares the memory until the exec and copies nothing.
// The child is made on the calling thread while it is inside the target
// namespace (NetnsScope), so it starts there: no nsenter in between.
//
// The exit is heard through a pidfd (Linux 5.3): readable when the process
// ends, reaped with waitid(P_PIDFD). The watch never keeps the event loop
// alive: a command may exit and leave the program running.
#include "spawn.h"

#include "addon.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <string>
#include <vector>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace eucanet {
namespace {

std::vector<std::string> StringList(Napi::Env env, Napi::Value v, const char* name) {
  if (!v.IsArray()) throw Napi::TypeError::New(env, std::string(name) + " must be an array of strings");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<std::string> out;
  out.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value x = a.Get(i);
    if (!x.IsString()) throw Napi::TypeError::New(env, std::string(name) + " must be an array of strings");
    std::string s = x.As<Napi::String>().Utf8Value();
    if (s.find('\0') != std::string::npos) throw Napi::TypeError::New(env, std::string(name) + " must not contain NUL bytes");
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<char*> Pointers(std::vector<std::string>& list) {
  std::vector<char*> p;
  p.reserve(list.size() + 1);
  for (auto& s : list) p.push_back(s.data());
  p.push_back(nullptr);
  return p;
}

// posix_spawn's attributes and file actions, destroyed with the scope.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

}  // namespace

// spawnInNetns(netns, file, argv, envp, stdio: [fd|-1, fd|-1, fd|-1], cwd)
//   -> { pid, pidfd }
// The child starts in its own session, with every signal at its default and
// none blocked (Node ignores SIGPIPE; the child must not inherit that), fd 0-2
// from `stdio` (-1: /dev/null) and no other descriptor. A failed exec is this
// call's error (glibc's posix_spawn reports it). pidfd is -1 where the kernel
// has no pidfd_open.
Napi::Value SpawnInNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  NetnsTarget target = ParseNetnsTarget(info, 0);
  if (!info[1].IsString() || !info[4].IsArray() || !info[5].IsString())
    throw Napi::TypeError::New(env, "spawnInNetns(netns, file: string, argv: string[], envp: string[], stdio: number[3], cwd: string)");
  std::string file = info[1].As<Napi::String>().Utf8Value();
  std::string cwd = info[5].As<Napi::String>().Utf8Value();
  if (file.find('\0') != std::string::npos || cwd.find('\0') != std::string::npos)
    throw Napi::TypeError::New(env, "file and cwd must not contain NUL bytes");
  std::vector<std::string> argv = StringList(env, info[2], "argv");
  std::vector<std::string> envp = StringList(env, info[3], "envp");
  Napi::Array stdio = info[4].As<Napi::Array>();
  if (argv.empty() || stdio.Length() != 3) throw Napi::TypeError::New(env, "argv must not be empty and stdio must have 3 entries");
  int fds[3];
  for (uint32_t i = 0; i < 3; i++) {
    Napi::Value x = stdio.Get(i);
    if (!x.IsNumber()) throw Napi::TypeError::New(env, "stdio entries must be numbers (-1: /dev/null)");
    fds[i] = x.As<Napi::Number>().Int32Value();
  }

  SpawnSetup s;
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  int err = posix_spawnattr_setflags(&s.attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  if (!err) err = posix_spawnattr_setsigdefault(&s.attr, &all);
  if (!err) err = posix_spawnattr_setsigmask(&s.attr, &none);
  for (int i = 0; i < 3 && !err; i++) {
    err = fds[i] < 0 ? posix_spawn_file_actions_addopen(&s.actions, i, "/dev/null", O_RDWR, 0)
                     : posix_spawn_file_actions_adddup2(&s.actions, fds[i], i);
  }
  if (!err) err = posix_spawn_file_actions_addchdir_np(&s.actions, cwd.c_str());
  if (!err) err = posix_spawn_file_actions_addclosefrom_np(&s.actions, 3);
  if (err) ThrowErrno(env, err, "posix_spawn_file_actions");

  std::vector<char*> av = Pointers(argv);
  std::vector<char*> ev = Pointers(envp);
  pid_t pid = -1;
  {
    NetnsScope scope;
    const char* call = nullptr;
    if (int e = scope.Enter(target, &call)) ThrowErrno(env, e, call);
    err = posix_spawn(&pid, file.c_str(), &s.actions, &s.attr, av.data(), ev.data());
  }
  if (err) ThrowErrno(env, err, ("posix_spawn(" + file + ")").c_str());
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) fcntl(pidfd, F_SETFD, FD_CLOEXEC);
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, pid));
  out.Set("pidfd", Napi::Number::New(env, pidfd < 0 ? -1 : pidfd));
  return out;
}

// new ExitWatch(pidfd, onExit(code | null, signal)): calls back once, when the
// process ends, after reaping it (signal 0 unless it was killed); owns and
// closes the pidfd. close() stops the watch: the process is then left to be
// reaped by init once this process exits.
Napi::Function ExitWatch::Init(Napi::Env env) {
  return DefineClass(env, "ExitWatch", {InstanceMethod<&ExitWatch::Close>("close"), InstanceMethod<&ExitWatch::Check>("check")});
}

ExitWatch::ExitWatch(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ExitWatch>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsFunction()) throw Napi::TypeError::New(env, "new ExitWatch(pidfd: number, onExit: function)");
  fd_ = info[0].As<Napi::Number>().Int32Value();
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "napi_get_uv_event_loop failed");
  poll_ = new uv_poll_t;
  if (int err = uv_poll_init(loop, poll_, fd_)) {
    delete poll_;
    poll_ = nullptr;
    ThrowErrno(env, -err, "uv_poll_init");
  }
  poll_->data = this;
  on_exit_ = Napi::Persistent(info[1].As<Napi::Function>());
  self_ = Napi::Persistent(info.This().As<Napi::Object>());
  async_ = new Napi::AsyncContext(env, "eucanet:ExitWatch");
  napi_add_env_cleanup_hook(env, reinterpret_cast<void (*)(void*)>(&ExitWatch::OnCleanup), this);
  cleanup_hook_ = true;
  uv_poll_start(poll_, UV_READABLE, &ExitWatch::OnPoll);
  // A running child never keeps the event loop alive (child_process's unref()).
  uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
}

ExitWatch::~ExitWatch() {
  Shutdown();
  delete async_;
}

// Stops the poll and closes the pidfd; no callback can come afterwards.
void ExitWatch::Shutdown() { StopPollAndClose(&poll_, &fd_); }

void ExitWatch::OnCleanup(ExitWatch* self) {
  self->cleanup_hook_ = false;
  self->Shutdown();
}

void ExitWatch::Release(Napi::Env env) {
  Shutdown();
  if (cleanup_hook_) {
    napi_remove_env_cleanup_hook(env, reinterpret_cast<void (*)(void*)>(&ExitWatch::OnCleanup), this);
    cleanup_hook_ = false;
  }
  if (!self_.IsEmpty()) self_.Reset();
  if (!on_exit_.IsEmpty()) on_exit_.Reset();
}

Napi::Value ExitWatch::Close(const Napi::CallbackInfo& info) {
  Release(info.Env());
  return info.Env().Undefined();
}

// check(): reaps the process now if it has ended, calling back before
// returning: a caller that saw it gone (its /proc entry) hears its exit status
// without waiting for the loop to poll the pidfd.
Napi::Value ExitWatch::Check(const Napi::CallbackInfo& info) {
  if (poll_) Reap(0);
  return info.Env().Undefined();
}

void ExitWatch::OnPoll(uv_poll_t* handle, int status, int) {
  auto* self = static_cast<ExitWatch*>(handle->data);
  if (self) self->Reap(status);
}

void ExitWatch::Reap(int status) {
  if (fd_ < 0) return;
  siginfo_t si{};
  int r = waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(fd_), &si, WEXITED | WNOHANG);
  // Woken with nothing to reap yet (status 0, no child changed state): keep waiting.
  if (status == 0 && r == 0 && si.si_pid == 0) return;
  napi_env raw = on_exit_.Env();
  Napi::Env env(raw);
  Napi::HandleScope scope(env);
  Napi::Object keep = self_.Value();
  Napi::Function cb = on_exit_.Value();
  Napi::AsyncContext* async = async_;
  async_ = nullptr;
  Release(env);
  // waitid failed (someone else reaped it: ECHILD): an exit with nothing known of it.
  napi_value code = env.Null();
  int sig = 0;
  if (r == 0 && si.si_code == CLD_EXITED) code = Napi::Number::New(env, si.si_status);
  else if (r == 0 && (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED)) sig = si.si_status;
  try {
    cb.MakeCallback(keep, {code, Napi::Number::New(env, sig)}, *async);
  } catch (const Napi::Error& e) {
    napi_fatal_exception(raw, e.Value());
  }
  delete async;
}

}  // namespace eucanet
