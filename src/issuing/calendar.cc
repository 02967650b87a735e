#include "issuing/calendar.h"

namespace tangelo::issuing {

CivilDate CivilFromDayIndex(uint32_t day_index) {
  // civil_from_days with days shifted so the era starts on 0000-03-01; all
  // values stay non-negative because day_index counts from 1970.
  const uint64_t days = uint64_t{day_index} + 719'468;
  const uint64_t era = days / 146'097;
  const uint64_t day_of_era = days - era * 146'097;
  const uint64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36'524 - day_of_era / 146'096) / 365;
  const uint64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const uint64_t month_shifted = (5 * day_of_year + 2) / 153;  // March = 0.
  CivilDate date;
  date.day = static_cast<uint32_t>(day_of_year - (153 * month_shifted + 2) / 5 + 1);
  date.month = static_cast<uint32_t>(month_shifted < 10 ? month_shifted + 3 : month_shifted - 9);
  date.year = static_cast<uint32_t>(year_of_era + era * 400 + (date.month <= 2 ? 1 : 0));
  return date;
}

uint32_t MonthIndexOf(uint32_t year, uint32_t month) { return (year - 1970) * 12 + (month - 1); }

CalendarWindows CalendarWindowsAt(uint64_t timestamp_ns) {
  const uint32_t day_index = static_cast<uint32_t>(timestamp_ns / kNanosPerDay);
  // The authorization path asks five times per request (the checks and the
  // spend at three levels), nearly always about the same day: the last
  // day's windows are remembered, per thread, so this stays a pure function.
  thread_local CalendarWindows last{UINT32_MAX, 0, 0};
  if (last.day_index == day_index) return last;
  CalendarWindows windows;
  windows.day_index = day_index;
  // 1970-01-01 was a Thursday: three days after the Monday that starts week 0.
  windows.week_index = (windows.day_index + 3) / 7;
  const CivilDate date = CivilFromDayIndex(windows.day_index);
  windows.month_index = MonthIndexOf(date.year, date.month);
  last = windows;
  return windows;
}

}  // namespace tangelo::issuing
