#include "base/assert.h"

#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace tangelo::base {

void AssertFail(const char* file, int line, const char* expression,
                const char* message) noexcept {
  std::fprintf(stderr, "%s:%d: assertion failed: %s%s%s%s\n", file, line, expression,
               message ? " (" : "", message ? message : "", message ? ")" : "");
  std::fflush(stderr);
  std::abort();
}

void Fatal(const char* file, int line, const char* message) noexcept {
  std::fprintf(stderr, "fatal: %s (%s:%d)\n", message, file, line);
  std::fflush(stderr);
  ::_exit(70);
}

}  // namespace tangelo::base
