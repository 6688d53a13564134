// output_queue: ordering of copies and references, gather/consume across segments, zero-copy.
#include <fcgi/protocol/output_queue.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace fcgi::protocol {
namespace {

using fcgi_test::byte_vector;
using fcgi_test::bytes_of;
using fcgi_test::drain;
using fcgi_test::text_of;

std::string pending_text(const output_queue& q) {
  std::vector<bytes_view> slices(q.size() + 1);  // more slices than bytes: always enough
  const std::size_t filled = q.gather(slices);
  std::string out;
  for (std::size_t i = 0; i < filled; ++i) out += text_of(slices[i]);
  return out;
}

bool points_into(bytes_view slice, const std::string& buffer) {
  const auto* first = reinterpret_cast<const std::byte*>(buffer.data());  // NOLINT: byte view
  return slice.data() >= first && slice.data() + slice.size() <= first + buffer.size();
}

TEST(output_queue, starts_empty) {
  const output_queue q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0U);
  std::vector<bytes_view> slices(2);
  EXPECT_EQ(q.gather(slices), 0U);
}

TEST(output_queue, append_and_reference_keep_order) {
  const std::string referenced = "<ref>";
  output_queue q;
  q.append(as_bytes("one,"));
  q.append_reference(as_bytes(referenced));
  q.append(as_bytes("two,"));
  q.append_reference(as_bytes(referenced));
  q.append(as_bytes("three"));
  EXPECT_FALSE(q.empty());
  EXPECT_EQ(q.size(), 4U + 5U + 4U + 5U + 5U);
  EXPECT_EQ(pending_text(q), "one,<ref>two,<ref>three");
}

TEST(output_queue, append_copies_the_bytes) {
  std::string source = "abc";
  output_queue q;
  q.append(as_bytes(source));
  source = "xyz";  // the queue must not see this
  EXPECT_EQ(pending_text(q), "abc");
}

TEST(output_queue, append_reference_does_not_copy) {
  const std::string buffer(1000, 'r');
  output_queue q;
  q.append(as_bytes("head"));
  q.append_reference(as_bytes(buffer));
  std::vector<bytes_view> slices(4);
  const std::size_t filled = q.gather(slices);
  ASSERT_GE(filled, 2U);
  bool found = false;
  for (std::size_t i = 0; i < filled; ++i) {
    if (slices[i].data() == reinterpret_cast<const std::byte*>(buffer.data())) {  // NOLINT
      EXPECT_EQ(slices[i].size(), buffer.size());
      found = true;
    }
  }
  EXPECT_TRUE(found) << "no slice points at the referenced buffer";
}

TEST(output_queue, empty_appends_add_nothing) {
  output_queue q;
  q.append({});
  q.append_reference({});
  EXPECT_TRUE(q.empty());
  q.append(as_bytes("x"));
  q.append({});
  EXPECT_EQ(q.size(), 1U);
  EXPECT_EQ(pending_text(q), "x");
}

TEST(output_queue, gather_with_few_slices_fills_from_the_front) {
  const std::string a = "AAAA";
  const std::string b = "BBBB";
  const std::string c = "CCCC";
  output_queue q;
  q.append_reference(as_bytes(a));
  q.append_reference(as_bytes(b));
  q.append_reference(as_bytes(c));
  std::vector<bytes_view> one(1);
  ASSERT_EQ(q.gather(one), 1U);
  EXPECT_EQ(text_of(one[0]), "AAAA");
  std::vector<bytes_view> two(2);
  ASSERT_EQ(q.gather(two), 2U);
  EXPECT_EQ(text_of(two[0]), "AAAA");
  EXPECT_EQ(text_of(two[1]), "BBBB");
  std::vector<bytes_view> many(8);
  EXPECT_EQ(q.gather(many), 3U);  // fewer than offered: everything is covered
  std::vector<bytes_view> none;
  EXPECT_EQ(q.gather(none), 0U);
  EXPECT_EQ(q.size(), 12U);  // gathering consumes nothing
}

