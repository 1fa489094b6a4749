// Running a property outside RapidCheck's test runner: on inputs drawn deterministically from a
// seed (the certifier and the broken-implementation tests), or on one given input (the fuzzers).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "softcert/properties/catalogue.hpp"

namespace softcert::properties {

struct Finding {
  std::string property;
  std::string detail;   // the Verdict's detail: inputs as hex floats, expected vs got, bound
  std::uint64_t seed;   // find_failure(property, impl, profile, tries, seed) finds it again
  std::size_t attempt;  // which draw failed
};

struct SearchResult {
  std::optional<Finding> failure;
  std::size_t passed = 0;
  std::size_t skipped = 0;
};

// Runs `property` on `tries` inputs drawn from gen::input(property.info.input) with `seed`;
// stops at the first failure.
template <typename T>
SearchResult search(const Property<T>& property, const Implementation& impl, Profile profile, std::size_t tries,
                    std::uint64_t seed);

}  // namespace softcert::properties
