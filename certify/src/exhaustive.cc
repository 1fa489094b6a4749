// The exhaustive battery (exhaustive.hpp): 4,096 chunks of 2^20 consecutive bit patterns, each
// a kernel call and one exact value per input (the oracle's fast path, MPFR where it cannot
// decide), spread over the jobs; a state file lists finished chunks with their results.
#include "exhaustive.hpp"

#include <fmt/format.h>

#include <atomic>
#include <bit>
#include <cmath>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "softcert/bounds.hpp"
#include "softcert/fast_oracle.hpp"
#include "softcert/oracle.hpp"

namespace softcert::certify {
namespace {

constexpr std::uint64_t kChunk = std::uint64_t(1) << 20;
constexpr std::size_t kChunks = std::size_t((std::uint64_t(1) << 32) / kChunk);
constexpr std::size_t kListed = 32;

// What one chunk found.
struct ChunkResult {
  double max_ulp = 0, max_ulp_normal = 0;
  std::uint64_t over = 0, slow = 0, declined = 0;
  std::vector<std::uint32_t> over_inputs;  // the first kListed, as bit patterns

  void merge(const ChunkResult& o) {
    max_ulp = std::max(max_ulp, o.max_ulp), max_ulp_normal = std::max(max_ulp_normal, o.max_ulp_normal);
    over += o.over, slow += o.slow, declined += o.declined;
    for (std::uint32_t b : o.over_inputs) if (over_inputs.size() < kListed) over_inputs.push_back(b);
  }
  std::string line(std::size_t chunk) const {
    std::string s = fmt::format("{} {} {} {} {} {}", chunk, max_ulp, max_ulp_normal, over, slow, declined);
    for (std::uint32_t b : over_inputs) s += fmt::format(" {:08x}", b);
    return s;
  }
  static std::optional<std::pair<std::size_t, ChunkResult>> parse(const std::string& text) {
    std::istringstream in(text);
    std::size_t chunk;
    ChunkResult r;
    if (!(in >> chunk >> r.max_ulp >> r.max_ulp_normal >> r.over >> r.slow >> r.declined) || chunk >= kChunks) return std::nullopt;
    std::string hex;
    while (in >> hex) r.over_inputs.push_back(static_cast<std::uint32_t>(std::stoul(hex, nullptr, 16)));
    return std::make_pair(chunk, r);
  }
};

ChunkResult sigmoid_chunk(const Implementation& impl, std::size_t chunk) {
  ChunkResult r;
  std::vector<float> x(kChunk), y(kChunk);
  for (std::uint64_t i = 0; i < kChunk; ++i) x[i] = std::bit_cast<float>(static_cast<std::uint32_t>(chunk * kChunk + i));
  if (impl.f32.sigmoid(x.data(), y.data(), kChunk) != SOFTCERT_OK) {
    r.declined = kChunk;
    return r;
  }
  for (std::uint64_t i = 0; i < kChunk; ++i) {
    std::optional<oracle::Exact<float>> e = oracle::sigmoid_fast(x[i]);
    if (!e) e = oracle::sigmoid<float>(x[i]), ++r.slow;
    const double err = oracle::ulp_error(y[i], *e);
    r.max_ulp = std::max(r.max_ulp, err);
    if (std::isfinite(e->value) && (e->value == 0 || e->value >= std::numeric_limits<float>::min())) {
      r.max_ulp_normal = std::max(r.max_ulp_normal, err);
    }
    const double bound = oracle::sigmoid_bound<float>(x[i], *e, oracle::BoundModel{});
    if (!oracle::within_bound(y[i], *e, bound)) {
      ++r.over;
      if (r.over_inputs.size() < kListed) r.over_inputs.push_back(std::bit_cast<std::uint32_t>(x[i]));
    }
  }
  return r;
}

}  // namespace

Report run_exhaustive(const Implementation& impl, const ExhaustiveOptions& options,
                      const std::function<void(std::size_t, std::size_t)>& progress) {
  Report report{impl.name, "exhaustive", 0, "compatible", fmt::format("{}/{}", options.shard, options.shards), {}};
  if (impl.f32.sigmoid == nullptr) {
    report.checks.push_back({"sigmoid", "f32", "exhaustive/all_f32_inputs", "skipped", "not provided by this implementation"});
    return report;
  }
  std::vector<std::size_t> mine;
  for (std::size_t c = options.shard - 1; c < kChunks; c += options.shards) mine.push_back(c);

  // Chunks a previous run finished (the state file), then the rest.
  std::map<std::size_t, ChunkResult> done;
  if (!options.state.empty()) {
    std::ifstream in(options.state);
    for (std::string line; std::getline(in, line);) {
      if (auto parsed = ChunkResult::parse(line)) done[parsed->first] = parsed->second;
    }
  }
  std::ofstream state;
  if (!options.state.empty()) {
    state.open(options.state, std::ios::app);
    if (!state) throw std::runtime_error("cannot write the state file " + options.state);
  }
  std::vector<std::size_t> todo;
  for (std::size_t c : mine) if (!done.count(c)) todo.push_back(c);
  std::mutex mutex;
  std::atomic<std::size_t> next{0};
  std::size_t finished = mine.size() - todo.size();
  std::string failure;
  auto worker = [&] {
    for (std::size_t i; (i = next++) < todo.size();) {
      ChunkResult r;
      try {
        r = sigmoid_chunk(impl, todo[i]);
      } catch (const properties::KernelMisbehaved& e) {  // a crash or hang of a --plugin / --exec target
        std::lock_guard lock(mutex);
        if (failure.empty()) failure = std::string("the kernel ") + e.what() + fmt::format(" (chunk {})", todo[i]);
        continue;
      }
      std::lock_guard lock(mutex);
      done[todo[i]] = r;
      if (state.is_open()) state << r.line(todo[i]) << '\n' << std::flush;
      if (progress) progress(++finished, mine.size());
    }
    oracle::release_thread_caches();
  };
  std::vector<std::thread> threads;
  for (unsigned j = 1; j < std::max(1u, options.jobs); ++j) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();

  ChunkResult total;
  std::uint64_t inputs = 0;
  for (std::size_t c : mine) {
    if (!done.count(c)) continue;
    total.merge(done[c]);
    inputs += kChunk;
  }
  Check c{"sigmoid", "f32", "exhaustive/all_f32_inputs"};
  c.cases = inputs;
  c.max_ulp = total.max_ulp;
  c.max_ulp_normal = total.max_ulp_normal;
  if (!failure.empty()) {
    c.status = "fail", c.reason = failure;
  } else if (total.declined == inputs) {
    c.status = "declined", c.reason = "every call declined";
  } else if (total.over > 0 || total.declined > 0) {
    c.status = "fail";
    c.reason = fmt::format("{} inputs beyond the a-priori error bound, {} declined", total.over, total.declined);
    std::string list;
    for (std::uint32_t b : total.over_inputs) list += fmt::format("{}{:a}", list.empty() ? "x = " : ", ", std::bit_cast<float>(b));
    c.counterexample = list + (total.over > total.over_inputs.size() ? ", ..." : "");
  } else {
    c.status = "pass";
    c.reason = fmt::format("{} inputs; {} decided by MPFR, the rest by the oracle's fast path", inputs, total.slow);
  }
  report.checks.push_back(std::move(c));
  return report;
}

}  // namespace softcert::certify
