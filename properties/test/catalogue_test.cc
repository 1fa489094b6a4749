// The property catalogue under RapidCheck, over every lib algorithm in f32 and f64, in the strict
// profile (lib promises the mathematical limits). A failure prints the shrunk input as hex floats
// and RapidCheck's RC_PARAMS="reproduce=..." line that replays it.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <map>
#include <cstdlib>
#include <fstream>
#include <set>

#include "softcert/properties/catalogue.hpp"
#include "softcert/properties/generators.hpp"

namespace softcert::properties {

// How RapidCheck prints a counterexample.
template <typename T>
void showValue(const Input<T>& in, std::ostream& os) {
  os << describe(in);
}

namespace {

// Classes that must occur among the generated rows of a kind, or the run proves too little.
std::set<std::string> required_classes(InputKind kind) {
  if (kind == InputKind::any_row) return {"nan", "+inf", "-inf", "all -inf", "subnormal", "n=1", "-0"};
  if (kind == InputKind::finite_row) return {"n=1", "n > 16", "ties at max", "huge offset", "spread > 88", "subnormal"};
  return {};
}

template <typename T>
void check_catalogue(const Implementation& impl) {
  for (const Property<T>& property : catalogue<T>()) {
    std::map<std::string, int> seen;
    std::size_t checked = 0;
    const bool ok = rc::check(kernel_id<T>(impl, Function::softmax) + " " + property.info.name, [&] {
      const Input<T> in = *gen::input<T>(property.info.input);
      for (const std::string& c : gen::classify(in.z)) ++seen[c];
      const Verdict v = property.check(impl, in, Profile::strict);
      RC_CLASSIFY(v.status == Verdict::Status::skip, "skipped");
      if (v.failed()) RC_FAIL(property.info.name + ": " + v.detail);
      checked += v.status == Verdict::Status::pass;
    });
    EXPECT_TRUE(ok) << impl.name << " fails " << property.info.name;
    if (!ok) continue;  // a run cut short by a failure saw few rows: its classes say nothing
    for (const std::string& c : required_classes(property.info.input)) {
      EXPECT_GT(seen[c], 0) << property.info.name << ": no generated row was '" << c << "'";
    }
    // A property that never ran on this implementation proved nothing; only the functions it
    // does not provide excuse that.
    if (checked == 0) {
      std::cout << impl.name << " " << dtype_name<T>() << ": " << property.info.name << " skipped every case\n";
    }
  }
}

class Catalogue : public ::testing::TestWithParam<std::string> {};

TEST_P(Catalogue, F32) { check_catalogue<float>(*find_builtin(GetParam())); }
TEST_P(Catalogue, F64) { check_catalogue<double>(*find_builtin(GetParam())); }

INSTANTIATE_TEST_SUITE_P(Lib, Catalogue, ::testing::Values("stable", "online", "accurate", "simd"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace softcert::properties

namespace softcert::properties {
namespace {

std::string_view kind_name(InputKind k) {
  switch (k) {
    case InputKind::finite_row: return "finite rows (every finite regime)";
    case InputKind::any_row: return "rows of any encodings (NaN, ±inf, subnormals, fully masked)";
    case InputKind::masked_row: return "finite rows with a mask";
    case InputKind::pair: return "pairs of finite logits";
    case InputKind::batch: return "batches of 2-5 rows";
    case InputKind::attention: return "attention problems (lq ≤ 6, lk ≤ 10, d ≤ 8, dv ≤ 5)";
  }
  return "?";
}

// Every property has a unique name and a claim; with SOFTCERT_PROPERTIES_DOC=path set, the
// catalogue is written there as the table of docs/properties.md.
TEST(CatalogueDoc, NamesAreUniqueAndEveryPropertyStatesItsClaim) {
  std::set<std::string> names;
  std::string table = "| property | the claim it checks | inputs |\n|---|---|---|\n";
  for (const Property<float>& p : catalogue<float>()) {
    EXPECT_TRUE(names.insert(p.info.name).second) << "duplicate property " << p.info.name;
    EXPECT_FALSE(p.info.claim.empty()) << p.info.name;
    EXPECT_NE(find_property<double>(p.info.name), nullptr) << p.info.name << " missing in f64";
    table += "| `" + p.info.name + "` | " + p.info.claim + " | " + std::string(kind_name(p.info.input)) + " |\n";
  }
  EXPECT_EQ(catalogue<float>().size(), catalogue<double>().size());
  if (const char* path = std::getenv("SOFTCERT_PROPERTIES_DOC")) std::ofstream(path) << table;
}

}  // namespace
}  // namespace softcert::properties
