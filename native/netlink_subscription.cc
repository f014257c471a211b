#include "netlink_subscription.h"

#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace eucanet {

namespace {

constexpr int kDefaultRecvBufBytes = 32 * 1024 * 1024;
// One recv() reads one datagram; notifications are single messages, but the
// buffer must hold the largest (a link with all its attributes, a big rule).
constexpr size_t kReadBytes = 256 * 1024;
// At most this much is read per turn of the loop; the poll is level-triggered,
// so the rest is read on the next turn.
constexpr size_t kMaxDrainBytes = 4 * 1024 * 1024;

void SetRecvBuf(int fd, int bytes) {
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

std::vector<uint32_t> GroupsArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsArray()) throw Napi::TypeError::New(info.Env(), "groups must be an array of group numbers");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<uint32_t> out;
  for (uint32_t k = 0; k < a.Length(); ++k) {
    Napi::Value v = a.Get(k);
    double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 1 && d <= 1024) || d != static_cast<double>(static_cast<uint32_t>(d)))
      throw Napi::RangeError::New(info.Env(), "groups[" + std::to_string(k) + "] must be an integer in 1-1024");
    out.push_back(static_cast<uint32_t>(d));
  }
  return out;
}

}  // namespace

Napi::Function NetlinkSubscription::Init(Napi::Env env) {
  return DefineClass(env, "NetlinkSubscription",
                     {
                         InstanceMethod<&NetlinkSubscription::Close>("close"),
                         InstanceMethod<&NetlinkSubscription::Ref>("ref"),
                         InstanceMethod<&NetlinkSubscription::Unref>("unref"),
                         InstanceMethod<&NetlinkSubscription::Pause>("pause"),
                         InstanceMethod<&NetlinkSubscription::Resume>("resume"),
                         InstanceMethod<&NetlinkSubscription::DrainNow>("drain"),
                         InstanceAccessor<&NetlinkSubscription::GetFd>("fd"),
                         InstanceAccessor<&NetlinkSubscription::GetPort>("port"),
                     });
}

// new NetlinkSubscription(protocol, netns, groups, rcvbuf, onData)
NetlinkSubscription::NetlinkSubscription(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<NetlinkSubscription>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "protocol must be a number");
  int protocol = info[0].As<Napi::Number>().Int32Value();
  NetnsTarget target = ParseNetnsTarget(info, 1);
  std::vector<uint32_t> groups = GroupsArg(info, 2);
  if (!info[3].IsNumber()) throw Napi::TypeError::New(env, "rcvbuf must be a number (0: the default)");
  int rcvbuf = info[3].As<Napi::Number>().Int32Value();
  if (!info[4].IsFunction()) throw Napi::TypeError::New(env, "onData must be a function");
  Open(env, protocol, target, groups, rcvbuf > 0 ? rcvbuf : kDefaultRecvBufBytes);

  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    Shutdown();
    throw Napi::Error::New(env, "napi_get_uv_event_loop failed");
  }
  poll_ = new uv_poll_t;
  if (int err = uv_poll_init(loop, poll_, fd_)) {
    delete poll_;
    poll_ = nullptr;
    Shutdown();
    ThrowErrno(env, -err, "uv_poll_init");
  }
  poll_->data = this;
  on_data_ = Napi::Persistent(info[4].As<Napi::Function>());
  self_ = Napi::Persistent(info.This().As<Napi::Object>());
  async_ = new Napi::AsyncContext(env, "eucanet:NetlinkSubscription");
  napi_add_env_cleanup_hook(env, reinterpret_cast<void (*)(void*)>(&NetlinkSubscription::OnCleanup), this);
  cleanup_hook_ = true;
  Start();
}

// Opens the socket inside the namespace, joins the groups and binds it.
void NetlinkSubscription::Open(Napi::Env env, int protocol, const NetnsTarget& target,
                               const std::vector<uint32_t>& groups, int rcvbuf) {
  int fd;
  {
    NetnsScope scope;
    const char* call = nullptr;
    if (int err = scope.Enter(target, &call)) ThrowErrno(env, err, call);
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
    if (fd < 0) ThrowErrno(env, errno, "socket");
  }
  auto fail = [&](const char* call) {
    int err = errno;
    close(fd);
    ThrowErrno(env, err, call);
  };
  SetRecvBuf(fd, rcvbuf);
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) fail("bind");
  for (uint32_t g : groups) {
    if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof g) < 0)
      fail("setsockopt(NETLINK_ADD_MEMBERSHIP)");
  }
  socklen_t len = sizeof local;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) < 0) fail("getsockname");
  fd_ = fd;
  port_ = local.nl_pid;
}

NetlinkSubscription::~NetlinkSubscription() {
  Shutdown();
  delete async_;
}

void NetlinkSubscription::Start() {
  if (poll_ && !paused_) uv_poll_start(poll_, UV_READABLE, &NetlinkSubscription::OnPoll);
}

// Stops the poll and closes the socket; no callback can come afterwards.
void NetlinkSubscription::Shutdown() { StopPollAndClose(&poll_, &fd_); }

