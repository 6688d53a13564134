// Replaying a transcript: run it against a fresh connection with its input cut in a given
// way, and say where the result differs from the transcript's expectations.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "transcript.hpp"

namespace fcgi::conformance {

/// How each step's input is cut into reads. Offsets past a step's input are ignored, so one
/// plan applies to every step at once.
struct split_plan {
  enum class kind : std::uint8_t { whole, two, three, one_byte };
  kind how = kind::whole;
  std::size_t first = 0;   ///< two, three: first cut
  std::size_t second = 0;  ///< three: second cut

  [[nodiscard]] std::string describe() const;
};

/// The plans a transcript is replayed with: whole; cut in two at every offset (at a sample of
/// offsets around record boundaries, the ends and evenly spaced for inputs above 4 KiB);
/// one byte at a time; and for inputs up to 2 KiB, cut in three at a sample of offset pairs.
std::vector<split_plan> plans_for(const transcript& t);

/// Runs `t` with `plan`. Returns nothing when everything matched, else a report of the first
/// step that differed (expected and actual lines).
std::optional<std::string> replay(const transcript& t, const split_plan& plan);

}  // namespace fcgi::conformance
