// libFuzzer target for IssuingState::Deserialize: arbitrary bytes must be
// rejected cleanly, and bytes it accepts must be canonical (they serialize
// back to themselves) and describe a state that keeps every invariant.
// Most inputs stop at the checksum; the fuzzer also tries the input with a
// correct checksum appended, so it reaches the record checks.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "base/assert.h"
#include "base/checksum.h"
#include "issuing/state.h"
#include "issuing/test_util.h"

namespace {

void Check(std::span<const uint8_t> bytes) {
  using tangelo::issuing::IssuingState;
  auto restored = IssuingState::Deserialize(bytes, tangelo::issuing::testing::SmallCapacity());
  if (!restored.ok()) return;
  (*restored)->CheckInvariants();
  const std::vector<uint8_t> again = (*restored)->Serialize();
  TG_ASSERT(again.size() == bytes.size() && std::equal(again.begin(), again.end(), bytes.begin()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Check({data, size});
  std::vector<uint8_t> sealed(data, data + size);
  const uint64_t checksum = tangelo::base::Checksum(data, size);
  sealed.resize(size + sizeof(checksum));
  std::memcpy(sealed.data() + size, &checksum, sizeof(checksum));
  Check(sealed);
  return 0;
}
