// What the command line's launcher (src/cli/launch.ts) asks of the addon
// before it runs the bundle: a file's bytes mapped rather than read, and V8's
// flags set without loading node:v8.
//
// Why map: on a machine where a fresh page costs 12 to 14 us (a VM), reading
// the 1.1 MB bundle as Latin-1 touches about 560 fresh pages (the read buffer,
// then V8's copy into a string) and the 0.8 MB code cache 200 more, each cold
// command. Mapped, the file's pages are the page cache's own: nothing is
// copied, and V8 reads only what it uses (with a code cache, little of the
// source). The mapping is private, so nothing written to it reaches the file;
// a file truncated while mapped would raise SIGBUS on access, so the files
// mapped here are written to a temporary name and renamed (never rewritten in
// place): scripts/bundle-cli.mjs and code-cache.ts's writeCache.
#include <napi.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <v8-initialization.h>

#include <cerrno>
#include <string>

#include "addon.h"
#include "common.h"

// Node-API's external Latin-1 string (Node >= 20.4), declared by js_native_api.h
// only under NAPI_EXPERIMENTAL, which would change how the whole addon
// registers; the function itself is exported by every Node this addon builds for.
extern "C" napi_status node_api_create_external_string_latin1(napi_env env, char* str, size_t length, napi_finalize finalize_callback,
                                                              void* finalize_hint, napi_value* result, bool* copied);

namespace eucanet {

namespace {

void Unmap(napi_env /*env*/, void* data, void* hint) { munmap(data, reinterpret_cast<size_t>(hint)); }

void Check(Napi::Env env, napi_status status, const char* what) {
  if (status != napi_ok) throw Napi::Error::New(env, std::string("mapFile: ") + what + " failed (napi status " + std::to_string(status) + ")");
}

}  // namespace

// mapFile(fd, latin1): the regular file open as `fd`, mapped privately: as a
// Latin-1 string when `latin1`, else as an ArrayBuffer. Unmapped when V8
// collects the value. The fd may be closed once this returns.
Napi::Value MapFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsBoolean()) throw Napi::TypeError::New(env, "mapFile(fd: number, latin1: boolean)");
  const int fd = info[0].As<Napi::Number>().Int32Value();
  const bool latin1 = info[1].As<Napi::Boolean>().Value();
  struct stat st;
  if (fstat(fd, &st) < 0) ThrowErrno(env, errno, "fstat");
  if (!S_ISREG(st.st_mode)) ThrowErrno(env, EINVAL, "mapFile (not a regular file)");
  const size_t len = static_cast<size_t>(st.st_size);
  if (len == 0) return latin1 ? Napi::Value(Napi::String::New(env, "")) : Napi::Value(Napi::ArrayBuffer::New(env, 0));
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) ThrowErrno(env, errno, "mmap");
  void* hint = reinterpret_cast<void*>(len);
  napi_value result;
  napi_status status;
  if (latin1) {
    bool copied = false;
    // When Node copies instead (it may, for a short string) it has already called Unmap.
    status = node_api_create_external_string_latin1(env, static_cast<char*>(p), len, Unmap, hint, &result, &copied);
  } else {
    status = napi_create_external_arraybuffer(env, p, len, Unmap, hint, &result);
  }
  if (status != napi_ok) {
    munmap(p, len);
    Check(env, status, latin1 ? "node_api_create_external_string_latin1" : "napi_create_external_arraybuffer");
  }
  return Napi::Value(env, result);
}

// setV8Flags(flags): V8's flags from a string, as node:v8's setFlagsFromString
// does, without loading that module (about 115 fresh pages and 5 ms of a cold
// command here).
Napi::Value SetV8Flags(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(info.Env(), "setV8Flags(flags: string)");
  const std::string flags = info[0].As<Napi::String>().Utf8Value();
  v8::V8::SetFlagsFromString(flags.data(), flags.size());
  return info.Env().Undefined();
}

}  // namespace eucanet
