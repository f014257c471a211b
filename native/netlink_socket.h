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
#pragma once

#include <napi.h>

#include <cstdint>
#include <vector>

#include "common.h"

namespace eucanet {

struct ExchangeJob {
  int fd = -1;
  const uint8_t* data = nullptr;
  std::vector<uint32_t> chunk_ends;
  std::vector<uint32_t> expects;
  bool dump = false;
  std::vector<uint8_t> out;
  SysError error;
  void Run();
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
