#include "issuing/program_settings.h"

#include <cstring>

#include "issuing/controls.h"

namespace tangelo::issuing {

bool HoldExpiryTable::AddRule(uint16_t mcc_first, uint16_t mcc_last, uint16_t hold_days) {
  if (rule_count >= rules.size()) return false;
  rules[rule_count++] = HoldExpiryRule{mcc_first, mcc_last, hold_days};
  return true;
}

uint16_t HoldExpiryTable::HoldDays(uint16_t mcc) const {
  for (uint8_t i = 0; i < rule_count; ++i) {
    if (mcc >= rules[i].mcc_first && mcc <= rules[i].mcc_last) return rules[i].hold_days;
  }
  return default_days;
}

HoldExpiryTable StandardHoldExpiryTable() {
  HoldExpiryTable table;
  table.default_days = kHoldExpiryDaysDefault;
  // The table is small and constant: AddRule cannot fail here.
  (void)table.AddRule(7011, 7011, 30);  // Hotels, motels, resorts.
  (void)table.AddRule(3501, 3999, 30);  // Lodging chains.
  (void)table.AddRule(7512, 7512, 30);  // Car rental agencies.
  (void)table.AddRule(3351, 3441, 30);  // Car rental companies.
  return table;
}

bool IsValidHoldExpiryTable(const HoldExpiryTable& table) {
  if (table.default_days < 1 || table.default_days > kHoldExpiryDaysMax) return false;
  if (table.rule_count > table.rules.size()) return false;
  for (size_t i = 0; i < table.rules.size(); ++i) {
    const HoldExpiryRule& rule = table.rules[i];
    if (i >= table.rule_count) {
      if (!(rule == HoldExpiryRule{})) return false;
      continue;
    }
    if (rule.mcc_first > rule.mcc_last || rule.mcc_last > kMccMax) return false;
    if (rule.hold_days < 1 || rule.hold_days > kHoldExpiryDaysMax) return false;
  }
  return true;
}

bool RealtimeDecisionSettings::SetUrl(std::string_view text) {
  if (text.size() > url.size()) return false;
  url.fill(0);
  std::memcpy(url.data(), text.data(), text.size());
  url_length = static_cast<uint16_t>(text.size());
  return true;
}

RealtimeDecisionProblem CheckRealtimeDecisionSettings(const RealtimeDecisionSettings& settings) {
  if (settings.url_length > settings.url.size()) return RealtimeDecisionProblem::kInvalidUrl;
  for (size_t i = settings.url_length; i < settings.url.size(); ++i) {
    if (settings.url[i] != 0) return RealtimeDecisionProblem::kInvalidUrl;
  }
  const std::string_view url = settings.url_view();
  if (!url.empty()) {
    const bool http = url.starts_with("http://") || url.starts_with("https://");
    const size_t scheme_length = url.starts_with("https://") ? 8 : 7;
    if (!http || url.size() == scheme_length) return RealtimeDecisionProblem::kInvalidUrl;
    for (char byte : url) {
      if (byte <= 0x20 || byte > 0x7e) return RealtimeDecisionProblem::kInvalidUrl;
    }
  } else if (settings.required) {
    return RealtimeDecisionProblem::kInvalidUrl;
  }
  if (settings.deadline_ms < kDecisionDeadlineMsMin ||
      settings.deadline_ms > kDecisionDeadlineMsMax) {
    return RealtimeDecisionProblem::kInvalidDeadline;
  }
  if (settings.stand_in_policy != StandInPolicy::kDecline &&
      settings.stand_in_policy != StandInPolicy::kApproveUpToLimit) {
    return RealtimeDecisionProblem::kInvalidStandIn;
  }
  return RealtimeDecisionProblem::kNone;
}

DeclineReason DecideStandIn(const RealtimeDecisionSettings& settings, uint64_t amount_minor,
                            ClientFailure failure) {
  if (settings.stand_in_policy == StandInPolicy::kApproveUpToLimit &&
      amount_minor <= settings.stand_in_amount_max_minor) {
    return DeclineReason::kNone;
  }
  switch (failure) {
    case ClientFailure::kTimeout:
      return DeclineReason::kClientTimeoutStandIn;
    case ClientFailure::kUnavailable:
      return DeclineReason::kClientUnavailableStandIn;
    case ClientFailure::kBadSignature:
      return DeclineReason::kClientBadSignatureStandIn;
  }
  return DeclineReason::kSystemError;  // An unknown failure kind never approves.
}

}  // namespace tangelo::issuing
