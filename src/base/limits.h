// Named maxima. Every queue, batch, message and retry loop is bounded by a
// constant declared here, so a limit is a reviewed decision, not an accident.
// Going over a limit is a clear error and a counter, never unbounded growth.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tangelo::base {

// Engine and journal.
inline constexpr uint32_t kBatchEntriesMax = 8190;          // Entries applied per batch.
inline constexpr uint32_t kIntakeQueueEntriesMax = 65536;   // Per engine shard.
inline constexpr uint32_t kJournalEntrySizeMax = 512;       // Bytes of one entry payload.
inline constexpr uint64_t kJournalBatchSizeMax = 8ULL << 20;    // Bytes of one batch.
inline constexpr uint64_t kJournalSegmentSizeMax = 256ULL << 20;  // Then a new segment.
inline constexpr uint32_t kBatchLingerUsMax = 1000;         // Group-commit time bound.

// Ledger.
inline constexpr uint32_t kLinkedChainLengthMax = kBatchEntriesMax;
inline constexpr uint32_t kPendingTimeoutSecondsMax = 400 * 86400;  // Beyond any card hold.

static_assert(kIntakeQueueEntriesMax >= 2 * kBatchEntriesMax,
              "the intake queue must hold at least two batches to keep the engine busy");
static_assert((kJournalEntrySizeMax + 64) * uint64_t{kBatchEntriesMax} <= kJournalBatchSizeMax,
              "a full batch of the largest entries must fit one journal batch");

}  // namespace tangelo::base
