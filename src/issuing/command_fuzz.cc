// libFuzzer target for DecodeCommand and IssuingState::Apply: arbitrary
// bytes must decode or be rejected cleanly; a decoded command must encode
// back to the same bytes; applying it to a small populated state must keep
// every invariant and, when rejected, change nothing.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/assert.h"
#include "issuing/commands.h"
#include "issuing/state.h"
#include "issuing/test_util.h"

namespace {

using namespace tangelo::issuing;  // NOLINT: a fuzz target, not a header.

IssuingState& SeedState() {
  static IssuingState* state = [] {
    auto* built = new IssuingState(testing::SmallCapacity());
    const uint64_t now = testing::NsAt(2026, 3, 11);
    const PanVault vault(testing::TestKey());
    TG_ASSERT(built->Apply(CreateTenant{TenantId(1), testing::TestName("T")}, now) ==
              CommandResult::kOk);
    TG_ASSERT(built->Apply(CreateProgram{TenantId(1), ProgramId(1), testing::TestName("P"), 840},
                           now) == CommandResult::kOk);
    TG_ASSERT(built->Apply(CreateUser{TenantId(1), UserId(1)}, now) == CommandResult::kOk);
    TG_ASSERT(built->Apply(CreateAccount{TenantId(1), AccountId(1), ProgramId(1), UserId(1),
                                         LedgerAccountId(1), 840},
                           now) == CommandResult::kOk);
    CreateCard card{TenantId(1),
                    CardId(1),
                    UserId(1),
                    AccountId(1),
                    2030,
                    12,
                    CardStatus::kActive,
                    *vault.Protect(TenantId(1), CardId(1), testing::TestPan(1))};
    TG_ASSERT(built->Apply(card, now) == CommandResult::kOk);
    return built;
  }();
  return *state;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  tangelo::base::Result<Command> decoded = DecodeCommand(bytes);
  if (!decoded.ok()) return 0;
  const std::vector<uint8_t> encoded = EncodeCommandToVector(*decoded);
  TG_ASSERT(encoded.size() == size && std::equal(encoded.begin(), encoded.end(), data));

  IssuingState& state = SeedState();
  const std::vector<uint8_t> before = state.Serialize();
  const CommandResult result = state.Apply(*decoded, testing::NsAt(2026, 3, 12));
  if (result != CommandResult::kOk && result != CommandResult::kSpendNotExact) {
    TG_ASSERT(state.Serialize() == before);
  }
  state.CheckInvariants();
  return 0;
}
