// The eucanet addon's exports. Everything protocol-shaped lives in TypeScript;
// these are only the things JavaScript cannot do by itself.
#include <napi.h>

#include "addon.h"
#include "gather_buffer.h"
#include "netlink_socket.h"
#include "netlink_subscription.h"
#include "spawn.h"

namespace eucanet {

namespace {

// replyPool(): { buffers, bytes }: the reply buffers kept for reuse
// (gather_buffer.h), for tests and diagnostics.
Napi::Value ReplyPool(const Napi::CallbackInfo& info) {
  size_t buffers = 0, bytes = 0;
  ReplyPoolSize(&buffers, &bytes);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("buffers", Napi::Number::New(info.Env(), static_cast<double>(buffers)));
  o.Set("bytes", Napi::Number::New(info.Env(), static_cast<double>(bytes)));
  return o;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NetlinkSocket", NetlinkSocket::Init(env));
  exports.Set("NetlinkSubscription", NetlinkSubscription::Init(env));
  exports.Set("openInNetns", Napi::Function::New<OpenInNetns>(env, "openInNetns"));
  exports.Set("netnsCreate", Napi::Function::New<NetnsCreate>(env, "netnsCreate"));
  exports.Set("netnsDelete", Napi::Function::New<NetnsDelete>(env, "netnsDelete"));
  exports.Set("netnsCheck", Napi::Function::New<NetnsCheck>(env, "netnsCheck"));
  exports.Set("tapCreate", Napi::Function::New<TapCreate>(env, "tapCreate"));
  exports.Set("tapDelete", Napi::Function::New<TapDelete>(env, "tapDelete"));
  exports.Set("spawnInNetns", Napi::Function::New<SpawnInNetns>(env, "spawnInNetns"));
  exports.Set("ExitWatch", ExitWatch::Init(env));
  exports.Set("mapFile", Napi::Function::New<MapFile>(env, "mapFile"));
  exports.Set("setV8Flags", Napi::Function::New<SetV8Flags>(env, "setV8Flags"));
  exports.Set("replyPool", Napi::Function::New<ReplyPool>(env, "replyPool"));
  return exports;
}

NODE_API_MODULE(eucanet, Init)

}  // namespace eucanet