TEST(output_queue, partial_consume_across_segment_boundaries) {
  const std::string ref = "0123456789";
  output_queue q;
  q.append(as_bytes("abc"));
  q.append_reference(as_bytes(ref));
  q.append(as_bytes("xyz"));
  std::string expected = "abc0123456789xyz";
  // Consume in steps that end inside, exactly at and across segment edges.
  for (std::size_t step : {1U, 2U, 4U, 6U, 1U, 1U}) {  // 15 of the 16 bytes
    q.consume(step);
    expected.erase(0, step);
    ASSERT_EQ(q.size(), expected.size());
    ASSERT_EQ(pending_text(q), expected);
  }
  std::vector<bytes_view> first(1);
  ASSERT_EQ(q.gather(first), 1U);
  EXPECT_EQ(text_of(first[0]), "z");
  q.consume(1);
  EXPECT_TRUE(q.empty());
}

TEST(output_queue, partial_consume_keeps_reference_zero_copy) {
  const std::string ref = "0123456789";
  output_queue q;
  q.append_reference(as_bytes(ref));
  q.consume(3);
  std::vector<bytes_view> slices(2);
  ASSERT_EQ(q.gather(slices), 1U);
  EXPECT_EQ(slices[0].data(), reinterpret_cast<const std::byte*>(ref.data()) + 3);  // NOLINT
  EXPECT_EQ(slices[0].size(), 7U);
}

TEST(output_queue, consume_to_empty_then_reuse) {
  output_queue q;
  for (int round = 0; round < 5; ++round) {
    const std::string text = "round " + std::to_string(round) + std::string(100, '.');
    q.append(as_bytes(text));
    q.append(as_bytes("!"));
    EXPECT_EQ(pending_text(q), text + "!");
    q.consume(q.size());
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.size(), 0U);
    std::vector<bytes_view> slices(2);
    EXPECT_EQ(q.gather(slices), 0U);
  }
}

TEST(output_queue, append_while_partially_consumed) {
  output_queue q;
  q.append(as_bytes("hello "));
  q.consume(2);
  q.append(as_bytes("world"));
  EXPECT_EQ(pending_text(q), "llo world");
  q.consume(7);
  q.append(as_bytes("!"));
  EXPECT_EQ(pending_text(q), "ld!");
}

TEST(output_queue, many_small_appends_drain_in_order) {
  output_queue q;
  std::string expected;
  for (int i = 0; i < 2000; ++i) {
    const std::string piece = std::to_string(i) + ",";
    q.append(as_bytes(piece));
    expected += piece;
    if (i % 7 == 0) {
      const std::size_t half = q.size() / 2;
      q.consume(half);
      expected.erase(0, half);
    }
  }
  EXPECT_EQ(text_of(drain(q)), expected);
}

// The bytes append_stream must produce are those of encode_stream_records.
byte_vector encoded_stream(record_type type, std::uint16_t id, const std::string& content) {
  byte_vector out(stream_records_size(content.size()));
  encode_stream_records(type, id, as_bytes(content), out);
  return out;
}

TEST(output_queue, append_stream_below_threshold_copies_spec_3_3) {
  const std::string content = fcgi_test::pattern(100);
  output_queue q;
  q.append_stream(record_type::stdout_stream, 3, as_bytes(content), 1000);
  std::vector<bytes_view> slices(16);
  const std::size_t filled = q.gather(slices);
  for (std::size_t i = 0; i < filled; ++i) EXPECT_FALSE(points_into(slices[i], content));
  EXPECT_EQ(drain(q), encoded_stream(record_type::stdout_stream, 3, content));
}

