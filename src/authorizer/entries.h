// The engine entries of the core state machine (ledger + issuing +
// authorizations in one journal) and the layouts of their replies.
//
// Every entry is a fixed-size, little-endian, padding-free record (except the
// issuing command, which carries issuing's own encoding). Front doors build
// them with the helpers below, the engine journals the bytes as they are, and
// CoreStateMachine decodes them with Decode*, which reject anything malformed
// (wrong size or version, unknown enum value, non-zero reserved byte) without
// ever asserting. The byte-level specification, with the reply of every kind,
// is docs/authorizer/entries.md (format version 1); the numbers below are
// stable: they are in journals.
//
// Pure data and pure functions; thread safe.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

#include "base/strong_id.h"
#include "engine/state_machine.h"
#include "issuing/controls.h"
#include "issuing/decline_reason.h"
#include "issuing/pan.h"
#include "issuing/types.h"

namespace tangelo::authorizer {

struct AuthorizationTag;
// One authorization and everything that follows it (increments, reversals,
// the client's decision). Opaque to callers; never zero.
using AuthorizationId = base::StrongId<AuthorizationTag>;

inline constexpr uint16_t kEntryFormatVersion = 1;

// Engine entry kinds. 101-119 change state (journaled); 120-139 only read.
enum class EntryKind : uint16_t {
  kIssuingCommand = 101,         // Payload: issuing::EncodeCommand bytes.
  kFundAccount = 102,            // FundAccountRequest.
  kAuthorize = 103,              // AuthorizationRequest (0100/0200, REST).
  kAdvice = 104,                 // AuthorizationRequest (0120: the network stood in).
  kIncrementalAuthorize = 105,   // IncrementalRequest.
  kReverse = 106,                // ReversalRequest (0400/0420, REST void).
  kClientDecisionResult = 107,   // ClientDecisionResultEntry.
  kAcknowledgeAdvices = 108,     // AcknowledgeAdvicesRequest.
  kLookupAuthorization = 120,    // LookupAuthorizationRequest.
  kLookupBalance = 121,          // LookupBalanceRequest.
  kReadAdvice = 122,             // ReadAdviceRequest.
};

// Named limits of requests.
// ISO 8583 field 4 has 12 digits; nothing larger is a real amount.
inline constexpr uint64_t kAmountMinorMax = 999'999'999'999ULL;
// A transmission time (ISO 8583 field 7) is trusted for the card expiry check
// only within this window around the engine's clock; outside it the engine's
// time is used (a network clock off by hours must neither expire cards nor
// revive expired ones). Networks send it when they send the message.
inline constexpr uint64_t kTransmissionTimeLeadMaxNs = 10ULL * 60 * 1'000'000'000;
inline constexpr uint64_t kTransmissionTimeLagMaxNs = 10ULL * 60 * 1'000'000'000;
// How long the engine waits past a program's client-decision deadline before
// its own timer applies stand-in: the I/O side's timeout (at the deadline)
// normally arrives first and carries the outcome; this timer only guarantees
// that a lost callback never leaves a provisional hold behind.
inline constexpr uint64_t kClientDecisionGraceNs = 500'000'000;

// Bytes of an idempotency key from REST.
inline constexpr size_t kIdempotencyKeyLengthMax = 255;

enum class AuthorizationType : uint8_t {
  kPurchase = 1,             // Goods and services (with or without cash back).
  kCashWithdrawal = 2,       // ATM or over the counter.
  kBalanceInquiry = 3,       // Amount 0; answers the available balance; no hold.
  kAccountVerification = 4,  // Amount 0; checks card, holder and controls; no hold.
};

// Request flags (AuthorizationRequest::flags, ReversalRequest::flags).
struct RequestFlags {
  static constexpr uint8_t kCardByPanToken = 1u << 0;  // card holds a PAN token, not ids.
  static constexpr uint8_t kPartialApprovalSupported = 1u << 1;  // Merchant accepts less.
  static constexpr uint8_t kContactless = 1u << 2;
  static constexpr uint8_t kHasNetworkIds = 1u << 3;      // ids holds NetworkIds.
  static constexpr uint8_t kHasIdempotencyKey = 1u << 4;  // ids holds a key digest.
  static constexpr uint8_t kFullReversal = 1u << 5;       // ReversalRequest only.
  static constexpr uint8_t kAuthorizationAll = kCardByPanToken | kPartialApprovalSupported |
                                               kContactless | kHasNetworkIds | kHasIdempotencyKey;
  static constexpr uint8_t kReversalAll =
      kCardByPanToken | kHasNetworkIds | kHasIdempotencyKey | kFullReversal;
};

// The ids a card network gives one message: together they identify it, so a
// message repeating them is a retransmission. Text fields are space or zero
// padded as received.
struct NetworkIds {
  uint64_t acquirer_id = 0;  // Field 32 (up to 11 digits).
  uint32_t stan = 0;         // Field 11, systems trace audit number.
  std::array<char, 12> retrieval_reference{};  // Field 37.
  std::array<char, 8> terminal_id{};           // Field 41.
};
static_assert(sizeof(NetworkIds) == 32);
static_assert(std::has_unique_object_representations_v<NetworkIds>);

// Either NetworkIds or the digest of a REST idempotency key (first 16 bytes,
// the rest zero), as the request's flags say; all zero when neither.
struct RequestIds {
  std::array<uint8_t, 32> bytes{};

