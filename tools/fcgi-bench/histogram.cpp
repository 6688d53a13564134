#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace fcgi::bench {

std::size_t latency_histogram::index_of(std::uint64_t nanoseconds) noexcept {
  const std::uint64_t value = std::min(nanoseconds, highest_trackable);
  if (value < 2 * sub_buckets) return static_cast<std::size_t>(value);
  // value in [2^k, 2^(k+1)), k > sub_bucket_bits: keep its top sub_bucket_bits + 1 bits. The
  // power-of-two ranges follow each other, so the slot is shift * sub_buckets + top bits.
  const auto shift = static_cast<unsigned>(std::bit_width(value)) - sub_bucket_bits - 1;
  return static_cast<std::size_t>(shift * sub_buckets + (value >> shift));
}

std::uint64_t latency_histogram::value_of(std::size_t index) noexcept {
  if (index < 2 * sub_buckets) return index;
  const std::uint64_t shift = index / sub_buckets - 1;
  const std::uint64_t lowest = (index - shift * sub_buckets) << shift;
  return lowest + ((std::uint64_t{1} << shift) >> 1);  // the middle of the slot
}

void latency_histogram::record(std::uint64_t nanoseconds) noexcept {
  ++counts_[index_of(nanoseconds)];
  if (count_ == 0 || nanoseconds < min_) min_ = nanoseconds;
  max_ = std::max(max_, nanoseconds);
  ++count_;
  const auto value = static_cast<double>(nanoseconds);
  sum_ += value;
  sum_of_squares_ += value * value;
}

void latency_histogram::merge(const latency_histogram& other) noexcept {
  if (other.count_ == 0) return;
  for (std::size_t i = 0; i < bucket_count; ++i) counts_[i] += other.counts_[i];
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
  sum_of_squares_ += other.sum_of_squares_;
}

double latency_histogram::mean() const noexcept {
  return count_ == 0 ? 0.0 : sum_ / static_cast<double>(count_);
}

double latency_histogram::stddev() const noexcept {
  if (count_ == 0) return 0.0;
  const double average = mean();
  const double variance = sum_of_squares_ / static_cast<double>(count_) - average * average;
  return variance > 0 ? std::sqrt(variance) : 0.0;  // rounding can make it a hair below 0
}

std::uint64_t latency_histogram::percentile(double percent) const noexcept {
  if (count_ == 0) return 0;
  // The rank in integers (percent to 1e-4): 99.9 % of 1000 must be rank 999, which
  // ceil(0.999 * 1000.0) misses by a rounding error.
  constexpr std::uint64_t parts = 1'000'000;
  const auto per_million =
      static_cast<std::uint64_t>(std::llround(std::clamp(percent, 0.0, 100.0) * 10'000.0));
  const std::uint64_t rank = std::max<std::uint64_t>(1, (count_ * per_million + parts - 1) / parts);
  if (rank >= count_) return max_;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(value_of(i), min_, max_);
  }
  return max_;
}

}  // namespace fcgi::bench
