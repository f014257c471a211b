#include "netlink_socket.h"

#include "gather_buffer.h"

#include <linux/if.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>

namespace eucanet {

namespace {

constexpr int kRecvBufBytes = 32 * 1024 * 1024;
constexpr int kSendBufBytes = 4 * 1024 * 1024;
constexpr size_t kReadBytes = 1024 * 1024;  // The kernel caps dump skbs at 32 KiB.
// Receive slots: a dump part is at most 32 KiB, a unicast reply one message (a
// link's is a few KiB); 256 KiB leaves room for the largest.
constexpr size_t kSlots = 32;
constexpr size_t kSlotBytes = 256 * 1024;
constexpr int kReplyTimeoutMs = 30000;
void SetBuf(int fd, int force_opt, int opt, int bytes) {
  if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof bytes) < 0)
    setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof bytes);
}

// Grows SO_SNDBUF so that one datagram of `len` bytes fits: netlink refuses a
// message larger than the send buffer with EMSGSIZE.
void EnsureSendBuf(int fd, size_t len) {
  int cur = 0;
  socklen_t sl = sizeof cur;
  if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cur, &sl) == 0 &&
      static_cast<size_t>(cur) >= len + 4096)
    return;
  SetBuf(fd, SO_SNDBUFFORCE, SO_SNDBUF, static_cast<int>(len + 65536));
}

// Walks the nlmsghdr framing of one datagram: counts NLMSG_ERROR replies
// (acks and errors both), those of them with a non-zero errno, and notes
// whether a dump has ended.
void Scan(const uint8_t* p, size_t n, size_t* errors, size_t* failures, bool* done) {
  while (n >= sizeof(nlmsghdr)) {
    nlmsghdr h;
    std::memcpy(&h, p, sizeof h);
    if (h.nlmsg_len < sizeof h || h.nlmsg_len > n) break;
    if (h.nlmsg_type == NLMSG_ERROR) {
      ++*errors;
      int32_t err = 0;
      if (h.nlmsg_len >= sizeof h + sizeof err) std::memcpy(&err, p + sizeof h, sizeof err);
      if (err != 0) ++*failures;
      *done = true;
    } else if (h.nlmsg_type == NLMSG_DONE) {
      *done = true;
    }
    size_t step = NLMSG_ALIGN(h.nlmsg_len);
    if (step >= n) break;
    p += step;
    n -= step;
  }
}

// Puts SO_RCVBUF back to the size the constructor gave it.
void RestoreRecvBuf(int fd) { SetBuf(fd, SO_RCVBUFFORCE, SO_RCVBUF, kRecvBufBytes); }

}  // namespace

void ExchangeJob::Run() {
  std::vector<uint8_t> gathered = TakeGatherBuffer();
  out.swap(gathered);
  Exchange();
  gathered = ReplyCopy(out);
  out.swap(gathered);
  GiveBackGatherBuffer(std::move(gathered));
}

