// A latency histogram in nanoseconds, log-linear like HdrHistogram: fixed memory, O(1)
// record, mergeable across threads, percentiles within a known relative error.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace fcgi::bench {

/// Values below 256 ns are kept exactly. Above, each power of two [2^k, 2^(k+1)) is cut into
/// 128 equal sub-buckets and a percentile is reported as the middle of its sub-bucket, so it
/// is within 1/256 (0.4 %) of the recorded value for every value up to highest_trackable
/// (2^37 - 1 ns, about 137 s): 1 µs to 100 s is covered with room to spare. Larger values
/// are counted in the top sub-bucket; min() and max() are always exact, and percentiles are
/// clamped to them.
class latency_histogram {
 public:
  static constexpr unsigned sub_bucket_bits = 7;
  static constexpr std::uint64_t sub_buckets = std::uint64_t{1} << sub_bucket_bits;
  static constexpr unsigned highest_bit = 37;
  static constexpr std::uint64_t highest_trackable = (std::uint64_t{1} << highest_bit) - 1;
  /// One exact range [0, 2 * sub_buckets), then sub_buckets slots per power of two above it.
  static constexpr std::size_t bucket_count = (highest_bit - sub_bucket_bits + 1) * sub_buckets;

  void record(std::uint64_t nanoseconds) noexcept;
  /// Adds `other`'s values, as if they had been recorded here.
  void merge(const latency_histogram& other) noexcept;

  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  /// 0 when empty.
  [[nodiscard]] std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  [[nodiscard]] std::uint64_t max() const noexcept { return max_; }
  /// Exact (from the recorded values, not the buckets); 0 when empty.
  [[nodiscard]] double mean() const noexcept;
  /// The population standard deviation, exact like mean(); 0 when empty.
  [[nodiscard]] double stddev() const noexcept;
  /// The nearest-rank percentile (the smallest value with at least `percent` % of the values
  /// at or below it), 0 < percent <= 100, taken to 4 decimals; 0 when empty. percentile(100)
  /// is max(). Overflows past 1.8e13 values.
  [[nodiscard]] std::uint64_t percentile(double percent) const noexcept;

  /// The slot of `nanoseconds`, and the value a slot reports (for tests).
  [[nodiscard]] static std::size_t index_of(std::uint64_t nanoseconds) noexcept;
  [[nodiscard]] static std::uint64_t value_of(std::size_t index) noexcept;

 private:
  std::array<std::uint64_t, bucket_count> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t min_ = 0;
  std::uint64_t max_ = 0;
  // Doubles: a sum of nanoseconds overflows 64 bits after about 10^8 requests of 100 s.
  double sum_ = 0;
  double sum_of_squares_ = 0;
};

}  // namespace fcgi::bench
