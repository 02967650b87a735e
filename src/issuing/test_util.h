// Test and benchmark helpers for the issuing module: timestamps from
// calendar dates, test PANs, a fixed key, names and a small capacity.
// Test-only; no test framework dependency.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "issuing/calendar.h"
#include "issuing/entities.h"
#include "issuing/pan.h"
#include "issuing/state.h"

namespace tangelo::issuing::testing {

inline constexpr uint16_t kUsd = 840;
inline constexpr uint16_t kEur = 978;

// Nanoseconds since the epoch of a UTC date and time (days_from_civil).
inline uint64_t NsAt(int year, unsigned month, unsigned day, unsigned hour = 0, unsigned minute = 0,
                     unsigned second = 0) {
  year -= month <= 2 ? 1 : 0;
  const int era = (year >= 0 ? year : year - 399) / 400;
  const unsigned year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  const int64_t days = int64_t{era} * 146097 + int64_t{day_of_era} - 719468;
  return static_cast<uint64_t>(days) * kNanosPerDay +
         (uint64_t{hour} * 3600 + uint64_t{minute} * 60 + second) * kNanosPerSecond;
}

// A valid PAN: 16 digits starting with a test BIN, then `serial`, then the
// Luhn check digit.
inline std::string TestPan(uint64_t serial) {
  std::string body = std::to_string(serial);
  body = "411111" + std::string(9 - std::min<size_t>(9, body.size()), '0') + body;
  return body + *LuhnCheckDigit(body);
}

inline PanKey TestKey(uint8_t seed = 1) {
  std::string hex;
  for (int i = 0; i < 32; ++i) {
    static constexpr char kDigits[] = "0123456789abcdef";
    const uint8_t byte = static_cast<uint8_t>(seed * 31 + i * 7 + 1);
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 0xf];
  }
  return *PanKey::FromHex(hex);
}

inline Name TestName(std::string_view text) { return *MakeName(text); }

inline IssuingCapacity SmallCapacity() {
  IssuingCapacity capacity;
  capacity.tenants_max = 16;
  capacity.programs_max = 32;
  capacity.users_max = 256;
  capacity.accounts_max = 256;
  capacity.cards_max = 256;
  capacity.controls_max = 256;
  return capacity;
}

}  // namespace tangelo::issuing::testing