  static RequestIds FromNetworkIds(const NetworkIds& ids);
  // Precondition: 1..kIdempotencyKeyLengthMax bytes.
  static RequestIds FromIdempotencyKey(std::string_view key);
  bool operator==(const RequestIds&) const = default;
};

// Which card: (tenant id, card id) as two little-endian u64, or a PAN token
// (RequestFlags::kCardByPanToken), as network messages carry only the PAN.
struct CardReference {
  std::array<uint8_t, 16> bytes{};

  static CardReference ById(issuing::TenantId tenant_id, issuing::CardId card_id);
  static CardReference ByToken(const issuing::PanToken& token);
  issuing::TenantId tenant_id() const;
  issuing::CardId card_id() const;
  issuing::PanToken token() const;
  bool operator==(const CardReference&) const = default;
};

// kAuthorize and kAdvice: one authorization request (96 bytes).
struct AuthorizationRequest {
  uint16_t version = kEntryFormatVersion;
  uint8_t type = static_cast<uint8_t>(AuthorizationType::kPurchase);
  uint8_t flags = 0;  // RequestFlags::kAuthorizationAll.
  uint8_t channel = static_cast<uint8_t>(issuing::Channel::kCardPresent);
  uint8_t entry_mode = 0;  // ISO 8583 field 22 (first two digits); informational.
  uint16_t currency_numeric = 0;  // Billing currency (field 51), ISO 4217 numeric.
  uint16_t mcc = 0;               // Field 18, 0..9999.
  uint16_t merchant_country_numeric = 0;  // Field 19/43, ISO 3166-1 numeric; 0 unknown.
  uint16_t card_expiry_year = 0;  // Field 14 as a four-digit year; 0 when absent.
  uint8_t card_expiry_month = 0;  // 1..12; 0 when absent.
  uint8_t reserved = 0;
  uint64_t amount_minor = 0;          // Billing amount (field 6) in minor units.
  uint64_t transmission_time_ns = 0;  // Field 7 as UTC ns; 0 when absent.
  CardReference card;
  RequestIds ids;
  std::array<char, 16> merchant_id{};  // Field 42, zero padded (15 bytes at most).
};
static_assert(sizeof(AuthorizationRequest) == 96);
static_assert(std::has_unique_object_representations_v<AuthorizationRequest>);

// How a follow-up names its original authorization: by id, or by the ids
// the original request carried (ISO 8583 field 90 and the RRN), in which
// case the original must have named the card the same way (48 bytes).
struct OriginalReference {
  uint64_t authorization_id = 0;  // Non-zero: the original by id; the rest is zero.
  uint64_t transmission_time_ns = 0;  // The original's field 7.
  uint8_t flags = 0;  // kHasNetworkIds or kHasIdempotencyKey: what ids holds.
  uint8_t reserved[7] = {};
  RequestIds ids;     // The original's ids.

