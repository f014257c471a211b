#include "gather_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>

namespace eucanet {

namespace {

constexpr size_t kPoolBuffers = 2;
constexpr size_t kPoolMaxBytes = 16 * 1024 * 1024;

std::mutex& PoolMutex() {
  static std::mutex mu;
  return mu;
}

std::vector<std::vector<uint8_t>>& Pool() {
  static std::vector<std::vector<uint8_t>> pool;
  return pool;
}

// Below this, a gather buffer's room is left to fault in page by page.
constexpr size_t kPrefaultMinBytes = 64 * 1024;

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14 (asm-generic/mman-common.h)
#endif

// Makes the whole pages of [p, p + n) resident and writable in one system
// call. A gather buffer is written from its start to its end, so each of its
// fresh pages would otherwise be one page fault, and a fault costs tens of
// times more than a page populated in a batch (about 14 against 0.8 us on a
// virtual machine; README, "Where the time goes"). A kernel without
// MADV_POPULATE_WRITE refuses it (EINVAL): the pages then fault in as before.
void Prefault(uint8_t* p, size_t n) {
  if (n < kPrefaultMinBytes) return;
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + page - 1) & ~(page - 1);
  uintptr_t end = (reinterpret_cast<uintptr_t>(p) + n) & ~(page - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
}

}  // namespace

std::vector<uint8_t> TakeGatherBuffer() {
  std::lock_guard<std::mutex> lock(PoolMutex());
  auto& pool = Pool();
  if (pool.empty()) return {};
  std::vector<uint8_t> v = std::move(pool.back());
  pool.pop_back();
  return v;
}

void GiveBackGatherBuffer(std::vector<uint8_t>&& v) {
  if (v.capacity() == 0 || v.capacity() > kPoolMaxBytes) return;
  v.clear();
  std::lock_guard<std::mutex> lock(PoolMutex());
  if (Pool().size() < kPoolBuffers) Pool().push_back(std::move(v));
}

std::vector<uint8_t> PrefaultedCopy(const std::vector<uint8_t>& from, size_t cap) {
  std::vector<uint8_t> v;
  v.reserve(cap);
  Prefault(v.data(), v.capacity());
  v.assign(from.begin(), from.end());
  return v;
}

void Append(std::vector<uint8_t>& out, const uint8_t* p, size_t len) {
  size_t need = out.size() + len;
  if (need > out.capacity()) out = PrefaultedCopy(out, std::max({need, out.capacity() * 2, kPrefaultMinBytes}));
  out.insert(out.end(), p, p + len);
}

}  // namespace eucanet
