#pragma once
#include <napi.h>

namespace eucanet {
Napi::Value NetnsCreate(const Napi::CallbackInfo& info);
Napi::Value NetnsDelete(const Napi::CallbackInfo& info);
Napi::Value NetnsCheck(const Napi::CallbackInfo& info);
Napi::Value OpenInNetns(const Napi::CallbackInfo& info);
Napi::Value TapCreate(const Napi::CallbackInfo& info);
Napi::Value TapDelete(const Napi::CallbackInfo& info);
Napi::Value MapFile(const Napi::CallbackInfo& info);
Napi::Value SetV8Flags(const Napi::CallbackInfo& info);
}  // namespace eucanet
