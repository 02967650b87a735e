#include "authorizer/entries.h"

#include <xxhash.h>

#include <cstring>

#include "base/assert.h"
#include "base/checksum.h"

namespace tangelo::authorizer {
namespace {

// Seeds of the two halves of a request key (arbitrary, fixed forever: keys
// are compared against ones computed before a restart).
constexpr uint64_t kKeySeed = 0x7467'6b65'7968'6931ULL;
constexpr uint64_t kIdempotencySeed = 0x7467'6964'656d'7030ULL;

template <typename Record>
bool Load(std::span<const std::byte> payload, Record* out) {
  if (payload.size() != sizeof(Record)) return false;
  std::memcpy(out, payload.data(), sizeof(Record));
  return out->version == kEntryFormatVersion;
}

template <size_t N>
bool AllZero(const uint8_t (&bytes)[N]) {
  for (uint8_t byte : bytes) {
    if (byte != 0) return false;
  }
  return true;
}

bool IsZero(const RequestIds& ids) {
  for (uint8_t byte : ids.bytes) {
    if (byte != 0) return false;
  }
  return true;
}

// At most one of the two id kinds; the bytes are zero exactly when neither.
bool ValidIds(uint8_t flags, const RequestIds& ids) {
  const bool network = (flags & RequestFlags::kHasNetworkIds) != 0;
  const bool idempotency = (flags & RequestFlags::kHasIdempotencyKey) != 0;
  if (network && idempotency) return false;
  if (!network && !idempotency) return IsZero(ids);
  if (IsZero(ids)) return false;
  if (idempotency) {
    for (size_t i = 16; i < ids.bytes.size(); ++i) {
      if (ids.bytes[i] != 0) return false;
    }
  }
  return true;
}

bool ValidChannel(uint8_t channel) {
  return channel >= static_cast<uint8_t>(issuing::Channel::kCardPresent) &&
         channel <= static_cast<uint8_t>(issuing::Channel::kAtm);
}

bool ValidCard(uint8_t flags, const CardReference& card) {
  if ((flags & RequestFlags::kCardByPanToken) != 0) return card.token().valid();
  return card.tenant_id().valid() && card.card_id().valid();
}

// The merchant id is printable ASCII, zero padded, with the last byte zero;
// empty is allowed (a request without field 42).
bool ValidMerchant(const std::array<char, 16>& merchant) {
  if (merchant[15] != 0) return false;
  bool ended = false;
  for (char byte : merchant) {
    if (byte == 0) {
      ended = true;
    } else if (ended || byte < 0x20 || byte > 0x7e) {
      return false;
    }
  }
  return true;
}

uint64_t ReadU64(const uint8_t* bytes) {
  uint64_t value = 0;
  std::memcpy(&value, bytes, sizeof(value));
  return value;
}

// The key material, packed without padding: class, how the card is named,
// the card, the ids and (network ids only) the transmission time.
RequestKey Digest(KeyClass key_class, uint8_t card_by_token, const CardReference& card,
                  uint8_t id_flags, const RequestIds& ids, uint64_t transmission_time_ns) {
  if ((id_flags & (RequestFlags::kHasNetworkIds | RequestFlags::kHasIdempotencyKey)) == 0) {
    return RequestKey{};
  }
  uint8_t buffer[2 + 16 + 32 + 8];
  buffer[0] = static_cast<uint8_t>(key_class);
  buffer[1] = static_cast<uint8_t>(
      (card_by_token != 0 ? 1 : 0) |
      ((id_flags & RequestFlags::kHasNetworkIds) != 0 ? 2 : 4));
  std::memcpy(buffer + 2, card.bytes.data(), 16);
  std::memcpy(buffer + 18, ids.bytes.data(), 32);
  const uint64_t time_ns =
      (id_flags & RequestFlags::kHasNetworkIds) != 0 ? transmission_time_ns : 0;
  std::memcpy(buffer + 50, &time_ns, 8);
  const XXH128_hash_t digest = XXH3_128bits_withSeed(buffer, sizeof(buffer), kKeySeed);
  RequestKey key{digest.high64, digest.low64};
  if (!key.valid()) key.low = 1;  // Zero means "no key"; a real digest never is.
  return key;
}

uint16_t ResponseCodeBits(const std::array<char, 2>& code) {
  return static_cast<uint16_t>(static_cast<uint8_t>(code[0]) |
                               (static_cast<uint16_t>(static_cast<uint8_t>(code[1])) << 8));
}

std::array<char, 2> ResponseCodeFromBits(uint64_t bits) {
  return {static_cast<char>(bits & 0xff), static_cast<char>((bits >> 8) & 0xff)};
}

bool DecodeAuthorizationFields(const AuthorizationRequest& request) {
  if (request.version != kEntryFormatVersion) return false;
  if (request.type < static_cast<uint8_t>(AuthorizationType::kPurchase) ||
      request.type > static_cast<uint8_t>(AuthorizationType::kAccountVerification)) {
    return false;
  }
  if ((request.flags & ~RequestFlags::kAuthorizationAll) != 0) return false;
  if (!ValidChannel(request.channel) || request.reserved != 0) return false;
  if (request.mcc > issuing::kMccMax) return false;
  if (request.merchant_country_numeric > issuing::kCountryNumericMax) return false;
  const bool has_expiry = request.card_expiry_year != 0 || request.card_expiry_month != 0;
  if (has_expiry &&
      (request.card_expiry_month < 1 || request.card_expiry_month > 12 ||
       request.card_expiry_year < issuing::kExpiryYearMin ||
       request.card_expiry_year > issuing::kExpiryYearMax)) {
    return false;
  }
  if (request.transmission_time_ns >= issuing::kTimestampNsMax) return false;
  return ValidCard(request.flags, request.card) && ValidIds(request.flags, request.ids) &&
         ValidMerchant(request.merchant_id);
}

bool ValidOriginal(const OriginalReference& original) {
  if (!AllZero(original.reserved)) return false;
  if (original.authorization_id != 0) {
    return original.flags == 0 && original.transmission_time_ns == 0 && IsZero(original.ids);
  }
  const uint8_t id_kinds = RequestFlags::kHasNetworkIds | RequestFlags::kHasIdempotencyKey;
  return (original.flags & ~id_kinds) == 0 && original.flags != 0 &&
         original.transmission_time_ns < issuing::kTimestampNsMax &&
         ValidIds(original.flags, original.ids);
}

}  // namespace

RequestIds RequestIds::FromNetworkIds(const NetworkIds& ids) {
  RequestIds out;
  std::memcpy(out.bytes.data(), &ids, sizeof(ids));
  return out;
}

RequestIds RequestIds::FromIdempotencyKey(std::string_view key) {
  TG_ASSERT(!key.empty() && key.size() <= kIdempotencyKeyLengthMax);
  RequestIds out;
  uint64_t halves[2] = {base::Checksum(key.data(), key.size(), kIdempotencySeed),
                        base::Checksum(key.data(), key.size(), ~kIdempotencySeed)};
  if ((halves[0] | halves[1]) == 0) halves[1] = 1;
  std::memcpy(out.bytes.data(), halves, sizeof(halves));
  return out;
}

CardReference CardReference::ById(issuing::TenantId tenant_id, issuing::CardId card_id) {
  CardReference out;
  const uint64_t tenant = tenant_id.value();
  const uint64_t card = card_id.value();
  std::memcpy(out.bytes.data(), &tenant, 8);
  std::memcpy(out.bytes.data() + 8, &card, 8);
  return out;
}

CardReference CardReference::ByToken(const issuing::PanToken& token) {
  CardReference out;
  static_assert(sizeof(token.bytes) == 16);
  std::memcpy(out.bytes.data(), token.bytes.data(), 16);
  return out;
}

issuing::TenantId CardReference::tenant_id() const {
  return issuing::TenantId(ReadU64(bytes.data()));
}
issuing::CardId CardReference::card_id() const { return issuing::CardId(ReadU64(bytes.data() + 8)); }
issuing::PanToken CardReference::token() const {
  issuing::PanToken token;
  std::memcpy(token.bytes.data(), bytes.data(), 16);
  return token;
}

RequestKey KeyOf(const AuthorizationRequest& request) {
  return Digest(KeyClass::kAuthorization, request.flags & RequestFlags::kCardByPanToken,
                request.card, request.flags, request.ids, request.transmission_time_ns);
}

RequestKey KeyOf(const IncrementalRequest& increment) {
  const AuthorizationRequest& request = increment.request;
  return Digest(KeyClass::kIncrement, request.flags & RequestFlags::kCardByPanToken,
                request.card, request.flags, request.ids, request.transmission_time_ns);
}

RequestKey KeyOf(const ReversalRequest& reversal) {
  return Digest(KeyClass::kReversal, reversal.flags & RequestFlags::kCardByPanToken,
                reversal.card, reversal.flags, reversal.ids, reversal.transmission_time_ns);
}

RequestKey OriginalKeyOf(const IncrementalRequest& increment) {
  const OriginalReference& original = increment.original;
  if (original.authorization_id != 0) return RequestKey{};
  return Digest(KeyClass::kAuthorization,
                increment.request.flags & RequestFlags::kCardByPanToken, increment.request.card,
                original.flags, original.ids, original.transmission_time_ns);
}

RequestKey OriginalKeyOf(const ReversalRequest& reversal) {
  const OriginalReference& original = reversal.original;
  if (original.authorization_id != 0) return RequestKey{};
  return Digest(KeyClass::kAuthorization, reversal.flags & RequestFlags::kCardByPanToken,
                reversal.card, original.flags, original.ids, original.transmission_time_ns);
}

OriginalReference OriginalReference::ById(AuthorizationId id) {
  OriginalReference out;
  out.authorization_id = id.value();
  return out;
}

OriginalReference OriginalReference::ByNetworkIds(const NetworkIds& ids,
                                                  uint64_t transmission_time_ns) {
  OriginalReference out;
  out.transmission_time_ns = transmission_time_ns;
  out.flags = RequestFlags::kHasNetworkIds;
  out.ids = RequestIds::FromNetworkIds(ids);
  return out;
}

OriginalReference OriginalReference::ByIdempotencyKey(std::string_view key) {
  OriginalReference out;
  out.flags = RequestFlags::kHasIdempotencyKey;
  out.ids = RequestIds::FromIdempotencyKey(key);
  return out;
}

std::string_view ClientDecisionOutcomeName(ClientDecisionOutcome outcome) {
  switch (outcome) {
    case ClientDecisionOutcome::kApprove: return "approve";
    case ClientDecisionOutcome::kDecline: return "decline";
    case ClientDecisionOutcome::kApprovePartial: return "approve_partial";
    case ClientDecisionOutcome::kTimeout: return "timeout";
    case ClientDecisionOutcome::kRefused: return "refused";
    case ClientDecisionOutcome::kServerError: return "server_error";
    case ClientDecisionOutcome::kMalformed: return "malformed";
    case ClientDecisionOutcome::kBadSignature: return "bad_signature";
  }
  return "unknown";
}

bool DecodeAuthorizationRequest(std::span<const std::byte> payload, AuthorizationRequest* out) {
  return Load(payload, out) && DecodeAuthorizationFields(*out);
}

bool DecodeIncrementalRequest(std::span<const std::byte> payload, IncrementalRequest* out) {
  if (payload.size() != sizeof(IncrementalRequest)) return false;
  std::memcpy(out, payload.data(), sizeof(IncrementalRequest));
  const AuthorizationType type = static_cast<AuthorizationType>(out->request.type);
  return DecodeAuthorizationFields(out->request) &&
         (type == AuthorizationType::kPurchase || type == AuthorizationType::kCashWithdrawal) &&
         ValidOriginal(out->original);
}

bool DecodeReversalRequest(std::span<const std::byte> payload, ReversalRequest* out) {
  if (!Load(payload, out)) return false;
  const ReversalRequest& request = *out;
  if ((request.flags & ~RequestFlags::kReversalAll) != 0) return false;
  if (request.reserved != 0 || request.reserved2 != 0) return false;
  if (request.transmission_time_ns >= issuing::kTimestampNsMax) return false;
  const bool full = (request.flags & RequestFlags::kFullReversal) != 0;
  if (full ? request.amount_minor != 0
           : request.amount_minor == 0 || request.amount_minor > kAmountMinorMax) {
    return false;
  }
  return ValidCard(request.flags, request.card) && ValidIds(request.flags, request.ids) &&
         ValidOriginal(request.original);
}

bool DecodeClientDecisionResult(std::span<const std::byte> payload,
                                ClientDecisionResultEntry* out) {
  if (!Load(payload, out)) return false;
  if (out->outcome < static_cast<uint8_t>(ClientDecisionOutcome::kApprove) ||
      out->outcome > static_cast<uint8_t>(ClientDecisionOutcome::kBadSignature)) {
    return false;
  }
  const bool partial = out->outcome == static_cast<uint8_t>(ClientDecisionOutcome::kApprovePartial);
  if (!partial && out->approved_amount_minor != 0) return false;
  if (out->approved_amount_minor > kAmountMinorMax) return false;
  return AllZero(out->reserved) && out->authorization_id != 0;
}

bool DecodeFundAccountRequest(std::span<const std::byte> payload, FundAccountRequest* out) {
  if (!Load(payload, out)) return false;
  if (out->direction != static_cast<uint8_t>(FundingDirection::kCredit) &&
      out->direction != static_cast<uint8_t>(FundingDirection::kDebit)) {
    return false;
  }
  return out->reserved == 0 && out->reserved2 == 0 && out->tenant_id != 0 &&
         out->account_id != 0 && out->amount_minor != 0 && out->amount_minor <= kAmountMinorMax &&
         out->currency_numeric != 0;
}

bool DecodeAcknowledgeAdvices(std::span<const std::byte> payload, AcknowledgeAdvicesRequest* out) {
  return Load(payload, out) && AllZero(out->reserved);
}

bool DecodeLookupAuthorization(std::span<const std::byte> payload,
                               LookupAuthorizationRequest* out) {
  return Load(payload, out) && AllZero(out->reserved) && out->authorization_id != 0;
}

bool DecodeLookupBalance(std::span<const std::byte> payload, LookupBalanceRequest* out) {
  return Load(payload, out) && AllZero(out->reserved);
}

bool DecodeReadAdvice(std::span<const std::byte> payload, ReadAdviceRequest* out) {
  return Load(payload, out) && AllZero(out->reserved);
}

std::string_view ReplyCodeName(ReplyCode code) {
  switch (code) {
    case ReplyCode::kOk: return "OK";
    case ReplyCode::kMalformedEntry: return "MALFORMED_ENTRY";
    case ReplyCode::kNotFound: return "NOT_FOUND";
    case ReplyCode::kUnknownKind: return "UNKNOWN_KIND";
    case ReplyCode::kReservedLedgerId: return "RESERVED_LEDGER_ID";
    case ReplyCode::kLedgerAccountExists: return "LEDGER_ACCOUNT_EXISTS";
    case ReplyCode::kLedgerCapacityExhausted: return "LEDGER_CAPACITY_EXHAUSTED";
  }
  return "UNKNOWN";
}

std::string_view DecisionName(Decision decision) {
  switch (decision) {
    case Decision::kNone: return "none";
    case Decision::kApproved: return "approved";
    case Decision::kPartiallyApproved: return "partially_approved";
    case Decision::kDeclined: return "declined";
    case Decision::kPendingClientDecision: return "pending_client_decision";
  }
  return "unknown";
}

std::array<char, 2> ResponseCodeOf(Decision decision, issuing::DeclineReason reason,
                                   uint8_t flags) {
  switch (decision) {
    case Decision::kApproved: return {'0', '0'};
    case Decision::kPartiallyApproved:
      return {issuing::kIso8583PartialApproval[0], issuing::kIso8583PartialApproval[1]};
    case Decision::kDeclined: {
      if ((flags & ReplyFlags::kOriginalNotFound) != 0) return {'2', '5'};
      const std::string_view code = issuing::Iso8583ResponseCode(reason);
      return {code[0], code[1]};
    }
    case Decision::kNone:
    case Decision::kPendingClientDecision: break;
  }
  return {0, 0};
}

void EncodeDecisionReply(const DecisionReply& decision, engine::Reply* reply) {
  *reply = engine::Reply{};
  reply->code = static_cast<uint32_t>(decision.code);
  reply->detail = static_cast<uint32_t>(decision.decision) |
                  (static_cast<uint32_t>(decision.reason) << 8) |
                  (static_cast<uint32_t>(decision.flags) << 24);
  reply->values[0] = decision.authorization_id.value();
  reply->values[1] = decision.approved_amount_minor;
  if (decision.decision == Decision::kPendingClientDecision) {
    reply->values[2] = decision.tenant_id.value();
    reply->values[3] = decision.program_id.value();
    reply->values[4] = decision.card_id.value();
    reply->values[5] = decision.user_id.value();
    reply->values[6] = decision.deadline_ns;
    return;
  }
  reply->values[2] = decision.available_minor;
  reply->values[3] = decision.held_amount_minor;
  reply->values[4] = ResponseCodeBits(decision.response_code);
  reply->values[5] = decision.authorized_at_ns;
}

DecisionReply DecodeDecisionReply(const engine::Reply& reply) {
  DecisionReply out;
  out.code = static_cast<ReplyCode>(reply.code);
  out.decision = static_cast<Decision>(reply.detail & 0xff);
  out.reason = static_cast<issuing::DeclineReason>((reply.detail >> 8) & 0xffff);
  out.flags = static_cast<uint8_t>(reply.detail >> 24);
  out.authorization_id = AuthorizationId(reply.values[0]);
  out.approved_amount_minor = reply.values[1];
  if (out.decision == Decision::kPendingClientDecision) {
    out.held_amount_minor = reply.values[1];
    out.tenant_id = issuing::TenantId(reply.values[2]);
    out.program_id = issuing::ProgramId(reply.values[3]);
    out.card_id = issuing::CardId(reply.values[4]);
    out.user_id = issuing::UserId(reply.values[5]);
    out.deadline_ns = reply.values[6];
    return out;
  }
  out.available_minor = reply.values[2];
  out.held_amount_minor = reply.values[3];
  out.response_code = ResponseCodeFromBits(reply.values[4]);
  out.authorized_at_ns = reply.values[5];
  return out;
}

void EncodeReversalReply(const ReversalReply& reversal, engine::Reply* reply) {
  *reply = engine::Reply{};
  reply->code = static_cast<uint32_t>(reversal.code);
  reply->detail = static_cast<uint32_t>(reversal.result) |
                  (static_cast<uint32_t>(reversal.flags) << 24);
  reply->values[0] = reversal.authorization_id.value();
  reply->values[1] = reversal.released_amount_minor;
  reply->values[2] = reversal.available_minor;
  reply->values[3] = reversal.held_amount_minor;
  reply->values[4] = ResponseCodeBits(reversal.response_code);
}

ReversalReply DecodeReversalReply(const engine::Reply& reply) {
  ReversalReply out;
  out.code = static_cast<ReplyCode>(reply.code);
  out.result = static_cast<ReversalResult>(reply.detail & 0xff);
  out.flags = static_cast<uint8_t>(reply.detail >> 24);
  out.authorization_id = AuthorizationId(reply.values[0]);
  out.released_amount_minor = reply.values[1];
  out.available_minor = reply.values[2];
  out.held_amount_minor = reply.values[3];
  out.response_code = ResponseCodeFromBits(reply.values[4]);
  return out;
}

}  // namespace tangelo::authorizer
