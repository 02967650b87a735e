// Calendar windows in UTC for spend limits and card expiry, computed from a
// timestamp alone so that every replay puts a transaction in the same window.
//
// - Day: 00:00:00 UTC to the next 00:00:00 UTC.
// - Week: ISO 8601 week, Monday 00:00 UTC to the next Monday (not a rolling
//   seven days: a calendar week resets at one instant, which cardholders can
//   read on a statement and tests can pin).
// - Month: the first of the month 00:00 UTC to the first of the next month.
//
// Indices count whole windows since the Unix epoch, so comparing two indices
// tells whether two instants share a window. Pure functions; thread safe.
#pragma once

#include <cstdint>

namespace tangelo::issuing {

inline constexpr uint64_t kNanosPerSecond = 1'000'000'000ULL;
inline constexpr uint64_t kNanosPerDay = 86'400ULL * kNanosPerSecond;

struct CalendarWindows {
  uint32_t day_index = 0;    // Days since 1970-01-01.
  uint32_t week_index = 0;   // ISO weeks since Monday 1969-12-29 (week 0 holds the epoch).
  uint32_t month_index = 0;  // Months since January 1970: (year - 1970) * 12 + month - 1.

  bool operator==(const CalendarWindows&) const = default;
};

// Precondition: timestamp_ns < kTimestampNsMax (types.h), checked by callers
// that take timestamps from outside.
CalendarWindows CalendarWindowsAt(uint64_t timestamp_ns);

// Months since January 1970 of a (year, month); month is 1..12, year >= 1970.
uint32_t MonthIndexOf(uint32_t year, uint32_t month);

// Year, month (1..12) and day (1..31) of a day index (Howard Hinnant's
// civil_from_days, exact for the proleptic Gregorian calendar).
struct CivilDate {
  uint32_t year = 1970;
  uint32_t month = 1;
  uint32_t day = 1;
};
CivilDate CivilFromDayIndex(uint32_t day_index);

}  // namespace tangelo::issuing
