// A netlink socket subscribed to multicast groups: notifications the kernel
// sends without a request (a link added, a rule deleted), delivered to
// JavaScript as Buffers of whole messages, in the order they arrived.
//
//   new NetlinkSubscription(protocol, netns, groups: number[], rcvbuf: number,
//                           onData: (buf: Buffer | null, lost: boolean) => void)
//   .port  .fd  .close()  .ref()  .unref()  .pause()  .resume()  .drain()
//
// Design: the socket is non-blocking and watched by a uv_poll_t on the main
// loop; when it is readable, every queued datagram is read with recv() until
// EAGAIN (or a bound per turn of the loop, so that a flood cannot starve the
// loop) and onData is called once per drain with all of them. No thread per
// subscription: nothing blocks, there is nothing to wake up or join on close,
// and close() is synchronous: it stops the poll and closes the fd before it
// returns, so no callback can come afterwards. (A reader thread with a
// thread-safe function would need a way to interrupt a blocking recv, and its
// queued calls would still arrive after close.)
//
// Lost notifications: when the receive buffer is full the kernel drops what
// it cannot queue and the next recv() fails with ENOBUFS (poll reports POLLERR,
// on which libuv stops the watcher: it is started again). That is delivered as
// onData(messagesBefore | null, true); the socket keeps working. SO_RCVBUF is
// `rcvbuf` bytes (0: 32 MiB), set with SO_RCVBUFFORCE (root) or, failing that,
// SO_RCVBUF (capped by net.core.rmem_max). Tests pass a tiny one to provoke
// ENOBUFS for real.
//
// drain() reads what is queued at once, from the calling (JavaScript) thread,
// paused or not: notifications the kernel sent before some point are then
// delivered, whenever the loop would have polled the socket.
//
// Event loop: an open subscription keeps the loop alive, like a listening
// server; unref() opts out, ref() back in. pause()/resume() stop and restart
// reading (JavaScript's backpressure: while paused the kernel's receive buffer
// fills, and overflow becomes ENOBUFS). An environment cleanup hook closes a
// subscription still open when Node tears the environment down.
//
// Only the nlmsghdr framing is known here: group numbers come from JavaScript.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <vector>

#include "common.h"

namespace eucanet {

class NetlinkSubscription : public Napi::ObjectWrap<NetlinkSubscription> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit NetlinkSubscription(const Napi::CallbackInfo& info);
  ~NetlinkSubscription() override;

 private:
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Ref(const Napi::CallbackInfo& info);
  Napi::Value Unref(const Napi::CallbackInfo& info);
  Napi::Value Pause(const Napi::CallbackInfo& info);
  Napi::Value Resume(const Napi::CallbackInfo& info);
  Napi::Value DrainNow(const Napi::CallbackInfo& info);
  Napi::Value GetFd(const Napi::CallbackInfo& info);
  Napi::Value GetPort(const Napi::CallbackInfo& info);

  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnCleanup(NetlinkSubscription* self);
  void Open(Napi::Env env, int protocol, const NetnsTarget& target, const std::vector<uint32_t>& groups, int rcvbuf);
  void Drain(int status, size_t limit);
  void Deliver(std::vector<uint8_t>* bytes, bool lost, const SysError* error);
  void Start();
  void Shutdown();

  int fd_ = -1;
  uint32_t port_ = 0;
  uv_poll_t* poll_ = nullptr;  // freed in its close callback
  bool paused_ = false;
  bool cleanup_hook_ = false;
  Napi::FunctionReference on_data_;
  Napi::ObjectReference self_;  // keeps the object alive while open
  Napi::AsyncContext* async_ = nullptr;
};

}  // namespace eucanet
