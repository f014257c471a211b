// Where an exchange gathers the kernel's replies (netlink_socket.cc).
//
// The replies are gathered in a buffer taken from a small pool kept from one
// exchange to the next, and copied once, at their exact size, into the
// buffer handed to JavaScript. Gathered straight into a fresh vector, a dump
// of a thousand links (1.5 MB) grew it by doubling: each step a new
// allocation whose pages the kernel had to fault in, and a copy of all so
// far. The pool holds at most two buffers of at most 16 MB: what it keeps
// resident is bounded, and an exchange that finds it empty (a third at the
// same time) gathers into a fresh vector as before.
//
// Their room is made resident in one system call before it is written
// (Prefault, gather_buffer.cc) rather than faulted in page by page.
//
// The copy handed to JavaScript goes, when one fits, into the buffer of an
// earlier reply that JavaScript has let go of (its Buffer's finalizer gives
// it back): a fresh one, allocated on a libuv thread and freed on the
// JavaScript thread, went back to the system each time (glibc's per-thread
// arenas trim their top, and a big block is mmap'd and unmapped), and was
// made resident again by the next dump (a re-apply's link dump at 1000 taps:
// 1.5 MB, about 370 pages, each time). At most 8 buffers, 16 MB, are kept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace eucanet {

// A buffer from the pool (empty, with its room), or an empty vector.
std::vector<uint8_t> TakeGatherBuffer();
// Keeps `v` for a later exchange, if the pool has room and `v` is not too big.
void GiveBackGatherBuffer(std::vector<uint8_t>&& v);
// A vector of `cap` bytes' room holding a copy of `from`, its room prefaulted
// before the copy writes it.
std::vector<uint8_t> PrefaultedCopy(const std::vector<uint8_t>& from, size_t cap);
// A copy of a whole reply, at its size, for JavaScript: made in a buffer that
// an earlier reply held until JavaScript let go of it (GiveBackReply), when
// one fits, else in fresh prefaulted room.
std::vector<uint8_t> ReplyCopy(const std::vector<uint8_t>& from);
// Keeps the buffer of a reply JavaScript has let go of, for ReplyCopy; a
// small one, or one past the pool's bounds, is freed.
void GiveBackReply(std::vector<uint8_t>&& v);
// How many reply buffers the pool keeps now, and their room in bytes.
void ReplyPoolSize(size_t* buffers, size_t* bytes);
// Appends [p, p + len) to `out`, growing it by doubling into prefaulted room.
void Append(std::vector<uint8_t>& out, const uint8_t* p, size_t len);

}  // namespace eucanet
