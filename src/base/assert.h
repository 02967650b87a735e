// Always-on assertions for programmer errors and broken invariants.
//
// TG_ASSERT stays on in every build: it guards money and durability, where
// continuing after a broken invariant could lose or invent a cent. TG_DASSERT
// is for checks too expensive for release builds. Never assert on external
// input: malformed input gets a Status, not a crash.
#pragma once

namespace tangelo::base {

// Prints "file:line: assertion failed: expr (message)" to stderr and aborts.
[[noreturn]] void AssertFail(const char* file, int line, const char* expression,
                             const char* message) noexcept;

// Prints a fatal operating error (for example an fsync failure) and exits the
// process with status 70 without unwinding: the on-disk state is the truth.
[[noreturn]] void Fatal(const char* file, int line, const char* message) noexcept;

}  // namespace tangelo::base

#define TG_ASSERT(expression)                                                   \
  do {                                                                          \
    if (__builtin_expect(!(expression), 0)) {                                   \
      ::tangelo::base::AssertFail(__FILE__, __LINE__, #expression, nullptr);    \
    }                                                                           \
  } while (0)

#define TG_ASSERT_MSG(expression, message)                                      \
  do {                                                                          \
    if (__builtin_expect(!(expression), 0)) {                                   \
      ::tangelo::base::AssertFail(__FILE__, __LINE__, #expression, (message));  \
    }                                                                           \
  } while (0)

#ifdef NDEBUG
#define TG_DASSERT(expression) \
  do {                         \
  } while (0)
#else
#define TG_DASSERT(expression) TG_ASSERT(expression)
#endif

#define TG_FATAL(message) ::tangelo::base::Fatal(__FILE__, __LINE__, (message))
