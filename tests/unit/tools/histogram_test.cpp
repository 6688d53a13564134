// latency_histogram: the relative-error bound, proven slot by slot and checked on data spread
// over the whole range; merging; exact mean, stddev, min and max.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "histogram.hpp"

namespace fcgi::bench {
namespace {

using histogram = latency_histogram;

/// The bound the header promises: half a sub-bucket, 1/256 of the value.
constexpr double promised_error = 1.0 / 256;

/// The nearest-rank percentile of sorted values, computed the slow, obvious way.
std::uint64_t exact_percentile(const std::vector<std::uint64_t>& sorted, double percent) {
  const auto rank = static_cast<std::size_t>(
      std::ceil(percent / 100.0 * static_cast<double>(sorted.size()) - 1e-9));
  return sorted[std::max<std::size_t>(rank, 1) - 1];
}

double relative_error(std::uint64_t got, std::uint64_t want) {
  return std::abs(static_cast<double>(got) - static_cast<double>(want)) / static_cast<double>(want);
}

TEST(histogram, empty_reports_zero) {
  const histogram h;
  EXPECT_EQ(h.count(), 0U);
  EXPECT_EQ(h.min(), 0U);
  EXPECT_EQ(h.max(), 0U);
  EXPECT_EQ(h.percentile(50), 0U);
  EXPECT_EQ(h.mean(), 0.0);
  EXPECT_EQ(h.stddev(), 0.0);
}

/// The smallest value whose slot is `index` or above (slots grow with values), by bisection.
std::uint64_t first_value_in_slot(std::size_t index) {
  std::uint64_t low = 0;
  std::uint64_t high = histogram::highest_trackable + 1;
  while (low < high) {
    const std::uint64_t middle = low + (high - low) / 2;
    if (histogram::index_of(middle) >= index) {
      high = middle;
    } else {
      low = middle + 1;
    }
  }
  return low;
}

TEST(histogram, every_slot_reports_within_the_bound) {
  // The proof over the whole index space: each slot's reported value is within 1/256 of
  // the lowest and of the highest value that land in it, so of any value that does.
  for (std::size_t index = 0; index < histogram::bucket_count; ++index) {
    const std::uint64_t lowest = first_value_in_slot(index);
    const std::uint64_t highest = index + 1 < histogram::bucket_count
                                      ? first_value_in_slot(index + 1) - 1
                                      : histogram::highest_trackable;
    ASSERT_LE(lowest, highest) << "slot " << index << " holds no value";
    ASSERT_EQ(histogram::index_of(lowest), index);
    ASSERT_EQ(histogram::index_of(highest), index);
    const std::uint64_t reported = histogram::value_of(index);
    ASSERT_GE(reported, lowest) << index;
    ASSERT_LE(reported, highest) << index;
    if (lowest == 0) continue;
    ASSERT_LE(relative_error(reported, lowest), promised_error) << index;
    ASSERT_LE(relative_error(reported, highest), promised_error) << index;
  }
}

TEST(histogram, values_below_256_ns_are_exact) {
  histogram h;
  for (std::uint64_t v = 1; v <= 250; ++v) h.record(v);
  EXPECT_EQ(h.percentile(50), 125U);
  // 99.6 % of 250 is rank 249 exactly: the rank must not round up to 250.
  EXPECT_EQ(h.percentile(99.6), 249U);
  EXPECT_EQ(h.percentile(100), 250U);
  EXPECT_EQ(h.min(), 1U);
}

TEST(histogram, percentiles_within_one_percent_from_1us_to_100s) {
  // Log-uniform values over the whole promised range, fixed seed.
  std::mt19937_64 generator(20240611);
  std::uniform_real_distribution<double> exponent(3.0, 11.0);  // 10^3 ns .. 10^11 ns
  std::vector<std::uint64_t> values;
  histogram h;
  for (int i = 0; i < 200'000; ++i) {
    const auto v = static_cast<std::uint64_t>(std::pow(10.0, exponent(generator)));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (const double p : {0.1, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    const std::uint64_t want = exact_percentile(values, p);
    EXPECT_LE(relative_error(h.percentile(p), want), 0.01) << "p" << p;
    EXPECT_LE(relative_error(h.percentile(p), want), promised_error) << "p" << p;
  }
  EXPECT_EQ(h.min(), values.front());
  EXPECT_EQ(h.max(), values.back());
  EXPECT_EQ(h.percentile(100), values.back());
}

TEST(histogram, percentiles_of_a_narrow_latency_band) {
  // What a benchmark sees: most values near 50 us, a tail to 20 ms.
  std::vector<std::uint64_t> values;
  histogram h;
  for (std::uint64_t i = 0; i < 10'000; ++i) {
    const std::uint64_t v = i % 1000 == 999 ? 20'000'000 - i : 50'000 + (i * 7919) % 3000;
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (const double p : {50.0, 90.0, 99.0, 99.9}) {
    EXPECT_LE(relative_error(h.percentile(p), exact_percentile(values, p)), 0.01) << "p" << p;
  }
}

TEST(histogram, merge_equals_recording_everything_in_one) {
  histogram all;
  histogram first;
  histogram second;
  for (std::uint64_t v = 1000; v < 2'000'000; v += 997) {
    all.record(v);
    (v % 3 == 0 ? first : second).record(v);
  }
  histogram merged;
  merged.merge(first);
  merged.merge(second);
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  EXPECT_DOUBLE_EQ(merged.mean(), all.mean());
  for (const double p : {1.0, 50.0, 99.0, 99.9}) EXPECT_EQ(merged.percentile(p), all.percentile(p));
}

TEST(histogram, merge_into_empty_keeps_the_minimum) {
  histogram empty;
  histogram some;
  some.record(5000);
  some.record(7000);
  empty.merge(some);
  EXPECT_EQ(empty.min(), 5000U);
  empty.merge(histogram{});
  EXPECT_EQ(empty.count(), 2U);
}

TEST(histogram, mean_and_stddev_are_exact) {
  histogram h;
  for (const std::uint64_t v : {2U, 4U, 4U, 4U, 5U, 5U, 7U, 9U}) h.record(v * 1'000'003);
  EXPECT_NEAR(h.mean(), 5 * 1'000'003.0, 1e-6);
  EXPECT_NEAR(h.stddev(), 2 * 1'000'003.0, 1e-3);
}

TEST(histogram, values_past_the_range_keep_an_exact_max) {
  histogram h;
  h.record(1'000);
  h.record(300'000'000'000);  // 300 s, past highest_trackable
  EXPECT_EQ(h.max(), 300'000'000'000U);
  EXPECT_EQ(h.percentile(100), 300'000'000'000U);
  EXPECT_LE(relative_error(h.percentile(50), 1'000), promised_error);
  EXPECT_EQ(histogram::index_of(300'000'000'000), histogram::bucket_count - 1);
}

TEST(histogram, percentiles_never_leave_min_and_max) {
  histogram h;
  h.record(1'000'001);
  h.record(1'000'002);
  EXPECT_GE(h.percentile(1), 1'000'001U);
  EXPECT_LE(h.percentile(60), 1'000'002U);
}

}  // namespace
}  // namespace fcgi::bench
