#include "base/checksum.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "base/assert.h"

namespace tangelo::base {

uint64_t Checksum(const void* data, size_t size, uint64_t seed) {
  return XXH3_64bits_withSeed(data, size, seed);
}

StreamingChecksum::StreamingChecksum(uint64_t seed) : state_(XXH3_createState()) {
  TG_ASSERT(state_ != nullptr);
  TG_ASSERT(XXH3_64bits_reset_withSeed(static_cast<XXH3_state_t*>(state_), seed) == XXH_OK);
}

StreamingChecksum::~StreamingChecksum() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }

void StreamingChecksum::Update(const void* data, size_t size) {
  TG_ASSERT(XXH3_64bits_update(static_cast<XXH3_state_t*>(state_), data, size) == XXH_OK);
}

uint64_t StreamingChecksum::Digest() const {
  return XXH3_64bits_digest(static_cast<XXH3_state_t*>(state_));
}

}  // namespace tangelo::base