void NetlinkSubscription::OnCleanup(NetlinkSubscription* self) {
  self->cleanup_hook_ = false;
  self->Shutdown();
}

void NetlinkSubscription::OnPoll(uv_poll_t* handle, int status, int) {
  auto* self = static_cast<NetlinkSubscription*>(handle->data);
  if (self) self->Drain(status, kMaxDrainBytes);
}

// Reads what is queued (at most about `limit` bytes). `status` < 0: libuv saw
// POLLERR (a pending socket error, ENOBUFS for netlink) and stopped the watcher.
void NetlinkSubscription::Drain(int status, size_t limit) {
  // A local handle keeps this object alive for the whole drain: a callback
  // that calls close() drops the persistent reference, and a GC during the
  // rest of the callback must not finalize the object under our feet.
  Napi::Env env(on_data_.Env());
  Napi::HandleScope scope(env);
  Napi::Object keep = self_.Value();
  (void)keep;
  thread_local std::vector<uint8_t> rbuf(kReadBytes);
  std::vector<uint8_t> out;
  bool lost = false;
  while (fd_ >= 0 && out.size() < limit) {
    ssize_t r = recv(fd_, rbuf.data(), rbuf.size(), MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == ENOBUFS) {
        lost = true;
        Deliver(&out, true, nullptr);  // what came before the loss, then the loss
        continue;
      }
      SysError e;
      e.set(errno, "recv");
      Deliver(&out, false, &e);
      if (fd_ >= 0) Shutdown();
      return;
    }
    out.insert(out.end(), rbuf.data(), rbuf.data() + r);
  }
  if (fd_ < 0) return;  // closed from a callback
  if (!out.empty()) Deliver(&out, false, nullptr);
  if (status < 0 && fd_ >= 0) {
    if (!lost && out.empty()) {
      SysError e;
      e.set(-status == EBADF ? EIO : -status, "poll (socket error)");
      Deliver(&out, false, &e);
      if (fd_ >= 0) Shutdown();
      return;
    }
    Start();  // libuv stopped the watcher on POLLERR
  }
}

// Calls onData(buf | null, lost, error?) and empties `bytes`.
void NetlinkSubscription::Deliver(std::vector<uint8_t>* bytes, bool lost, const SysError* error) {
  if (fd_ < 0) return;
  napi_env raw = on_data_.Env();
  Napi::Env env(raw);
  Napi::HandleScope scope(env);
  Napi::Value buf = env.Null();
  if (!bytes->empty()) {
    auto* owned = new std::vector<uint8_t>(std::move(*bytes));
    buf = Napi::Buffer<uint8_t>::New(
        env, owned->data(), owned->size(), [](Napi::Env, uint8_t*, std::vector<uint8_t>* v) { delete v; }, owned);
  }
  bytes->clear();
  std::vector<napi_value> args{buf, Napi::Boolean::New(env, lost)};
  if (error) args.push_back(MakeErrnoError(env, *error).Value());
  try {
    on_data_.MakeCallback(self_.Value(), args, *async_);
  } catch (const Napi::Error& e) {
    napi_fatal_exception(raw, e.Value());
  }
}

Napi::Value NetlinkSubscription::Close(const Napi::CallbackInfo& info) {
  Shutdown();
  if (cleanup_hook_) {
    napi_remove_env_cleanup_hook(info.Env(), reinterpret_cast<void (*)(void*)>(&NetlinkSubscription::OnCleanup), this);
    cleanup_hook_ = false;
  }
  if (!self_.IsEmpty()) self_.Reset();
  if (!on_data_.IsEmpty()) on_data_.Reset();
  return info.Env().Undefined();
}

// drain(): reads everything queued now, from the JavaScript thread, and
// delivers it through onData before returning (paused or not): a caller that
// must have heard every notification the kernel sent before some point (the
// echo of its own requests, which the kernel queues before it acknowledges
// them) does not depend on when the loop would have polled the socket.
Napi::Value NetlinkSubscription::DrainNow(const Napi::CallbackInfo& info) {
  if (fd_ >= 0) Drain(0, SIZE_MAX);
  return info.Env().Undefined();
}

Napi::Value NetlinkSubscription::Ref(const Napi::CallbackInfo& info) {
  if (poll_) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
  return info.Env().Undefined();
}

Napi::Value NetlinkSubscription::Unref(const Napi::CallbackInfo& info) {
  if (poll_) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  return info.Env().Undefined();
}

Napi::Value NetlinkSubscription::Pause(const Napi::CallbackInfo& info) {
  paused_ = true;
  if (poll_) uv_poll_stop(poll_);
  return info.Env().Undefined();
}

Napi::Value NetlinkSubscription::Resume(const Napi::CallbackInfo& info) {
  paused_ = false;
  Start();
  return info.Env().Undefined();
}

Napi::Value NetlinkSubscription::GetFd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), fd_);
}

Napi::Value NetlinkSubscription::GetPort(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), port_);
}

}  // namespace eucanet
