// The fuzzers' shared part: bytes -> Input<T> (raw bit patterns, so every encoding is reachable)
// and the loop that checks catalogue properties on one input and aborts on a failure.
//
// Byte layout (little-endian throughout):
//   [0]      flags: bit 0 f64 (else f32); bit 1 causal (attention); bit 2 attention layout (for
//            targets that take both, see attention_flag); bits 4-5 rows - 1 for the batch
//            properties (ignored when it does not divide the row)
//   [1..2]   label (u16, taken modulo n)
//   [3..]    t  (one T, raw bits; made positive and finite, 1 if it is NaN, inf or 0)
//            c  (one T, raw bits; a shift, 0 if it is not finite)
//   attention only: 4 bytes lq-1 (mod 6), lk-1 (mod 10), d-1 (mod 8), dv-1 (mod 5), then
//            q, k, v as raw T (missing values are 0)
//   others:  the rest, element-wise interleaved per entry i: z_i (T), dy_i (T, when the target
//            wants an upstream gradient), keep_i (1 byte, bit 0, when the target wants a mask);
//            n = what fits, 1..4096 (an input too short for one entry is rejected)
// FuzzedDataProvider's floats cannot carry arbitrary bit patterns (STYLE.md, fuzzing), so every
// float here is a memcpy of the bytes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "softcert/implementation.hpp"
#include "softcert/properties/catalogue.hpp"

namespace softcert::fuzz {

using properties::Input;
using properties::InputKind;
using properties::Profile;
using properties::Property;

inline constexpr std::size_t kMaxN = 4096;
// The oracle is exact and slow: oracle agreement runs only on rows this short.
inline constexpr std::size_t kMaxOracleN = 64;

// What a target decodes besides the logits.
struct Layout {
  bool dy = false;         // an upstream gradient per entry
  bool keep = false;       // a mask byte per entry
  bool attention = false;  // q, k, v and sizes instead of a row
};

class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : p_(data), left_(size) {}
  std::size_t left() const { return left_; }
  std::uint8_t byte() {
    if (left_ == 0) return 0;
    --left_;
    return *p_++;
  }
  template <typename T>
  T value() {  // raw bits; zero-filled past the end
    unsigned char b[sizeof(T)] = {};
    const std::size_t k = std::min(left_, sizeof(T));
    std::memcpy(b, p_, k);
    p_ += k, left_ -= k;
    T x;
    std::memcpy(&x, b, sizeof(T));
    return x;
  }

 private:
  const std::uint8_t* p_;
  std::size_t left_;
};

inline bool is_f64(const std::uint8_t* data, std::size_t size) { return size > 0 && (data[0] & 1); }
// For a target that takes rows and attention alike (plugin): flags bit 2 picks attention.
inline bool attention_flag(const std::uint8_t* data, std::size_t size) { return size > 0 && (data[0] & 4); }

template <typename T>
std::optional<Input<T>> decode(const std::uint8_t* data, std::size_t size, Layout layout) {
  Bytes b(data, size);
  if (b.left() < 3) return std::nullopt;
  const std::uint8_t flags = b.byte();
  const unsigned label = b.byte() | (unsigned(b.byte()) << 8);
  Input<T> in;
  in.t = std::fabs(b.value<T>());
  if (!(std::isfinite(in.t) && in.t > 0)) in.t = 1;
  in.c = b.value<T>();
  if (!std::isfinite(in.c)) in.c = 0;
  in.causal = (flags & 2) != 0;
  if (layout.attention) {
    in.lq = 1 + b.byte() % 6, in.lk = 1 + b.byte() % 10, in.d = 1 + b.byte() % 8, in.dv = 1 + b.byte() % 5;
    for (auto [vec, count] : {std::pair{&in.q, in.lq * in.d}, {&in.k, in.lk * in.d}, {&in.v, in.lk * in.dv}}) {
      for (std::size_t i = 0; i < count; ++i) vec->push_back(b.value<T>());
    }
    return in;
  }
  const std::size_t per = sizeof(T) * (layout.dy ? 2 : 1) + (layout.keep ? 1 : 0);
  const std::size_t n = std::min(b.left() / per, kMaxN);
  if (n == 0) return std::nullopt;
  for (std::size_t i = 0; i < n; ++i) {
    in.z.push_back(b.value<T>());
    if (layout.dy) in.dy.push_back(b.value<T>());
    if (layout.keep) in.keep.push_back(b.byte() & 1);
  }
  const std::size_t rows = 1 + ((flags >> 4) & 3);
  in.rows = n % rows == 0 && n / rows >= 1 ? rows : 1;
  in.labels.clear();
  for (std::size_t r = 0; r < in.rows; ++r) in.labels.push_back(static_cast<std::int64_t>((label + r) % in.n()));
  return in;
}