  static OriginalReference ById(AuthorizationId id);
  static OriginalReference ByNetworkIds(const NetworkIds& ids, uint64_t transmission_time_ns);
  static OriginalReference ByIdempotencyKey(std::string_view key);
};
static_assert(sizeof(OriginalReference) == 56);
static_assert(std::has_unique_object_representations_v<OriginalReference>);

// kIncrementalAuthorize: an authorization request (a network sends all the
// merchant fields again) that grows the hold of a live authorization
// (152 bytes). request.type is kPurchase or kCashWithdrawal; request.ids are
// the increment's own ids.
struct IncrementalRequest {
  AuthorizationRequest request;
  OriginalReference original;
};
static_assert(sizeof(IncrementalRequest) == 152);
static_assert(std::has_unique_object_representations_v<IncrementalRequest>);

// kReverse: releases all (kFullReversal) or part of what an authorization
// holds (128 bytes).
struct ReversalRequest {
  uint16_t version = kEntryFormatVersion;
  uint8_t flags = 0;              // kCardByPanToken, kHasNetworkIds or kHasIdempotencyKey,
                                  // kFullReversal.
  uint8_t reserved = 0;
  uint16_t currency_numeric = 0;  // Of amount_minor; required for a partial reversal.
  uint16_t reserved2 = 0;
  uint64_t amount_minor = 0;      // Partial reversal: the amount to release (> 0).
  uint64_t transmission_time_ns = 0;
  CardReference card;             // Must be the original's card.
  RequestIds ids;                 // The reversal's own ids (its retransmissions).
  OriginalReference original;
};
static_assert(sizeof(ReversalRequest) == 128);
static_assert(std::has_unique_object_representations_v<ReversalRequest>);

// The digest of the ids of one request, scoped by entry class and card, that
// finds retransmissions and originals. Zero when the request had no ids.
struct RequestKey {
  uint64_t high = 0;
  uint64_t low = 0;