TEST(output_queue, append_stream_at_threshold_references_spec_3_3) {
  // 200000 bytes = 3 full records of 65528 and one of 3416 (padded to 3416, already aligned).
  const std::string content = fcgi_test::pattern(200000);
  output_queue q;
  q.append_stream(record_type::stdout_stream, 3, as_bytes(content), 200000);
  EXPECT_EQ(q.size(), stream_records_size(content.size()));
  std::vector<bytes_view> slices(64);
  const std::size_t filled = q.gather(slices);
  ASSERT_LT(filled, slices.size());
  std::size_t referenced = 0;
  for (std::size_t i = 0; i < filled; ++i) {
    if (points_into(slices[i], content)) referenced += slices[i].size();
  }
  EXPECT_EQ(referenced, content.size()) << "content bytes were copied, not referenced";
  EXPECT_EQ(drain(q), encoded_stream(record_type::stdout_stream, 3, content));
}

TEST(output_queue, append_stream_splits_like_encode_stream_records_spec_3_3) {
  for (std::size_t length : {1U, 7U, 8U, 65528U, 65529U, 65535U, 65536U, 131056U, 131057U}) {
    SCOPED_TRACE("length " + std::to_string(length));
    const std::string content = fcgi_test::pattern(length, 5);
    for (std::size_t threshold : {std::size_t{1}, length, length + 1}) {
      output_queue q;
      q.append(as_bytes("before"));
      q.append_stream(record_type::stderr_stream, 0x0102, as_bytes(content), threshold);
      q.append(as_bytes("after"));
      byte_vector expected = bytes_of("before");
      fcgi_test::append(expected, encoded_stream(record_type::stderr_stream, 0x0102, content));
      fcgi_test::append(expected, bytes_of("after"));
      EXPECT_TRUE(drain(q) == expected) << "threshold " << threshold;
    }
  }
}

TEST(output_queue, append_stream_of_nothing_adds_nothing_spec_3_3) {
  output_queue q;
  q.append_stream(record_type::stdout_stream, 1, {}, 0);
  q.append_stream(record_type::stdout_stream, 1, {}, 1000);
  EXPECT_TRUE(q.empty());  // an empty record would end the stream
}

// Random appends, gathers and consumes against a plain string model; sizes cross the
// queue's internal compaction points (many consumed segments, large owned prefixes).
TEST(output_queue, random_operations_match_a_model) {
  std::vector<std::string> pool;  // referenced bytes: alive and unchanged for the whole test
  for (std::size_t i = 0; i < 16; ++i)
    pool.push_back(fcgi_test::pattern(i * 5003 + 1, static_cast<unsigned>(i)));
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    output_queue q;
    std::string model;
    for (int op = 0; op < 400; ++op) {
      switch (rng() % 5) {
        case 0: {
          const std::string copy =
              fcgi_test::pattern(rng() % 20000, static_cast<unsigned>(rng() % 251));
          q.append(as_bytes(copy));
          model += copy;
          break;
        }
        case 1: {
          const std::string& ref = pool[rng() % pool.size()];
          q.append_reference(as_bytes(ref));
          model += ref;
          break;
        }
        case 2: {
          const std::string& content = pool[rng() % pool.size()];
          const std::size_t threshold =
              rng() % 2 == 0 ? std::size_t{1} : std::size_t{rng() % 70000};
          q.append_stream(record_type::stdout_stream, 1, as_bytes(content), threshold);
          model += text_of(encoded_stream(record_type::stdout_stream, 1, content));
          break;
        }
        default: {
          const std::size_t count = model.empty() ? 0 : rng() % (model.size() + 1);
          q.consume(count);
          model.erase(0, count);
          break;
        }
      }
      ASSERT_EQ(q.size(), model.size()) << "seed " << seed << " op " << op;
      ASSERT_EQ(q.empty(), model.empty());
      // A few slices must cover a prefix of the model, in order.
      std::vector<bytes_view> slices(1 + rng() % 4);
      const std::size_t filled = q.gather(slices);
      std::string prefix;
      for (std::size_t i = 0; i < filled; ++i) prefix += text_of(slices[i]);
      ASSERT_EQ(prefix, model.substr(0, prefix.size())) << "seed " << seed << " op " << op;
      if (filled < slices.size()) {
        ASSERT_EQ(prefix.size(), model.size());
      }
    }
    EXPECT_TRUE(text_of(drain(q)) == model) << "seed " << seed;
  }
}