template <typename T>
bool all_finite(const std::vector<T>& v) {
  return std::all_of(v.begin(), v.end(), [](T x) { return std::isfinite(x); });
}

inline bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The input `property` gets, shaped as its InputKind asks; nullopt when this input is outside
// the kind (non-finite logits for a finite kind, a row too long for the oracle, ...).
template <typename T>
std::optional<Input<T>> shape_for(const Property<T>& property, const Input<T>& in) {
  const InputKind kind = property.info.input;
  if (kind == InputKind::attention) {  // finite q, k, v (the attention properties' domain)
    // The attention properties' domain is finite q, k, v (non-finite rows are NaN by definition).
    if (in.lq == 0 || !(all_finite(in.q) && all_finite(in.k) && all_finite(in.v))) return std::nullopt;
    return in;
  }
  if (in.lq > 0) return std::nullopt;
  Input<T> one = in;
  if (kind != InputKind::batch) {  // one row: the first
    const std::size_t n = in.n();
    one.rows = 1;
    one.z.resize(n);
    if (!one.keep.empty()) one.keep.resize(n);
    if (!one.dy.empty()) one.dy.resize(n);
    one.labels.resize(1);
  } else if (in.rows < 2) {
    return std::nullopt;
  }
  if (kind == InputKind::pair) {
    if (one.z.size() < 2) return std::nullopt;
    one.z.resize(2), one.keep.clear(), one.dy.clear(), one.labels = {0};
  }
  if (kind != InputKind::any_row && !(all_finite(one.z) && all_finite(one.dy))) return std::nullopt;
  if (kind != InputKind::masked_row && kind != InputKind::any_row) one.keep.clear();
  if (ends_with(property.info.name, ".oracle_agreement") && one.z.size() > kMaxOracleN) return std::nullopt;
  return one;
}

[[noreturn]] inline void report_and_abort(std::string_view property, const Implementation& impl, std::string_view dtype,
                                          Profile profile, const std::string& detail, const std::string& input) {
  std::fprintf(stderr, "\nsoftcert fuzz: FAILED %.*s on %s %.*s (profile %s)\n  %s\n  input: %s\n",
               int(property.size()), property.data(), impl.name.c_str(), int(dtype.size()), dtype.data(),
               profile == Profile::strict ? "strict" : "compatible", detail.c_str(), input.c_str());
  std::fflush(stderr);
  std::abort();
}

// Runs every catalogue property whose name starts with one of `prefixes` on `in` (shaped per
// property); aborts on the first failure, printing the property and the input in hex floats.
template <typename T>
void check_properties(const Implementation& impl, const Input<T>& in, Profile profile,
                      std::initializer_list<std::string_view> prefixes, std::string_view suffix = {}) {
  for (const Property<T>& p : properties::catalogue<T>()) {
    const std::string& name = p.info.name;
    if (std::none_of(prefixes.begin(), prefixes.end(), [&](std::string_view pre) { return name.starts_with(pre); })) continue;
    if (!suffix.empty() && !ends_with(name, suffix)) continue;
    const std::optional<Input<T>> shaped = shape_for(p, in);
    if (!shaped) continue;
    properties::Verdict v;
    try {
      v = p.check(impl, *shaped, profile);
    } catch (const std::exception& e) {
      report_and_abort(name, impl, dtype_name<T>(), profile, std::string("threw: ") + e.what(),
                       properties::describe(*shaped));
    }
    if (v.failed()) report_and_abort(name, impl, dtype_name<T>(), profile, v.detail, properties::describe(*shaped));
  }
}

// The body of a target that checks `prefixes` on every builtin of lib (strict profile).
template <typename T>
void check_builtins(const Input<T>& in, std::initializer_list<std::string_view> prefixes, std::string_view suffix = {}) {
  for (const Implementation& impl : builtin_implementations()) check_properties(impl, in, Profile::strict, prefixes, suffix);
}

// Decodes as f32 or f64 (flag bit 0) and hands the input to body.template operator()<T>.
template <typename Body>
int dispatch(const std::uint8_t* data, std::size_t size, Layout layout, Body body) {
  if (is_f64(data, size)) {
    if (auto in = decode<double>(data, size, layout)) body(*in);
  } else {
    if (auto in = decode<float>(data, size, layout)) body(*in);
  }
  return 0;
}

}  // namespace softcert::fuzz
