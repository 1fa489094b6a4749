// fuzz_campaign.hpp: one libFuzzer process (-fork over the jobs), new inputs into a scratch
// folder so that the committed corpus is never written, its log read for the verdict.
#include "fuzz_campaign.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

#include <fmt/format.h>

extern char** environ;

namespace softcert::certify {

Check run_fuzz_campaign(const std::string& plugin, const FuzzCampaign& campaign) {
  namespace fs = std::filesystem;
  Check c{"kernel", "f32", "fuzz/plugin_campaign"};
  if (plugin.empty()) {
    c.status = "skipped", c.reason = "the fuzz campaign runs on --plugin targets";
    return c;
  }
  if (campaign.fuzzer.empty() || !fs::exists(campaign.fuzzer)) {
    c.status = "skipped";
    c.reason = "no libFuzzer plugin target: build it with `cmake --preset fuzz && cmake --build --preset fuzz` and give "
               "--fuzzer build/fuzz/fuzz/softcert_fuzz_plugin";
    return c;
  }
  std::error_code ec;
  const fs::path work = fs::temp_directory_path() / fmt::format("softcert-deep-{}", ::getpid());
  fs::create_directories(work / "new", ec);
  const fs::path log = work / "fuzz.log";
  std::vector<std::string> args = {campaign.fuzzer,
                                   fmt::format("-max_total_time={}", campaign.seconds),
                                   "-timeout=10",
                                   "-rss_limit_mb=4096",
                                   fmt::format("-artifact_prefix={}/", work.string()),
                                   "-print_final_stats=1"};
  if (campaign.jobs > 1) args.push_back(fmt::format("-fork={}", campaign.jobs));
  if (!campaign.dict.empty() && fs::exists(campaign.dict)) args.push_back("-dict=" + campaign.dict);
  args.push_back((work / "new").string());
  if (!campaign.corpus.empty() && fs::exists(campaign.corpus)) args.push_back(campaign.corpus);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = {"SOFTCERT_FUZZ_PLUGIN=" + fs::absolute(plugin).string()};
  for (char** e = environ; *e; ++e) {
    if (std::string_view(*e).rfind("SOFTCERT_FUZZ_PLUGIN=", 0) != 0) env_strings.emplace_back(*e);
  }
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, campaign.fuzzer.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    c.status = "skipped", c.reason = fmt::format("cannot run {}: {}", campaign.fuzzer, std::strerror(rc));
    return c;
  }
  int status = 0;
  waitpid(pid, &status, 0);

  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  const std::string out = text.str();
  std::smatch m;
  std::string crash;
  for (const auto& entry : fs::directory_iterator(work, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("crash-", 0) == 0 || name.rfind("timeout-", 0) == 0 || name.rfind("oom-", 0) == 0) {
      const fs::path kept = fs::temp_directory_path() / fmt::format("softcert-deep-{}-{}", ::getpid(), name);
      fs::copy_file(entry.path(), kept, fs::copy_options::overwrite_existing, ec);
      crash = kept.string();
      break;
    }
  }
  std::smatch runs;
  std::regex_search(out, runs, std::regex(R"(stat::number_of_executed_units:\s*(\d+))"));
  c.cases = runs.size() > 1 ? std::stoull(runs[1]) : 0;
  if (!crash.empty() || (WIFEXITED(status) && WEXITSTATUS(status) != 0) || WIFSIGNALED(status)) {
    c.status = "fail";
    if (std::regex_search(out, m, std::regex(R"(softcert fuzz: FAILED ([^\n]*)\n\s*([^\n]*)\n\s*input: ([^\n]*))"))) {
      c.reason = "the fuzz campaign found a failing input: " + m[1].str() + ": " + m[2].str();
      c.counterexample = m[3].str();
    } else if (std::regex_search(out, m, std::regex(R"((ERROR: [^\n]*))"))) {
      c.reason = "the fuzz campaign crashed the plugin: " + m[1].str();
    } else {
      c.reason = "the fuzz campaign ended abnormally (log " + log.string() + ")";
    }
    if (!crash.empty()) {
      c.counterexample += fmt::format("{}rerun: SOFTCERT_FUZZ_PLUGIN={} {} {}", c.counterexample.empty() ? "" : "; ",
                                      fs::absolute(plugin).string(), campaign.fuzzer, crash);
    }
    return c;  // the work folder (log, inputs) stays for whoever investigates
  }
  c.status = "pass";
  c.reason = fmt::format("{} inputs in {} s, no failure", c.cases, campaign.seconds);
  fs::remove_all(work, ec);
  return c;
}

}  // namespace softcert::certify
