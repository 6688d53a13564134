// One test per transcript in cases/: replayed whole, cut in two at every offset, one byte at
// a time and cut in three at sampled offsets; every replay must give the transcript's events
// and output records exactly.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "replay.hpp"
#include "transcript.hpp"

namespace fcgi::conformance {
namespace {

std::vector<std::string> case_files() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(FCGI_CONFORMANCE_CASES_DIR)) {
    if (entry.is_regular_file() && entry.path().extension() == ".txt") {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

class transcript_case : public ::testing::TestWithParam<std::string> {};

TEST_P(transcript_case, replays_identically_at_every_split) {
  transcript t;
  try {
    t = load_transcript(GetParam());
  } catch (const transcript_error& e) {
    FAIL() << e.what();
  }
  const std::string header = t.name + "\n  intent: " + t.intent + "\n";
  const std::vector<split_plan> plans = plans_for(t);
  // The whole-input replay first: when it fails, the split replays only repeat it.
  if (auto problem = replay(t, plans.front())) {
    FAIL() << header << "  with the " << plans.front().describe() << ", " << *problem;
  }
  std::size_t failures = 0;
  std::string first_failure;
  for (std::size_t i = 1; i < plans.size(); ++i) {
    if (auto problem = replay(t, plans[i])) {
      if (failures++ == 0) first_failure = "with the " + plans[i].describe() + ", " + *problem;
    }
  }
  EXPECT_EQ(failures, 0U) << header << "  " << failures << " of " << plans.size()
                          << " replays differ; the first: " << first_failure;
}

std::string case_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string stem = std::filesystem::path(info.param).stem().string();
  std::replace_if(
      stem.begin(), stem.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); },
      '_');
  return stem;
}

INSTANTIATE_TEST_SUITE_P(cases, transcript_case, ::testing::ValuesIn(case_files()), case_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(transcript_case);

}  // namespace
}  // namespace fcgi::conformance