TEST(output_queue, a_stream_written_while_read_stays_within_its_unsent_bytes) {
  // A producer that appends 64 KiB while the writer sends 48 KiB of it: the queue must hold
  // about what is unsent, not everything ever sent (1 GiB streamed out would be 1 GiB held).
  output_queue q;
  const std::string block = fcgi_test::pattern(64 * 1024, 3);
  std::string model;
  std::size_t peak_pending = 0;
  for (std::size_t round = 0; round < 400; ++round) {
    q.append(as_bytes(block));
    model += block;
    const std::size_t sent = std::min<std::size_t>(q.size(), 48 * 1024 + (round % 3) * 8192);
    ASSERT_EQ(pending_text(q).substr(0, 16), model.substr(0, 16));
    q.consume(sent);
    model.erase(0, sent);
    peak_pending = std::max(peak_pending, q.size());
  }
  EXPECT_EQ(pending_text(q), model);
  EXPECT_LE(q.capacity(), 4 * (peak_pending + block.size())) << "peak pending " << peak_pending;
}

TEST(output_queue, reuse_of_the_sent_prefix_keeps_a_partly_sent_head_exact) {
  output_queue q;
  const std::string first = fcgi_test::pattern(5000, 1);
  q.append(as_bytes(first));
  q.consume(4093);  // the head segment is partly sent
  // Growing now reuses the 4093 sent bytes: the 907 unsent ones must move intact.
  const std::string second = fcgi_test::pattern(6000, 2);
  q.append(as_bytes(second));
  EXPECT_EQ(pending_text(q), first.substr(4093) + second);
}

TEST(output_queue, clear_drops_everything) {
  const std::string ref(5000, 'r');
  output_queue q;
  q.append(as_bytes("abc"));
  q.append_reference(as_bytes(ref));
  q.consume(1);
  q.clear();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0U);
  std::vector<bytes_view> slices(4);
  EXPECT_EQ(q.gather(slices), 0U);
  q.append(as_bytes("new"));
  EXPECT_EQ(pending_text(q), "new");
}

TEST(output_queue, emptying_gives_back_storage_above_the_retained_capacity) {
  const std::string big(300 * 1024, 'b');
  output_queue q;
  q.append(as_bytes(big));
  ASSERT_GE(q.capacity(), big.size());
  q.consume(q.size());
  EXPECT_EQ(q.capacity(), 0U);  // above the default 256 KiB: given back
  q.append(as_bytes("small"));
  q.consume(q.size());
  EXPECT_GT(q.capacity(), 0U);  // a small buffer is kept for the next response
}

TEST(output_queue, retained_capacity_keeps_a_large_buffer_until_release_memory) {
  const std::string big(1024 * 1024, 'b');
  output_queue q;
  q.set_retained_capacity(SIZE_MAX);
  q.append(as_bytes(big));
  const std::size_t peak = q.capacity();
  q.consume(q.size());
  EXPECT_EQ(q.capacity(), peak);  // the next large response reuses it
  q.append(as_bytes(big));
  EXPECT_EQ(q.capacity(), peak);
  q.release_memory();  // something is pending: nothing happens
  EXPECT_EQ(q.capacity(), peak);
  EXPECT_EQ(pending_text(q), big);
  q.consume(q.size());
  q.release_memory();
  EXPECT_EQ(q.capacity(), 0U);
  EXPECT_TRUE(q.empty());
  q.append(as_bytes("after"));
  EXPECT_EQ(pending_text(q), "after");
}

}  // namespace
}  // namespace fcgi::protocol