void ExchangeJob::Exchange() {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  uint32_t start = 0;
  for (size_t c = 0; c < chunk_ends.size(); ++c) {
    uint32_t end = chunk_ends[c];
    size_t len = end - start;
    EnsureSendBuf(fd, len);
    bool faulty = fault.chunk == static_cast<int64_t>(c);
    if (faulty && fault.send_errno > 0) return error.set(fault.send_errno, "sendto (injected fault)");
    if (faulty && fault.rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &fault.rcvbuf, sizeof fault.rcvbuf);
    ssize_t sent;
    do {
      sent = sendto(fd, data.data() + start, len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
      int err = errno;
      if (faulty && fault.rcvbuf > 0) RestoreRecvBuf(fd);
      return error.set(err, "sendto");
    }
    ++chunks_sent;
    start = end;
    bool ok = Receive(c);
    if (faulty && fault.rcvbuf > 0) RestoreRecvBuf(fd);
    if (!ok) return;
    if (c < stops.size() && stops[c] && failures > 0) return;
  }
}

// Reads chunk `c`'s replies into `out`. False (with `error` set) if the kernel
// dropped some (ENOBUFS: what is still queued is read first), or if they do
// not come.
bool ExchangeJob::Receive(size_t c) {
  // A netlink recv returns one datagram (one ack, one reply, or one dump part
  // of at most 32 KiB): recvmmsg() takes every one queued, up to kSlots, in
  // one system call (a pipelined chunk of 256 requests made 256 recv calls).
  // The slots are reused per thread: a fresh zero-filled buffer per exchange
  // cost more in memset than the kernel's own work for a small request.
  // Not zero-filled: only the pages the kernel writes become resident.
  thread_local std::unique_ptr<uint8_t[]> arena(new uint8_t[kSlots * kSlotBytes]);
  thread_local mmsghdr msgs[kSlots];
  thread_local iovec iov[kSlots];
  for (size_t k = 0; k < kSlots; ++k) {
    iov[k] = iovec{arena.get() + k * kSlotBytes, kSlotBytes};
    msgs[k] = mmsghdr{};
    msgs[k].msg_hdr.msg_iov = &iov[k];
    msgs[k].msg_hdr.msg_iovlen = 1;
  }
  size_t errors = 0;
  bool done = false;
  size_t want = expects[c];
  for (;;) {
    bool must_block = dump ? !done : errors < want;
    // MSG_WAITFORONE: wait (SO_RCVTIMEO at most) for the first datagram only.
    int n = recvmmsg(fd, msgs, kSlots, must_block ? MSG_WAITFORONE : MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!must_block) return true;
        error.set(ETIMEDOUT, "recvmmsg (no reply from the kernel)");
        return false;
      }
      if (errno == ENOBUFS) {
        Drain();
        error.set(ENOBUFS, "recvmmsg (the kernel dropped replies: receive buffer full)");
        return false;
      }
      error.set(errno, "recvmmsg");
      return false;
    }
    if (n == 0) return true;
    for (int k = 0; k < n; ++k) {
      size_t len = msgs[k].msg_len;
      if (len == 0) return true;
      if (msgs[k].msg_hdr.msg_flags & MSG_TRUNC) {
        error.set(EMSGSIZE, "recvmmsg (a reply larger than 256 KiB was cut)");
        return false;
      }
      const uint8_t* p = arena.get() + k * kSlotBytes;
      Scan(p, len, &errors, &failures, &done);
      Append(out, p, len);
      msgs[k].msg_hdr.msg_flags = 0;
    }
  }
}

// Reads whatever replies are still queued, without waiting.
void ExchangeJob::Drain() {
  thread_local std::vector<uint8_t> rbuf(kReadBytes);
  for (;;) {
    ssize_t r = recv(fd, rbuf.data(), rbuf.size(), MSG_DONTWAIT);
    if (r < 0 && (errno == EINTR || errno == ENOBUFS)) continue;
    if (r <= 0) return;
    Append(out, rbuf.data(), static_cast<size_t>(r));
  }
}

