// A netlink socket bound at creation to one network namespace.
//
// exchange(buf, chunkEnds, expects, dump) sends the pre-encoded messages in
// `buf` as one sendto() per chunk and returns every reply the kernel queued,
// concatenated. Rtnetlink and nfnetlink process a request synchronously inside
// sendto(), so when it returns the replies are already queued; they are drained
// without blocking, and if fewer than `expects[i]` NLMSG_ERROR replies (acks or
// errors) arrived, the socket is polled for the rest. A dump (`dump` true) is
// read until NLMSG_DONE or NLMSG_ERROR. Only the nlmsghdr framing is read here;
// what the messages mean is JavaScript's business.
//
// If the exchange fails part-way (a later chunk's sendto, ENOBUFS because the
// kernel dropped replies, a timeout), the promise is rejected with an error
// that still carries what was received (`partial`, a Buffer) and how many
// chunks the kernel was given (`chunksSent`): a sendto that fails hands the
// kernel nothing of its chunk, so requests in later chunks were never seen.
//
// The request bytes are copied into the job: the caller's buffer may be
// detached or reused while the worker thread runs.
//
// An optional sixth argument `stops` (a Uint8Array, one flag per chunk) joins
// several dependent steps in one exchange: after a chunk whose flag is set,
// the exchange ends there, successfully, if any NLMSG_ERROR so far carried a
// non-zero errno; the later chunks are not sent (their requests get no reply,
// which is how the caller tells them apart). One hop between the JavaScript
// thread and the worker for a whole transaction's rtnetlink phases.
//
// ifindexes(names) resolves link names to ifindexes with SIOCGIFINDEX on the
// socket itself, which the kernel answers in the namespace the socket belongs
// to: no message, no reply to decode, no worker thread. 0 for a name no link
// has.
//
// Test-only: an optional fifth argument {chunk, rcvbuf?, sendErrno?} makes the
// exchange fail for real at chunk `chunk`: `rcvbuf` shrinks SO_RCVBUF just for
// that chunk (the kernel drops replies: ENOBUFS), `sendErrno` fails that
// chunk's sendto without sending it.
#pragma once

#include <napi.h>

#include <cstdint>
#include <vector>

#include "common.h"

namespace eucanet {

struct ExchangeFault {
  int64_t chunk = -1;  // -1: none
  int rcvbuf = 0;      // >0: SO_RCVBUF for that chunk only
  int send_errno = 0;  // >0: that chunk's sendto fails with this errno
};

struct ExchangeJob {
  int fd = -1;
  std::vector<uint8_t> data;  // a copy of the request bytes
  std::vector<uint32_t> chunk_ends;
  std::vector<uint32_t> expects;
  std::vector<uint8_t> stops;  // per chunk, or empty
  bool dump = false;
  size_t failures = 0;  // NLMSG_ERRORs with a non-zero errno seen so far
  ExchangeFault fault;
  std::vector<uint8_t> out;
  uint32_t chunks_sent = 0;
  SysError error;
  void Run();

 private:
  void Exchange();
  bool Receive(size_t c);
  void Drain();
};

class NetlinkSocket : public Napi::ObjectWrap<NetlinkSocket> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit NetlinkSocket(const Napi::CallbackInfo& info);
  ~NetlinkSocket() override;

  void Release() { busy_ = false; if (close_pending_) CloseFd(); }

 private:
  Napi::Value Exchange(const Napi::CallbackInfo& info);
  Napi::Value ExchangeSync(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Ifindexes(const Napi::CallbackInfo& info);
  Napi::Value GetFd(const Napi::CallbackInfo& info);
  Napi::Value GetPort(const Napi::CallbackInfo& info);
  void PrepareJob(const Napi::CallbackInfo& info, ExchangeJob* job);
  void CloseFd();

  int fd_ = -1;
  uint32_t port_ = 0;
  bool busy_ = false;
  bool close_pending_ = false;
};

}  // namespace eucanet
