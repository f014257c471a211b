// Starting a program inside a network namespace without forking Node
// (spawnInNetns) and hearing when it exits (ExitWatch): see spawn.cc.
#pragma once

#include <napi.h>
#include <uv.h>

#include "common.h"

namespace eucanet {

Napi::Value SpawnInNetns(const Napi::CallbackInfo& info);

class ExitWatch : public Napi::ObjectWrap<ExitWatch> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit ExitWatch(const Napi::CallbackInfo& info);
  ~ExitWatch() override;

 private:
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Check(const Napi::CallbackInfo& info);
  void Reap(int status);
  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnCleanup(ExitWatch* self);
  void Shutdown();
  void Release(Napi::Env env);

  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;  // freed in its close callback
  bool cleanup_hook_ = false;
  Napi::FunctionReference on_exit_;
  Napi::ObjectReference self_;  // keeps the object alive while it watches
  Napi::AsyncContext* async_ = nullptr;
};

}  // namespace eucanet
