#include "softcert/properties/search.hpp"

#include <rapidcheck.h>

#include <mutex>

#include "softcert/properties/generators.hpp"

namespace softcert::properties {

namespace {
// RapidCheck's generation context (gen::exec's implicit parameters) is process-wide: draws from
// several threads (the certifier's workers) take turns; the checks themselves run in parallel.
std::mutex generation;
}  // namespace

template <typename T>
SearchResult search(const Property<T>& property, const Implementation& impl, Profile profile, std::size_t tries,
                    std::uint64_t seed) {
  SearchResult result;
  const rc::Gen<Input<T>> gen = gen::input<T>(property.info.input);
  rc::Random random(seed);
  for (std::size_t i = 0; i < tries; ++i) {
    // Sizes sweep 0..100 as RapidCheck's own runner does: small problems first.
    const int size = static_cast<int>((i * rc::kNominalSize) / std::max<std::size_t>(tries, 1));
    Input<T> in;
    {
      std::lock_guard lock(generation);
      in = gen(random.split(), size).value();
    }
    const Verdict v = property.check(impl, in, profile);
    if (v.failed()) {
      result.failure = Finding{property.info.name, v.detail, seed, i};
      return result;
    }
    (v.status == Verdict::Status::skip ? result.skipped : result.passed)++;
  }
  return result;
}

template SearchResult search<float>(const Property<float>&, const Implementation&, Profile, std::size_t, std::uint64_t);
template SearchResult search<double>(const Property<double>&, const Implementation&, Profile, std::size_t, std::uint64_t);

}  // namespace softcert::properties