namespace {

// Blocking reads above run with a receive timeout so that a reply the kernel
// never sends cannot hang a worker thread forever.
void SetRecvTimeout(int fd) {
  timeval tv{kReplyTimeoutMs / 1000, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// Hands the replies to JavaScript without a copy: the Buffer owns the vector
// and frees it when collected (a dump of thousands of links is megabytes).
Napi::Buffer<uint8_t> TakeBuffer(Napi::Env env, std::vector<uint8_t>&& bytes) {
  if (bytes.empty()) return Napi::Buffer<uint8_t>::New(env, 0);
  auto* owned = new std::vector<uint8_t>(std::move(bytes));
  return Napi::Buffer<uint8_t>::New(
      env, owned->data(), owned->size(),
      [](Napi::Env, uint8_t*, std::vector<uint8_t>* v) {
        GiveBackReply(std::move(*v));
        delete v;
      },
      owned);
}

// The error of a failed exchange, with what it got before failing.
Napi::Error ExchangeError(Napi::Env env, ExchangeJob& job) {
  Napi::Error e = MakeErrnoError(env, job.error);
  e.Set("partial", TakeBuffer(env, std::move(job.out)));
  e.Set("chunksSent", Napi::Number::New(env, job.chunks_sent));
  return e;
}

class ExchangeWorker : public Napi::AsyncWorker {
 public:
  ExchangeWorker(Napi::Env env, NetlinkSocket* sock, Napi::Object self)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), sock_(sock) {
    self_ = Napi::Persistent(self);
  }
  ExchangeJob job;
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { job.Run(); }
  void OnOK() override {
    sock_->Release();
    if (job.error.failed()) {
      deferred_.Reject(ExchangeError(Env(), job).Value());
      return;
    }
    deferred_.Resolve(TakeBuffer(Env(), std::move(job.out)));
  }
  void OnError(const Napi::Error& e) override {
    sock_->Release();
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  NetlinkSocket* sock_;
  Napi::ObjectReference self_;
};

// Argument `i` as a typed array of element type `type`, or a TypeError naming it.
Napi::TypedArray TypedArg(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, const char* what) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
    throw Napi::TypeError::New(info.Env(), std::string(what));
  return v.As<Napi::TypedArray>();
}

// The test-only fault argument: {chunk, rcvbuf?, sendErrno?}.
ExchangeFault ParseFault(const Napi::CallbackInfo& info, size_t i) {
  ExchangeFault f;
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return f;
  if (!info[i].IsObject()) throw Napi::TypeError::New(info.Env(), "fault must be an object");
  Napi::Object o = info[i].As<Napi::Object>();
  auto num = [&](const char* key) -> int64_t {
    Napi::Value v = o.Get(key);
    if (v.IsUndefined()) return 0;
    if (!v.IsNumber()) throw Napi::TypeError::New(info.Env(), std::string("fault.") + key + " must be a number");
    return v.As<Napi::Number>().Int64Value();
  };
  f.chunk = num("chunk");
  f.rcvbuf = static_cast<int>(num("rcvbuf"));
  f.send_errno = static_cast<int>(num("sendErrno"));
  return f;
}

}  // namespace

Napi::Function NetlinkSocket::Init(Napi::Env env) {
  return DefineClass(env, "NetlinkSocket",
                     {
                         InstanceMethod<&NetlinkSocket::Exchange>("exchange"),
                         InstanceMethod<&NetlinkSocket::ExchangeSync>("exchangeSync"),
                         InstanceMethod<&NetlinkSocket::Close>("close"),
                         InstanceMethod<&NetlinkSocket::Ifindexes>("ifindexes"),
                         InstanceAccessor<&NetlinkSocket::GetFd>("fd"),
                         InstanceAccessor<&NetlinkSocket::GetPort>("port"),
                     });
}

// new NetlinkSocket(protocol, netns?)
NetlinkSocket::NetlinkSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NetlinkSocket>(info) {
  Napi::Env env = info.Env();
  int protocol = info[0].As<Napi::Number>().Int32Value();
  NetnsTarget target = ParseNetnsTarget(info, 1);
  int fd;
  {
    NetnsScope scope;
    const char* call = nullptr;
    if (int err = scope.Enter(target, &call)) ThrowErrno(env, err, call);
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (fd < 0) ThrowErrno(env, errno, "socket");
  }
  int one = 1;
  // Extended ACK: the kernel's message and the offending attribute's offset.
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  // Acks do not echo the request back: keeps the receive queue small.
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  // Strict checking lets the kernel filter dumps by header fields.
  setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);
  SetBuf(fd, SO_RCVBUFFORCE, SO_RCVBUF, kRecvBufBytes);
  SetBuf(fd, SO_SNDBUFFORCE, SO_SNDBUF, kSendBufBytes);
  SetRecvTimeout(fd);
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) {
    int err = errno;
    close(fd);
    ThrowErrno(env, err, "bind");
  }
  socklen_t len = sizeof local;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) < 0) {
    int err = errno;
    close(fd);
    ThrowErrno(env, err, "getsockname");
  }
  fd_ = fd;
  port_ = local.nl_pid;
}

NetlinkSocket::~NetlinkSocket() { CloseFd(); }

void NetlinkSocket::CloseFd() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  close_pending_ = false;
}

