// The eucanet addon's exports. Everything protocol-shaped lives in TypeScript;
// these are only the things JavaScript cannot do by itself.
#include <napi.h>

#include "addon.h"
#include "netlink_socket.h"
#include "netlink_subscription.h"

namespace eucanet {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NetlinkSocket", NetlinkSocket::Init(env));
  exports.Set("NetlinkSubscription", NetlinkSubscription::Init(env));
  exports.Set("openInNetns", Napi::Function::New<OpenInNetns>(env, "openInNetns"));
  exports.Set("netnsCreate", Napi::Function::New<NetnsCreate>(env, "netnsCreate"));
  exports.Set("netnsDelete", Napi::Function::New<NetnsDelete>(env, "netnsDelete"));
  exports.Set("netnsCheck", Napi::Function::New<NetnsCheck>(env, "netnsCheck"));
  exports.Set("tapCreate", Napi::Function::New<TapCreate>(env, "tapCreate"));
  exports.Set("tapDelete", Napi::Function::New<TapDelete>(env, "tapDelete"));
  return exports;
}

NODE_API_MODULE(eucanet, Init)

}  // namespace eucanet
