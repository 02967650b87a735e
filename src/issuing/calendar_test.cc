#include "issuing/calendar.h"

#include <gtest/gtest.h>

#include "issuing/test_fixture.h"
#include "issuing/types.h"

namespace tangelo::issuing {
namespace {

using testing::NsAt;

TEST(CalendarTest, EpochIsDayZeroWeekZeroMonthZero) {
  const CalendarWindows windows = CalendarWindowsAt(0);
  EXPECT_EQ(windows.day_index, 0u);
  EXPECT_EQ(windows.week_index, 0u);  // Thursday 1970-01-01 is in the week of Monday 1969-12-29.
  EXPECT_EQ(windows.month_index, 0u);
}

TEST(CalendarTest, DayChangesAtMidnightUtc) {
  const CalendarWindows before = CalendarWindowsAt(NsAt(2026, 3, 11, 23, 59, 59));
  const CalendarWindows after = CalendarWindowsAt(NsAt(2026, 3, 12));
  EXPECT_EQ(after.day_index, before.day_index + 1);
  EXPECT_EQ(CalendarWindowsAt(NsAt(2026, 3, 12) - 1).day_index, before.day_index);
}

TEST(CalendarTest, WeekStartsOnMondayUtc) {
  // 2026-03-15 is a Sunday, 2026-03-16 a Monday.
  const uint32_t sunday_night = CalendarWindowsAt(NsAt(2026, 3, 15, 23, 59, 59)).week_index;
  const uint32_t monday = CalendarWindowsAt(NsAt(2026, 3, 16)).week_index;
  const uint32_t previous_monday = CalendarWindowsAt(NsAt(2026, 3, 9)).week_index;
  EXPECT_EQ(monday, sunday_night + 1);
  EXPECT_EQ(previous_monday, sunday_night);
  // An ISO week spanning a year end: Thursday 2020-12-31 and Sunday
  // 2021-01-03 share a week; Monday 2021-01-04 starts the next.
  EXPECT_EQ(CalendarWindowsAt(NsAt(2020, 12, 31)).week_index,
            CalendarWindowsAt(NsAt(2021, 1, 3, 23)).week_index);
  EXPECT_EQ(CalendarWindowsAt(NsAt(2021, 1, 4)).week_index,
            CalendarWindowsAt(NsAt(2021, 1, 3)).week_index + 1);
}

TEST(CalendarTest, MonthIndexAcrossYearsAndLeapDays) {
  EXPECT_EQ(CalendarWindowsAt(NsAt(2026, 1, 31, 23, 59, 59)).month_index, MonthIndexOf(2026, 1));
  EXPECT_EQ(CalendarWindowsAt(NsAt(2026, 2, 1)).month_index, MonthIndexOf(2026, 2));
  EXPECT_EQ(CalendarWindowsAt(NsAt(2024, 2, 29, 12)).month_index, MonthIndexOf(2024, 2));
  EXPECT_EQ(CalendarWindowsAt(NsAt(2024, 3, 1)).month_index, MonthIndexOf(2024, 3));
  EXPECT_EQ(CalendarWindowsAt(NsAt(2025, 12, 31, 23, 59, 59)).month_index + 1,
            CalendarWindowsAt(NsAt(2026, 1, 1)).month_index);
  EXPECT_EQ(MonthIndexOf(1970, 1), 0u);
  EXPECT_EQ(MonthIndexOf(2000, 3), 30u * 12 + 2);
}

TEST(CalendarTest, CivilDateMatchesAStepByStepCalendarUntil2100) {
  // Walk every day from 1970 to 2100 with the month-length rules and compare.
  uint32_t year = 1970;
  uint32_t month = 1;
  uint32_t day = 1;
  const auto days_in_month = [](uint32_t y, uint32_t m) -> uint32_t {
    static constexpr uint32_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : kDays[m - 1];
  };
  for (uint32_t day_index = 0; year < 2100; ++day_index) {
    const CivilDate date = CivilFromDayIndex(day_index);
    ASSERT_EQ(date.year, year) << day_index;
    ASSERT_EQ(date.month, month) << day_index;
    ASSERT_EQ(date.day, day) << day_index;
    ASSERT_EQ(CalendarWindowsAt(uint64_t{day_index} * kNanosPerDay).month_index,
              MonthIndexOf(year, month));
    if (++day > days_in_month(year, month)) {
      day = 1;
      if (++month > 12) {
        month = 1;
        ++year;
      }
    }
  }
}

TEST(CalendarTest, LastRepresentableInstant) {
  const CalendarWindows windows = CalendarWindowsAt(kTimestampNsMax - 1);
  EXPECT_EQ(windows.month_index, MonthIndexOf(2099, 12));
  EXPECT_EQ(CivilFromDayIndex(windows.day_index).day, 31u);
}

}  // namespace
}  // namespace tangelo::issuing