void NetlinkSocket::PrepareJob(const Napi::CallbackInfo& info, ExchangeJob* job) {
  Napi::Env env = info.Env();
  if (fd_ < 0) ThrowErrno(env, EBADF, "exchange (socket closed)");
  if (busy_) ThrowErrno(env, EBUSY, "exchange (socket busy)");
  auto buf = TypedArg(info, 0, napi_uint8_array, "buf must be a Buffer or Uint8Array").As<Napi::Uint8Array>();
  auto ends = TypedArg(info, 1, napi_uint32_array, "chunkEnds must be a Uint32Array").As<Napi::Uint32Array>();
  auto expects = TypedArg(info, 2, napi_uint32_array, "expects must be a Uint32Array").As<Napi::Uint32Array>();
  if (ends.ElementLength() != expects.ElementLength())
    throw Napi::TypeError::New(env, "chunk ends and expects differ in length");
  uint32_t prev = 0;
  for (size_t i = 0; i < ends.ElementLength(); ++i) {
    if (ends[i] < prev || ends[i] > buf.ElementLength())
      throw Napi::RangeError::New(env, "chunk ends must ascend within the buffer");
    prev = ends[i];
    job->chunk_ends.push_back(ends[i]);
    job->expects.push_back(expects[i]);
  }
  job->fault = ParseFault(info, 4);
  if (info.Length() > 5 && !info[5].IsUndefined() && !info[5].IsNull()) {
    auto stops = TypedArg(info, 5, napi_uint8_array, "stops must be a Uint8Array").As<Napi::Uint8Array>();
    if (stops.ElementLength() != ends.ElementLength())
      throw Napi::RangeError::New(env, "stops must have one flag per chunk");
    job->stops.assign(stops.Data(), stops.Data() + stops.ElementLength());
  }
  job->fd = fd_;
  // A copy: the worker thread must not read memory the caller may detach or reuse.
  job->data.assign(buf.Data(), buf.Data() + prev);
  job->dump = info[3].ToBoolean();
}

// exchange(buf, chunkEnds: Uint32Array, expects: Uint32Array, dump: boolean, fault?): Promise<Buffer>
Napi::Value NetlinkSocket::Exchange(const Napi::CallbackInfo& info) {
  auto* worker = new ExchangeWorker(info.Env(), this, info.This().As<Napi::Object>());
  try {
    PrepareJob(info, &worker->job);
  } catch (...) {
    delete worker;
    throw;
  }
  busy_ = true;
  Napi::Promise p = worker->Promise();
  worker->Queue();
  return p;
}

// exchangeSync(...): Buffer. The same exchange on the calling thread.
Napi::Value NetlinkSocket::ExchangeSync(const Napi::CallbackInfo& info) {
  ExchangeJob job;
  PrepareJob(info, &job);
  job.Run();
  if (job.error.failed()) throw ExchangeError(info.Env(), job);
  return TakeBuffer(info.Env(), std::move(job.out));
}

Napi::Value NetlinkSocket::Close(const Napi::CallbackInfo& info) {
  if (busy_)
    close_pending_ = true;
  else
    CloseFd();
  return info.Env().Undefined();
}

// ifindexes(names: string[]): Int32Array. A name that cannot be a link's
// (empty, IFNAMSIZ bytes or more, a NUL in it) gets 0, as a missing link does.
Napi::Value NetlinkSocket::Ifindexes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ < 0) ThrowErrno(env, EBADF, "ioctl(SIOCGIFINDEX) (socket closed)");
  if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "names must be an array of strings");
  auto names = info[0].As<Napi::Array>();
  uint32_t n = names.Length();
  auto out = Napi::Int32Array::New(env, n);
  for (uint32_t i = 0; i < n; ++i) {
    Napi::Value v = names[i];
    if (!v.IsString()) throw Napi::TypeError::New(env, "names must be an array of strings");
    std::string name = v.As<Napi::String>().Utf8Value();
    out[i] = 0;
    if (name.empty() || name.size() >= IFNAMSIZ || name.find('\0') != std::string::npos) continue;
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, name.data(), name.size());
    if (ioctl(fd_, SIOCGIFINDEX, &ifr) == 0)
      out[i] = ifr.ifr_ifindex;
    else if (errno != ENODEV)
      ThrowErrno(env, errno, "ioctl(SIOCGIFINDEX)");
  }
  return out;
}

Napi::Value NetlinkSocket::GetFd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), fd_);
}

Napi::Value NetlinkSocket::GetPort(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), port_);
}

}  // namespace eucanet