  bool valid() const { return (high | low) != 0; }
  bool operator==(const RequestKey&) const = default;
};

// What a request key is the key of: authorizations and advices share one
// class, so an advice for a request we answered finds it.
enum class KeyClass : uint8_t {
  kAuthorization = 1,
  kIncrement = 2,
  kReversal = 3,
};

// The key of the request itself; zero when it carries no ids. Network ids
// include the transmission time (as ISO 8583 matching does); an idempotency
// key does not (a REST retry has a new time).
RequestKey KeyOf(const AuthorizationRequest& request);
RequestKey KeyOf(const IncrementalRequest& increment);
RequestKey KeyOf(const ReversalRequest& reversal);
// The key of the original authorization a follow-up names by ids; zero when
// it names it by id.
RequestKey OriginalKeyOf(const IncrementalRequest& increment);
RequestKey OriginalKeyOf(const ReversalRequest& reversal);

// What the client's decision endpoint (or its failure) said.
enum class ClientDecisionOutcome : uint8_t {
  kApprove = 1,
  kDecline = 2,
  kApprovePartial = 3,  // approved_amount_minor of the requested amount.
  kTimeout = 4,         // No answer before the deadline.
  kRefused = 5,         // Connection refused or reset.
  kServerError = 6,     // A 5xx answer.
  kMalformed = 7,       // Unparseable answer or one that does not match the request.
  kBadSignature = 8,    // Missing, stale or wrong signature.
};
std::string_view ClientDecisionOutcomeName(ClientDecisionOutcome outcome);

// kClientDecisionResult: the client's answer to a pending decision (40 bytes).
struct ClientDecisionResultEntry {
  uint16_t version = kEntryFormatVersion;
  uint8_t outcome = 0;  // ClientDecisionOutcome.
  uint8_t reserved[5] = {};
  uint64_t authorization_id = 0;
  uint64_t approved_amount_minor = 0;  // kApprovePartial only; else 0.
  // The key of the request that is waiting (KeyOf the authorization or the
  // increment), so a late answer still finds the final decision after the
  // authorization itself is gone. Zero when that request had no ids.
  uint64_t request_key_high = 0;
  uint64_t request_key_low = 0;
};
static_assert(sizeof(ClientDecisionResultEntry) == 40);
static_assert(std::has_unique_object_representations_v<ClientDecisionResultEntry>);

enum class FundingDirection : uint8_t {
  kCredit = 1,  // Load: from the issuer's funding account into the card account.
  kDebit = 2,   // Unload: from the card account back; never below zero.
};

// kFundAccount: moves money into or out of an issuing account's ledger
// account (40 bytes). The transfer id is the caller's idempotency key.
struct FundAccountRequest {
  uint16_t version = kEntryFormatVersion;
  uint8_t direction = 0;  // FundingDirection.
  uint8_t reserved = 0;
  uint16_t currency_numeric = 0;
  uint16_t reserved2 = 0;
  uint64_t tenant_id = 0;
  uint64_t account_id = 0;
  uint64_t transfer_id = 0;  // 1 .. kCallerIdMax.
  uint64_t amount_minor = 0;
};
static_assert(sizeof(FundAccountRequest) == 40);
static_assert(std::has_unique_object_representations_v<FundAccountRequest>);

// kAcknowledgeAdvices: the notifier delivered every advice up to a sequence.
struct AcknowledgeAdvicesRequest {
  uint16_t version = kEntryFormatVersion;
  uint8_t reserved[6] = {};
  uint64_t through_sequence = 0;
};
static_assert(sizeof(AcknowledgeAdvicesRequest) == 16);

// kLookupAuthorization (read only). The tenant must own the card.
struct LookupAuthorizationRequest {
  uint16_t version = kEntryFormatVersion;
  uint8_t reserved[6] = {};
  uint64_t tenant_id = 0;
  uint64_t authorization_id = 0;
};
static_assert(sizeof(LookupAuthorizationRequest) == 24);

// kLookupBalance (read only).
struct LookupBalanceRequest {
  uint16_t version = kEntryFormatVersion;
  uint8_t reserved[6] = {};
  uint64_t tenant_id = 0;
  uint64_t account_id = 0;
};
static_assert(sizeof(LookupBalanceRequest) == 24);

// kReadAdvice (read only): the oldest undelivered advice with a sequence at
// least from_sequence.
struct ReadAdviceRequest {
  uint16_t version = kEntryFormatVersion;
  uint8_t reserved[6] = {};
  uint64_t from_sequence = 0;
};
static_assert(sizeof(ReadAdviceRequest) == 16);

// Ledger ids at or above this are the core's own (system accounts, holds);
// callers choose ledger account ids and funding transfer ids below it.
inline constexpr uint64_t kCallerIdMax = (1ULL << 62) - 1;

// Decoders: true when `payload` is exactly one well-formed record (version 1,
// known enum values, flags within their set, reserved bytes zero). Structure
// only; meaning (does the card exist) is the state machine's.
bool DecodeAuthorizationRequest(std::span<const std::byte> payload, AuthorizationRequest* out);
bool DecodeIncrementalRequest(std::span<const std::byte> payload, IncrementalRequest* out);
bool DecodeReversalRequest(std::span<const std::byte> payload, ReversalRequest* out);
bool DecodeClientDecisionResult(std::span<const std::byte> payload,
                                ClientDecisionResultEntry* out);
bool DecodeFundAccountRequest(std::span<const std::byte> payload, FundAccountRequest* out);
bool DecodeAcknowledgeAdvices(std::span<const std::byte> payload, AcknowledgeAdvicesRequest* out);
bool DecodeLookupAuthorization(std::span<const std::byte> payload,
                               LookupAuthorizationRequest* out);
bool DecodeLookupBalance(std::span<const std::byte> payload, LookupBalanceRequest* out);
bool DecodeReadAdvice(std::span<const std::byte> payload, ReadAdviceRequest* out);

// The bytes of a record, for TrySubmit.
template <typename Record>
std::span<const std::byte> PayloadOf(const Record& record) {
  static_assert(std::is_trivially_copyable_v<Record>);
  return std::as_bytes(std::span(&record, 1));
}

// ---------------------------------------------------------------- replies

// engine::Reply::code of every kind: kOk means "look at detail"; the rest are
// operating errors and nothing changed.
enum class ReplyCode : uint32_t {
  kOk = 0,
  kMalformedEntry = 1000,          // Undecodable payload.
  kNotFound = 1001,                // The named account, authorization or advice is absent.
  kUnknownKind = 1002,
  kReservedLedgerId = 1003,        // A caller id above kCallerIdMax.
  kLedgerAccountExists = 1004,     // CreateAccount names a ledger account in use.
  kLedgerCapacityExhausted = 1005, // The ledger has no room for the accounts.
};
std::string_view ReplyCodeName(ReplyCode code);

enum class Decision : uint8_t {
  kNone = 0,
  kApproved = 1,
  kPartiallyApproved = 2,       // ISO 8583 response code 10.
  kDeclined = 3,
  kPendingClientDecision = 4,   // Provisional hold placed; the client decides.
};
std::string_view DecisionName(Decision decision);

// Reply flags (bits 24..31 of detail).
struct ReplyFlags {
  static constexpr uint8_t kRetransmission = 1u << 0;  // The original decision, repeated.
  static constexpr uint8_t kStandIn = 1u << 1;         // Decided by the stand-in policy.
  static constexpr uint8_t kAdvice = 1u << 2;          // The network decided; recorded.
  static constexpr uint8_t kLateClientAnswer = 1u << 3;  // Decided before the client answered.
  static constexpr uint8_t kOriginalNotFound = 1u << 4;  // Follow-up of nothing live (25).
  static constexpr uint8_t kNotHeld = 1u << 5;  // Advice recorded but no hold was possible.
};

// A decoded decision reply (kAuthorize, kAdvice, kIncrementalAuthorize,
// kClientDecisionResult). For kPendingClientDecision the *_id fields and
// deadline_ns are set and response_code is empty; otherwise they are zero.
struct DecisionReply {
  ReplyCode code = ReplyCode::kOk;
  Decision decision = Decision::kNone;
  issuing::DeclineReason reason = issuing::DeclineReason::kNone;
  uint8_t flags = 0;
  AuthorizationId authorization_id;  // Zero when declined without a record.
  uint64_t approved_amount_minor = 0;   // By this message (an increment: the increment).
  uint64_t available_minor = 0;         // Available balance after the decision.
  uint64_t held_amount_minor = 0;       // Total held by the authorization after it.
  std::array<char, 2> response_code{};  // ISO 8583 field 39.
  uint64_t authorized_at_ns = 0;
  // Pending only: what the I/O side needs to call the client.
  issuing::TenantId tenant_id;
  issuing::ProgramId program_id;
  issuing::CardId card_id;
  issuing::UserId user_id;
  uint64_t deadline_ns = 0;  // Engine deadline (realtime ns); stand-in decides after it.

