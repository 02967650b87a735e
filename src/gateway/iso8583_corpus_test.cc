// Replays the fuzz corpus (tests/fuzz/iso8583/) through the fuzz property,
// so every crash the fuzzer ever found stays fixed, and runs the property on
// seeded mutations of the seeds so plain `make test` fuzzes a little too.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "base/random.h"
#include "gateway/iso8583_fuzz_target.h"
#include "gateway/iso8583_test_util.h"

namespace tangelo::gateway {
namespace {

struct CorpusFile {
  std::string name;
  std::vector<uint8_t> bytes;
};

std::vector<CorpusFile> LoadCorpus() {
  std::vector<CorpusFile> files;
  for (const auto& entry :
       std::filesystem::directory_iterator(testing::SourcePath("tests/fuzz/iso8583"))) {
    if (!entry.is_regular_file()) continue;
    const std::string bytes = testing::ReadFileOrDie(entry.path().string());
    files.push_back({entry.path().filename().string(), {bytes.begin(), bytes.end()}});
  }
  std::sort(files.begin(), files.end(),
            [](const CorpusFile& a, const CorpusFile& b) { return a.name < b.name; });
  return files;
}

const Iso8583Spec* const kDialects[] = {&testing::DefaultSpec(), &testing::BcdHexSpec()};

TEST(Iso8583CorpusTest, EveryCorpusFilePassesTheFuzzProperty) {
  const std::vector<CorpusFile> corpus = LoadCorpus();
  size_t seeds = 0;
  for (const CorpusFile& file : corpus) {
    SCOPED_TRACE(file.name);
    const int decoded = Iso8583FuzzOneInput(kDialects, file.bytes);
    // Seeds are valid frames: they must decode, or the fuzzer starts blind.
    if (file.name.rfind("seed_", 0) == 0) {
      ++seeds;
      EXPECT_GE(decoded, 1);
    }
  }
  EXPECT_GE(seeds, 19u) << "a seed per golden frame, plus a two-frame stream";
}

TEST(Iso8583CorpusTest, SeededMutationsOfTheSeedsPassTheFuzzProperty) {
  const std::vector<CorpusFile> corpus = LoadCorpus();
  ASSERT_FALSE(corpus.empty());
  base::Random random(20261126);
  constexpr int kMutationsPerFile = 200;
  int decoded_total = 0;
  for (const CorpusFile& file : corpus) {
    for (int i = 0; i < kMutationsPerFile; ++i) {
      std::vector<uint8_t> input = file.bytes;
      const uint64_t edits = random.Between(1, 4);
      for (uint64_t e = 0; e < edits && !input.empty(); ++e) {
        const size_t at = static_cast<size_t>(random.Uniform(input.size()));
        switch (random.Uniform(5)) {
          case 0:
            input[at] = static_cast<uint8_t>(random.Next());
            break;  // Replace.
          case 1:
            input[at] ^= static_cast<uint8_t>(1u << random.Uniform(8));
            break;  // Flip.
          case 2:
            input.erase(input.begin() + static_cast<std::ptrdiff_t>(at));
            break;
          case 3:
            input.insert(input.begin() + static_cast<std::ptrdiff_t>(at),
                         static_cast<uint8_t>('0' + random.Uniform(10)));
            break;
          default:
            input.resize(at);
            break;  // Truncate.
        }
      }
      decoded_total += Iso8583FuzzOneInput(kDialects, input);
    }
  }
  // Some mutations (a digit for a digit) stay valid: the round trip ran.
  EXPECT_GT(decoded_total, 0);
}

}  // namespace
}  // namespace tangelo::gateway
