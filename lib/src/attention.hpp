// What every attention algorithm shares: which keys row i attends, and the rows that have no
// value because an input they read is not finite (DESIGN.md §2 gives no limit for them: NaN).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "special.hpp"

namespace softcert::lib {

// Causal masking is top-left aligned: row i attends keys j <= i.
inline std::size_t attended_keys(std::size_t i, std::size_t lk, bool causal) {
  return causal ? std::min(i + 1, lk) : lk;
}

// Whether query row i and every key and value it attends are finite; if not, the row is NaN.
template <typename T>
bool attention_inputs_finite(const T* q, const T* k, const T* v, std::size_t i, std::size_t keys,
                             std::size_t d, std::size_t dv) {
  auto finite = [](const T* p, std::size_t count) {
    return std::all_of(p, p + count, [](T x) { return std::isfinite(x); });
  };
  return finite(q + i * d, d) && finite(k, keys * d) && finite(v, keys * dv);
}

// Calls row(i, keys, out_row) for every query row whose inputs are finite; writes NaN rows
// for the others.
template <typename T, typename Row>
void for_each_attention_row(const T* q, const T* k, const T* v, T* out, std::size_t lq, std::size_t lk,
                            std::size_t d, std::size_t dv, bool causal, Row row) {
  for (std::size_t i = 0; i < lq; ++i) {
    const std::size_t keys = attended_keys(i, lk, causal);
    T* o = out + i * dv;
    if (!attention_inputs_finite(q, k, v, i, keys, d, dv)) std::fill(o, o + dv, kNaN<T>);
    else row(i, keys, o);
  }
}

}  // namespace softcert::lib