  std::string_view response_code_view() const {
    return std::string_view(response_code.data(), response_code[0] == 0 ? 0 : 2);
  }
};

// The ISO 8583 response code of a decision.
std::array<char, 2> ResponseCodeOf(Decision decision, issuing::DeclineReason reason,
                                   uint8_t flags);

void EncodeDecisionReply(const DecisionReply& decision, engine::Reply* reply);
DecisionReply DecodeDecisionReply(const engine::Reply& reply);

enum class ReversalResult : uint8_t {
  kReleased = 1,       // Response code 00.
  kNotFound = 2,       // No live authorization of this card by that reference (25).
  kInvalidAmount = 3,  // Partial amount in another currency than the account's (13).
};

struct ReversalReply {
  ReplyCode code = ReplyCode::kOk;
  ReversalResult result = ReversalResult::kReleased;
  uint8_t flags = 0;  // ReplyFlags::kRetransmission.
  AuthorizationId authorization_id;
  uint64_t released_amount_minor = 0;
  uint64_t available_minor = 0;
  uint64_t held_amount_minor = 0;  // Still held after it.
  std::array<char, 2> response_code{};
};
void EncodeReversalReply(const ReversalReply& reversal, engine::Reply* reply);
ReversalReply DecodeReversalReply(const engine::Reply& reply);

}  // namespace tangelo::authorizer
