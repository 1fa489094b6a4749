// RapidCheck generators for logits. RapidCheck's own floating-point generator never yields NaN,
// ±inf, subnormals or a chosen-sign zero (emil-e/rapidcheck#139), so these are built over bit
// patterns, a list of special values (the exp overflow/underflow thresholds ±1 ULP among them),
// and the named regimes of regimes.hpp. Every generator shrinks towards small, readable rows:
// fewer entries, and each entry towards 0, ±1, small integers, fewer significand bits.
#pragma once

#include <rapidcheck.h>

#include <string>
#include <vector>

#include "softcert/properties/catalogue.hpp"
#include "softcert/properties/regimes.hpp"

namespace softcert::properties::gen {

// ±0, ±denorm_min, ±largest subnormal, ±min normal, ±1, ±max, ±inf, quiet NaN, NaN with a
// payload, and log(max), log(min normal), log(denorm_min) (where exp overflows, leaves the
// normal range, underflows to zero) each ±1 ULP.
template <typename T>
const std::vector<T>& special_values();

// Any encoding of T, uniform over bit patterns (NaN payloads, infinities, subnormals, both zeros).
template <typename T>
rc::Gen<T> any_encoding();

// A finite logit: mostly ordinary magnitudes, sometimes special finite values or any finite
// encoding.
template <typename T>
rc::Gen<T> finite_logit();

// Any logit: finite_logit, special values (NaN and ±inf included) and any encoding.
template <typename T>
rc::Gen<T> logit();

// A row of `regime` (regimes.hpp); n as the regime says.
template <typename T>
rc::Gen<std::vector<T>> row(Regime regime);

// A row of finite logits, n in [1, max_n].
template <typename T>
rc::Gen<std::vector<T>> finite_row(std::size_t max_n = 67);

// A row of any logits (NaN, ±inf included), n in [1, max_n].
template <typename T>
rc::Gen<std::vector<T>> any_row(std::size_t max_n = 67);

// An input of the kind a property asks for (catalogue.hpp): rows drawn from the regimes and
// from logit(), with the label, shift, temperature, mask, upstream gradient or attention
// problem filled in; shrinks towards small readable problems.
template <typename T>
rc::Gen<Input<T>> input(InputKind kind);

// The classes a row belongs to, for RC_CLASSIFY and for failing a run in which a required
// class never occurred: "nan", "+inf", "-inf", "all -inf", "subnormal", "-0", "n=1",
// "ties at max", "huge offset", "spread > 88", "n > 16".
template <typename T>
std::vector<std::string> classify(const std::vector<T>& row);

}  // namespace softcert::properties::gen
