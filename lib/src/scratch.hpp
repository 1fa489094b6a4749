// The per-thread scratch row of simd's kernels (simd.cc, simd_f64.cc): pass 2 keeps there what
// pass 3 needs (the lo parts of the terms, or the terms themselves) while a row's worth fits in
// the last-level cache: reading them back is cheaper than recomputing them; beyond, reading them
// from memory costs about what recomputing does.
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace softcert::lib {

inline constexpr std::size_t kScratchBytes = std::size_t(1) << 24;

// This thread's scratch row of n T, or null (recompute) when the row is large or memory short.
template <class T>
T* scratch(std::size_t n) {
  thread_local std::vector<T> row;
  if (n > kScratchBytes / sizeof(T)) return nullptr;
  try {
    if (row.size() < n) row.resize(n);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
  return row.data();
}

}  // namespace softcert::lib
