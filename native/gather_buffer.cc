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

namespace {

// Replies handed to JavaScript that it has let go of, kept for later replies.
constexpr size_t kReplyPoolBuffers = 8;
constexpr size_t kReplyPoolMaxBytes = 16 * 1024 * 1024;

struct ReplyPool {
  std::mutex mu;
  std::vector<std::vector<uint8_t>> kept;
  size_t bytes = 0;
};

// Never destroyed: a reply's finalizer may run as the process ends, after
// static destructors would have run.
ReplyPool& Replies() {
  static ReplyPool* pool = new ReplyPool;
  return *pool;
}

}  // namespace

std::vector<uint8_t> ReplyCopy(const std::vector<uint8_t>& from) {
  const size_t n = from.size();
  if (n >= kPrefaultMinBytes) {
    ReplyPool& pool = Replies();
    std::unique_lock<std::mutex> lock(pool.mu);
    // The smallest kept buffer with room for the reply, and not more than
    // twice its size: a small reply does not hold on to a big buffer.
    size_t best = pool.kept.size();
    for (size_t k = 0; k < pool.kept.size(); ++k) {
      size_t cap = pool.kept[k].capacity();
      if (cap >= n && cap <= 2 * n && (best == pool.kept.size() || cap < pool.kept[best].capacity())) best = k;
    }
    if (best < pool.kept.size()) {
      std::vector<uint8_t> v = std::move(pool.kept[best]);
      pool.kept[best] = std::move(pool.kept.back());
      pool.kept.pop_back();
      pool.bytes -= v.capacity();
      lock.unlock();
      v.assign(from.begin(), from.end());
      return v;
    }
  }
  return PrefaultedCopy(from, n);
}

void GiveBackReply(std::vector<uint8_t>&& v) {
  const size_t cap = v.capacity();
  if (cap < kPrefaultMinBytes) return;
  ReplyPool& pool = Replies();
  std::lock_guard<std::mutex> lock(pool.mu);
  if (pool.kept.size() >= kReplyPoolBuffers || pool.bytes + cap > kReplyPoolMaxBytes) return;
  v.clear();
  pool.bytes += cap;
  pool.kept.push_back(std::move(v));
}

void ReplyPoolSize(size_t* buffers, size_t* bytes) {
  ReplyPool& pool = Replies();
  std::lock_guard<std::mutex> lock(pool.mu);
  *buffers = pool.kept.size();
  *bytes = pool.bytes;
}

void Append(std::vector<uint8_t>& out, const uint8_t* p, size_t len) {
  size_t need = out.size() + len;
  if (need > out.capacity()) out = PrefaultedCopy(out, std::max({need, out.capacity() * 2, kPrefaultMinBytes}));
  out.insert(out.end(), p, p + len);
}

}  // namespace eucanet
