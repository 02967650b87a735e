#include "gateway/iso8583_server.h"

#include <array>
#include <cstring>
#include <string>

#include "authorizer/entries.h"
#include "base/assert.h"
#include "gateway/iso8583_response.h"
#include "gateway/iso8583_types.h"

namespace tangelo::gateway {
namespace {

using authorizer::AuthorizationRequest;
using authorizer::AuthorizationType;
using authorizer::EntryKind;
using authorizer::NetworkIds;
using authorizer::RequestFlags;
using authorizer::ReversalRequest;

constexpr uint64_t kNanosPerSecond = 1'000'000'000ULL;
constexpr uint64_t kNanosPerDay = 86'400ULL * kNanosPerSecond;
constexpr uint32_t kNoSlot = ~uint32_t{0};

// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's
// days_from_civil).
int64_t DaysFromCivil(int64_t year, uint32_t month, uint32_t day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<uint64_t>(year - era * 400);
  const uint64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const uint64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<int64_t>(day_of_era) - 719468;
}

bool IsLeapYear(int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

uint32_t DaysInMonth(int64_t year, uint32_t month) {
  static constexpr uint32_t kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// Digits of `text` as a number; false when not all digits or too long.
bool ParseDigits(std::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > 19) return false;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = value;
  return true;
}

template <size_t kSize>
void CopyPadded(std::string_view text, std::array<char, kSize>* out) {
  out->fill(0);
  std::memcpy(out->data(), text.data(), std::min(text.size(), kSize));
}

// The ids of one network message (fields 32, 11, 37, 41).
NetworkIds NetworkIdsOf(const Iso8583Message& message, uint32_t stan, std::string_view rrn) {
  NetworkIds ids;
  uint64_t acquirer = 0;
  if (message.Has(field::kAcquirerId) &&
      ParseDigits(message.Field(field::kAcquirerId), &acquirer)) {
    ids.acquirer_id = acquirer;
  }
  ids.stan = stan;
  CopyPadded(rrn, &ids.retrieval_reference);
  if (message.Has(field::kTerminalId))
    CopyPadded(message.Field(field::kTerminalId), &ids.terminal_id);
  return ids;
}

// Field 39 from an engine reply's two characters; 96 when unreadable.
Iso8583ResponseCode ResponseCodeFromText(std::array<char, 2> text) {
  if (text[0] < '0' || text[0] > '9' || text[1] < '0' || text[1] > '9') {
    return Iso8583ResponseCode::kSystemMalfunction;
  }
  return static_cast<Iso8583ResponseCode>((text[0] - '0') * 10 + (text[1] - '0'));
}

// The MTIs with their own request counter, and the label of the rest.
constexpr std::array<uint16_t, 6> kCountedMtis = {
    mti::kAuthorizationRequest, mti::kAuthorizationAdvice, mti::kFinancialRequest,
    mti::kReversalRequest,      mti::kReversalAdvice,      mti::kNetworkManagementRequest};
// Response codes with their own counter; the rest count as "other".
constexpr std::array<uint8_t, 25> kCountedCodes = {
    0, 1, 4, 5, 10, 12, 13, 14, 25, 30, 41, 43, 51, 54, 55, 57, 58, 59, 61, 62, 65, 91, 94, 96, 6};

// The outcome of turning a request into an engine entry.
struct EntryBuild {
  Iso8583ResponseCode refuse = Iso8583ResponseCode::kApproved;  // Not 00: answer this at once.
  EntryKind kind = EntryKind::kAuthorize;
  uint8_t type = 0;               // AuthorizationType, for the response.
  uint16_t currency_numeric = 0;  // Field 49, for field 54.
  union {
    AuthorizationRequest authorization;
    ReversalRequest reversal;
  };
  EntryBuild() : authorization() {}
};

}  // namespace

uint64_t TransmissionTimeNs(const TransmissionDateTime& date_time, uint64_t now_ns) {
  if (date_time.month < 1 || date_time.month > 12 || date_time.day < 1) return 0;
  const auto now_days = static_cast<int64_t>(now_ns / kNanosPerDay);
  // The year of `now`: walk from an estimate (exact within one year).
  int64_t year = 1970 + now_days / 365;
  while (DaysFromCivil(year, 1, 1) > now_days) --year;
  while (DaysFromCivil(year + 1, 1, 1) <= now_days) ++year;
  uint64_t best_ns = 0;
  uint64_t best_distance = ~uint64_t{0};
  for (int64_t candidate = year - 1; candidate <= year + 1; ++candidate) {
    if (date_time.day > DaysInMonth(candidate, date_time.month)) continue;
    const int64_t days = DaysFromCivil(candidate, date_time.month, date_time.day);
    if (days < 0) continue;
    const uint64_t ns =
        static_cast<uint64_t>(days) * kNanosPerDay +
        (uint64_t{date_time.hour} * 3600 + uint64_t{date_time.minute} * 60 + date_time.second) *
            kNanosPerSecond;
    const uint64_t distance = ns > now_ns ? ns - now_ns : now_ns - ns;
    if (distance < best_distance) {
      best_distance = distance;
      best_ns = ns;
    }
  }
  return best_ns;
}

// One request in flight: its frame bytes and the message decoded from them,
// kept until the response is encoded (the message points into the bytes).
struct Iso8583Server::Slot {
  net::ConnectionId connection;
  uint32_t sequence = 0;
  uint32_t size = 0;
  uint64_t start_ns = 0;
  uint8_t type = 0;
  uint16_t currency_numeric = 0;
  Iso8583Message message;
  std::array<uint8_t, kIso8583FrameSizeMax> bytes;
};

// A fixed pool of slots with a lock-free free list (a Treiber stack whose
// head carries a 32-bit version against ABA). Acquire on loop threads,
// Release on loop or journal threads.
class Iso8583Server::SlotPool {
 public:
  explicit SlotPool(uint32_t capacity)
      : capacity_(capacity),
        slots_(new Slot[capacity]),
        next_(new std::atomic<uint32_t>[capacity]) {
    for (uint32_t index = 0; index < capacity; ++index) {
      next_[index].store(index + 1 < capacity ? index + 2 : 0, std::memory_order_relaxed);
    }
    head_.store(1, std::memory_order_release);  // Index 0, stored as index + 1.
  }

  // kNoSlot when every slot is in flight.
  uint32_t Acquire() {
    uint64_t head = head_.load(std::memory_order_acquire);
    while (true) {
      const auto top = static_cast<uint32_t>(head);
      if (top == 0) return kNoSlot;
      const uint32_t next = next_[top - 1].load(std::memory_order_relaxed);
      const uint64_t replacement = (((head >> 32) + 1) << 32) | next;
      if (head_.compare_exchange_weak(head, replacement, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        return top - 1;
      }
    }
  }

  void Release(uint32_t index) {
    TG_DASSERT(index < capacity_);
    uint64_t head = head_.load(std::memory_order_relaxed);
    while (true) {
      next_[index].store(static_cast<uint32_t>(head), std::memory_order_relaxed);
      const uint64_t replacement = (((head >> 32) + 1) << 32) | (index + 1);
      if (head_.compare_exchange_weak(head, replacement, std::memory_order_release,
                                      std::memory_order_relaxed)) {
        return;
      }
    }
  }

  Slot& at(uint32_t index) { return slots_[index]; }
  uint32_t capacity() const { return capacity_; }

 private:
  const uint32_t capacity_;
  std::unique_ptr<Slot[]> slots_;
  std::unique_ptr<std::atomic<uint32_t>[]> next_;
  std::atomic<uint64_t> head_{0};
};

// Every metric of the server, declared in one place.
struct Iso8583Server::Metrics {
  explicit Metrics(telemetry::Registry& registry) {
    using telemetry::Application;
    using telemetry::CriticalPath;
    for (size_t index = 0; index < kCountedMtis.size(); ++index) {
      char mti_text[8];
      std::snprintf(mti_text, sizeof(mti_text), "%04u", unsigned{kCountedMtis[index]});
      requests_by_mti[index] =
          &registry.AddCounter({.name = "tangelo_gateway_requests_total",
                                .help = "ISO 8583 requests received, by message type.",
                                .application = Application::kGateway,
                                .path = CriticalPath::kAuthorization,
                                .labels = {{"mti", mti_text}}});
    }
    requests_other = &registry.AddCounter({.name = "tangelo_gateway_requests_total",
                                           .help = "ISO 8583 requests received, by message type.",
                                           .application = Application::kGateway,
                                           .path = CriticalPath::kAuthorization,
                                           .labels = {{"mti", "other"}}});
    for (size_t index = 0; index < kCountedCodes.size(); ++index) {
      responses_by_code[index] = &registry.AddCounter(
          {.name = "tangelo_gateway_responses_total",
           .help = "ISO 8583 responses sent, by response code (field 39).",
           .application = Application::kGateway,
           .path = CriticalPath::kAuthorization,
           .labels = {{"code", std::string(ResponseCodeText(
                                   static_cast<Iso8583ResponseCode>(kCountedCodes[index])))}}});
    }
    responses_other =
        &registry.AddCounter({.name = "tangelo_gateway_responses_total",
                              .help = "ISO 8583 responses sent, by response code (field 39).",
                              .application = Application::kGateway,
                              .path = CriticalPath::kAuthorization,
                              .labels = {{"code", "other"}}});
    latency = &registry.AddHistogram(
        {.name = "tangelo_gateway_request_latency_seconds",
         .help = "From a request frame's arrival to its encoded response (durable decision).",
         .unit = telemetry::Unit::kNanoseconds,
         .application = Application::kGateway,
         .path = CriticalPath::kAuthorization});
    format_errors = &registry.AddCounter(
        {.name = "tangelo_gateway_format_errors_total",
         .help = "Requests answered with response code 30 (malformed or incomplete).",
         .application = Application::kGateway,
         .path = CriticalPath::kAuthorization});
    closed_malformed = &registry.AddCounter(
        {.name = "tangelo_gateway_connections_closed_malformed_total",
         .help = "Connections closed because a message could not be answered at all.",
         .application = Application::kGateway,
         .path = CriticalPath::kAuthorization});
    engine_rejected = &registry.AddCounter(
        {.name = "tangelo_gateway_engine_rejected_total",
         .help = "Requests answered 91 because the engine or the slot pool was full or stopping.",
         .application = Application::kGateway,
         .path = CriticalPath::kAuthorization});
    engine_errors =
        &registry.AddCounter({.name = "tangelo_gateway_engine_errors_total",
                              .help = "Engine replies with an operating error, answered 96.",
                              .application = Application::kGateway,
                              .path = CriticalPath::kAuthorization});
  }

  std::array<telemetry::Counter*, kCountedMtis.size()> requests_by_mti{};
  telemetry::Counter* requests_other = nullptr;
  std::array<telemetry::Counter*, kCountedCodes.size()> responses_by_code{};
  telemetry::Counter* responses_other = nullptr;
  telemetry::HistogramMetric* latency = nullptr;
  telemetry::Counter* format_errors = nullptr;
  telemetry::Counter* closed_malformed = nullptr;
  telemetry::Counter* engine_rejected = nullptr;
  telemetry::Counter* engine_errors = nullptr;

  void CountRequest(uint16_t message_type) {
    for (size_t index = 0; index < kCountedMtis.size(); ++index) {
      if (kCountedMtis[index] == message_type) return requests_by_mti[index]->Increment();
    }
    requests_other->Increment();
  }
  void CountResponse(Iso8583ResponseCode code) {
    const auto value = static_cast<uint8_t>(code);
    for (size_t index = 0; index < kCountedCodes.size(); ++index) {
      if (kCountedCodes[index] == value) return responses_by_code[index]->Increment();
    }
    responses_other->Increment();
  }
};

namespace {

// Field 90's 11-digit acquirer id, as NetworkIds keeps it.
uint64_t AcquirerNumber(std::string_view digits) {
  uint64_t value = 0;
  return ParseDigits(digits, &value) ? value : 0;
}

// Fills the fields every authorization-like request shares. Returns the code
// to answer at once, or kApproved to submit.
Iso8583ResponseCode BuildAuthorization(const Iso8583Message& message,
                                       const issuing::PanVault& vault, uint64_t now_ns,
                                       EntryBuild* out) {
  AuthorizationRequest& request = out->authorization;
  request = AuthorizationRequest{};
  auto pan = ReadPan(message);
  if (!pan.ok()) return Iso8583ResponseCode::kFormatError;
  issuing::PanToken token;
  if (!vault.TokenizeInto(*pan, &token)) return Iso8583ResponseCode::kInvalidCardNumber;
  request.card = authorizer::CardReference::ByToken(token);
  auto processing = ReadProcessingCode(message);
  auto amount = ReadTransactionAmount(message);
  auto currency = ReadCurrencyCode(message);
  auto stan = ReadStan(message);
  auto rrn = ReadRetrievalReferenceNumber(message);
  auto date_time = ReadTransmissionDateTime(message);
  auto mcc = ReadMerchantCategoryCode(message);
  if (!processing.ok() || !amount.ok() || !currency.ok() || !stan.ok() || !rrn.ok() ||
      !date_time.ok() || !mcc.ok()) {
    return Iso8583ResponseCode::kFormatError;
  }
  if (*amount > authorizer::kAmountMinorMax) return Iso8583ResponseCode::kInvalidAmount;
  switch (processing->transaction_type) {
    case 0:
      request.type = static_cast<uint8_t>(*amount == 0 ? AuthorizationType::kAccountVerification
                                                       : AuthorizationType::kPurchase);
      break;
    case 1:
      request.type = static_cast<uint8_t>(AuthorizationType::kCashWithdrawal);
      break;
    case 30:
    case 31:
      request.type = static_cast<uint8_t>(AuthorizationType::kBalanceInquiry);
      break;
    default:
      return Iso8583ResponseCode::kInvalidTransaction;
  }
  if (message.Has(field::kExpirationDate)) {
    auto expiry = ReadExpiry(message);
    if (!expiry.ok()) return Iso8583ResponseCode::kFormatError;
    request.card_expiry_year = expiry->year;
    request.card_expiry_month = expiry->month;
  }
  uint64_t entry_mode = 0;
  if (message.Has(field::kPosEntryMode)) {
    ParseDigits(message.Field(field::kPosEntryMode).substr(0, 2), &entry_mode);
  }
  request.entry_mode = static_cast<uint8_t>(entry_mode);
  // PAN entry mode 01 (keyed) and 81 (e-commerce) are card-not-present; 07
  // and 91 are contactless chip and stripe.
  issuing::Channel channel = issuing::Channel::kCardPresent;
  if (request.type == static_cast<uint8_t>(AuthorizationType::kCashWithdrawal)) {
    channel = issuing::Channel::kAtm;
  } else if (entry_mode == 1 || entry_mode == 81) {
    channel = issuing::Channel::kEcommerce;
  }
  request.channel = static_cast<uint8_t>(channel);
  request.flags = RequestFlags::kCardByPanToken | RequestFlags::kHasNetworkIds;
  if (entry_mode == 7 || entry_mode == 91) request.flags |= RequestFlags::kContactless;
  request.currency_numeric = *currency;
  request.mcc = *mcc;
  constexpr int kAcquiringCountry = 19;
  uint64_t country = 0;
  if (message.Has(kAcquiringCountry) && ParseDigits(message.Field(kAcquiringCountry), &country)) {
    request.merchant_country_numeric = static_cast<uint16_t>(country);
  }
  request.amount_minor = *amount;
  request.transmission_time_ns = TransmissionTimeNs(*date_time, now_ns);
  if (request.transmission_time_ns == 0) return Iso8583ResponseCode::kFormatError;
  request.ids = authorizer::RequestIds::FromNetworkIds(NetworkIdsOf(message, *stan, *rrn));
  if (message.Has(field::kCardAcceptorId)) {
    const std::string_view merchant = message.Field(field::kCardAcceptorId);
    std::memcpy(request.merchant_id.data(), merchant.data(), std::min<size_t>(merchant.size(), 15));
  }
  out->type = request.type;
  out->currency_numeric = request.currency_numeric;
  return Iso8583ResponseCode::kApproved;
}

Iso8583ResponseCode BuildReversal(const Iso8583Message& message, const issuing::PanVault& vault,
                                  uint64_t now_ns, EntryBuild* out) {
  ReversalRequest& reversal = out->reversal;
  reversal = ReversalRequest{};
  auto pan = ReadPan(message);
  if (!pan.ok()) return Iso8583ResponseCode::kFormatError;
  issuing::PanToken token;
  if (!vault.TokenizeInto(*pan, &token)) return Iso8583ResponseCode::kInvalidCardNumber;
  auto amount = ReadTransactionAmount(message);
  auto currency = ReadCurrencyCode(message);
  auto stan = ReadStan(message);
  auto rrn = ReadRetrievalReferenceNumber(message);
  auto date_time = ReadTransmissionDateTime(message);
  auto original = ReadOriginalDataElements(message);
  if (!amount.ok() || !currency.ok() || !stan.ok() || !rrn.ok() || !date_time.ok() ||
      !original.ok()) {
    return Iso8583ResponseCode::kFormatError;
  }
  reversal.flags = RequestFlags::kCardByPanToken | RequestFlags::kHasNetworkIds;
  reversal.card = authorizer::CardReference::ByToken(token);
  reversal.transmission_time_ns = TransmissionTimeNs(*date_time, now_ns);
  const uint64_t original_ns = TransmissionTimeNs(original->transmission_date_time, now_ns);
  if (reversal.transmission_time_ns == 0 || original_ns == 0) {
    return Iso8583ResponseCode::kFormatError;
  }
  // Field 95 carries what stays authorized: the difference is released.
  if (message.Has(field::kReplacementAmounts)) {
    auto replacement = ReadReplacementAmount(message);
    if (!replacement.ok()) return Iso8583ResponseCode::kFormatError;
    if (*replacement >= *amount) return Iso8583ResponseCode::kInvalidAmount;
    if (*replacement == 0) {
      reversal.flags |= RequestFlags::kFullReversal;
    } else {
      reversal.amount_minor = *amount - *replacement;
      reversal.currency_numeric = *currency;
    }
  } else {
    reversal.flags |= RequestFlags::kFullReversal;
  }
  reversal.ids = authorizer::RequestIds::FromNetworkIds(NetworkIdsOf(message, *stan, *rrn));
  // The original is named by field 90 (its STAN, time and acquirer) and the
  // RRN and terminal, which a reversal repeats from its original.
  NetworkIds original_ids = NetworkIdsOf(message, original->stan, *rrn);
  original_ids.acquirer_id = AcquirerNumber(original->acquirer_id);
  reversal.original = authorizer::OriginalReference::ByNetworkIds(original_ids, original_ns);
  out->kind = EntryKind::kReverse;
  out->currency_numeric = *currency;
  return Iso8583ResponseCode::kApproved;
}

}  // namespace

Iso8583Server::Iso8583Server(Iso8583ServerOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : &io::SystemClock::Instance()) {
  TG_ASSERT(options_.spec != nullptr);
  TG_ASSERT(options_.engine != nullptr);
  TG_ASSERT(options_.pan_vault != nullptr);
  TG_ASSERT(options_.requests_in_flight_max >= 1 &&
            options_.requests_in_flight_max <= kIso8583ServerRequestsInFlightMax);
  telemetry::Registry* registry = options_.registry;
  if (registry == nullptr) {
    own_registry_ = std::make_unique<telemetry::Registry>();
    registry = own_registry_.get();
  }
  metrics_ = std::make_unique<Metrics>(*registry);
  pool_ = std::make_unique<SlotPool>(options_.requests_in_flight_max);
  net::FrameServerOptions frame_options = options_.frames;
  frame_options.frame_bytes_max = kIso8583FrameSizeMax;
  if (frame_options.tcp.thread_name == "tg-net") frame_options.tcp.thread_name = "tg-iso";
  frames_ = std::make_unique<net::FrameServer>(frame_options,
                                               [this](const net::Frame& frame) { OnFrame(frame); });
  reply_batch_ = std::make_unique<net::ReplyBatch>(&frames_->tcp());
  connections_gauge_ = registry->AddCallbackGauge(
      {.name = "tangelo_gateway_connections",
       .help = "Open ISO 8583 connections.",
       .application = telemetry::Application::kGateway,
       .path = telemetry::CriticalPath::kAuthorization},
      [this] { return static_cast<double>(frames_->Stats().tcp.connections_open); });
}

Iso8583Server::~Iso8583Server() {
  connections_gauge_.Reset();
  frames_->Shutdown(0);
}

base::Status Iso8583Server::Start() { return frames_->Start(); }

Iso8583ServerStats Iso8583Server::Stats() const {
  Iso8583ServerStats stats;
  for (const telemetry::Counter* counter : metrics_->requests_by_mti) {
    stats.requests += counter->Value();
  }
  stats.requests += metrics_->requests_other->Value();
  for (const telemetry::Counter* counter : metrics_->responses_by_code) {
    stats.responses += counter->Value();
  }
  stats.responses += metrics_->responses_other->Value();
  stats.format_errors = metrics_->format_errors->Value();
  stats.closed_malformed = metrics_->closed_malformed->Value();
  stats.engine_rejected = metrics_->engine_rejected->Value();
  stats.engine_errors = metrics_->engine_errors->Value();
  stats.network_management = metrics_->requests_by_mti[5]->Value();
  stats.frames = frames_->Stats();
  return stats;
}

void Iso8583Server::CloseMalformed(const net::Frame& frame) {
  metrics_->closed_malformed->Increment();
  frames_->Finish(frame.connection, frame.sequence);
  frames_->tcp().CloseConnection(frame.connection);
}

bool Iso8583Server::SendResponse(net::ConnectionId connection, uint32_t sequence,
                                 const Iso8583Message& request, const Iso8583ResponseFields& fields,
                                 uint64_t start_ns, bool from_engine) {
  // Per thread: loop threads answer at once, the journal thread answers from
  // the engine; neither shares these with another thread.
  thread_local Iso8583Message response;
  thread_local std::array<uint8_t, kIso8583FrameSizeMax> encoded;
  if (!BuildResponse(*options_.spec, request, fields, &response).ok()) return false;
  auto size = Encode(*options_.spec, response, encoded);
  if (!size.ok()) return false;
  const std::string_view bytes(reinterpret_cast<const char*>(encoded.data()), *size);
  metrics_->CountResponse(fields.response_code);
  if (fields.response_code == Iso8583ResponseCode::kFormatError) {
    metrics_->format_errors->Increment();
  }
  metrics_->latency->Record(clock_->MonotonicNs() - start_ns);
  if (from_engine && options_.batch_replies) {
    reply_batch_->Add(connection, sequence, bytes);
  } else {
    frames_->Reply(connection, sequence, bytes);
  }
  return true;
}

void Iso8583Server::AnswerNow(const net::Frame& frame, const Iso8583Message& request,
                              Iso8583ResponseCode code, uint64_t start_ns) {
  if (code == Iso8583ResponseCode::kIssuerUnavailable) metrics_->engine_rejected->Increment();
  Iso8583ResponseFields fields;
  fields.response_code = code;
  if (!SendResponse(frame.connection, frame.sequence, request, fields, start_ns,
                    /*from_engine=*/false)) {
    CloseMalformed(frame);
  }
}

void Iso8583Server::OnFrame(const net::Frame& frame) {
  const uint64_t start_ns = clock_->MonotonicNs();
  const uint32_t slot_index = pool_->Acquire();
  // Without a slot the request is still decoded (to answer 91 or 30), into a
  // per-thread message that lives only during this call.
  thread_local Iso8583Message overflow_message;
  Iso8583Message* message = &overflow_message;
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(frame.payload.data()),
                                 frame.payload.size());
  Slot* slot = nullptr;
  if (slot_index != kNoSlot) {
    slot = &pool_->at(slot_index);
    // FrameServer closes on frames over kIso8583FrameSizeMax; never copy more.
    const size_t size = std::min<size_t>(bytes.size(), slot->bytes.size());
    std::memcpy(slot->bytes.data(), bytes.data(), size);
    slot->size = static_cast<uint32_t>(size);
    bytes = std::span<const uint8_t>(slot->bytes.data(), size);
    message = &slot->message;
  }
  // Every path below that does not submit gives the slot back.
  struct SlotGuard {
    SlotPool* pool;
    uint32_t index;
    ~SlotGuard() {
      if (index != kNoSlot) pool->Release(index);
    }
  } guard{pool_.get(), slot_index};

  Iso8583DecodeError error;
  const base::Status decoded = Decode(*options_.spec, bytes, message, &error);
  metrics_->CountRequest(message->mti());
  if (!decoded.ok()) {
    // A response needs at least a known request MTI; BuildResponse refuses
    // anything else, and then the connection closes.
    AnswerNow(frame, *message, Iso8583ResponseCode::kFormatError, start_ns);
    return;
  }
  int missing_field = 0;
  if (!CheckMessage(*options_.spec, *message, &missing_field).ok()) {
    if (missing_field == 0) {
      CloseMalformed(frame);  // Unknown or non-request MTI: nothing to answer with.
    } else {
      AnswerNow(frame, *message, Iso8583ResponseCode::kFormatError, start_ns);
    }
    return;
  }

  EntryBuild entry;
  Iso8583ResponseCode refuse = Iso8583ResponseCode::kApproved;
  switch (message->mti()) {
    case mti::kNetworkManagementRequest: {
      // Sign-on, sign-off and echo need no state: the line is up when the
      // TCP connection is; the answer proves the server reads and decodes.
      const bool known = ReadNetworkManagementCode(*message).ok();
      AnswerNow(frame, *message,
                known ? Iso8583ResponseCode::kApproved : Iso8583ResponseCode::kFormatError,
                start_ns);
      return;
    }
    case mti::kAuthorizationRequest:
    case mti::kFinancialRequest:
      refuse = BuildAuthorization(*message, *options_.pan_vault, clock_->RealtimeNs(), &entry);
      entry.kind = EntryKind::kAuthorize;
      break;
    case mti::kAuthorizationAdvice:
      refuse = BuildAuthorization(*message, *options_.pan_vault, clock_->RealtimeNs(), &entry);
      entry.kind = EntryKind::kAdvice;
      break;
    case mti::kReversalRequest:
    case mti::kReversalAdvice:
      refuse = BuildReversal(*message, *options_.pan_vault, clock_->RealtimeNs(), &entry);
      break;
    default:
      CloseMalformed(frame);  // The dialect has a request Tangelo does not serve.
      return;
  }
  if (refuse != Iso8583ResponseCode::kApproved) {
    AnswerNow(frame, *message, refuse, start_ns);
    return;
  }
  if (slot == nullptr) {
    AnswerNow(frame, *message, Iso8583ResponseCode::kIssuerUnavailable, start_ns);
    return;
  }
  slot->connection = frame.connection;
  slot->sequence = frame.sequence;
  slot->start_ns = start_ns;
  slot->type = entry.type;
  slot->currency_numeric = entry.currency_numeric;
  const std::span<const std::byte> payload = entry.kind == EntryKind::kReverse
                                                 ? authorizer::PayloadOf(entry.reversal)
                                                 : authorizer::PayloadOf(entry.authorization);
  const engine::SubmitResult submitted =
      options_.engine->TrySubmit(static_cast<uint16_t>(entry.kind), payload, this, slot_index);
  if (submitted != engine::SubmitResult::kAccepted) {
    AnswerNow(frame, *message, Iso8583ResponseCode::kIssuerUnavailable, start_ns);
    return;
  }
  guard.index = kNoSlot;  // Complete() releases it.
}

void Iso8583Server::Complete(uint64_t tag, const engine::Reply& reply) {
  TG_ASSERT(tag < pool_->capacity());
  const auto slot_index = static_cast<uint32_t>(tag);
  Slot& slot = pool_->at(slot_index);
  Iso8583ResponseFields fields;
  std::array<char, 7> approval{};  // Field 38: six digits.
  AdditionalAmount balance;
  const uint16_t request_mti = slot.message.mti();
  if (request_mti == mti::kReversalRequest || request_mti == mti::kReversalAdvice) {
    const authorizer::ReversalReply reversal = authorizer::DecodeReversalReply(reply);
    if (reversal.code != authorizer::ReplyCode::kOk) {
      metrics_->engine_errors->Increment();
      fields.response_code = Iso8583ResponseCode::kSystemMalfunction;
    } else {
      fields.response_code = ResponseCodeFromText(reversal.response_code);
    }
  } else {
    const authorizer::DecisionReply decision = authorizer::DecodeDecisionReply(reply);
    if (decision.code != authorizer::ReplyCode::kOk) {
      metrics_->engine_errors->Increment();
      fields.response_code = Iso8583ResponseCode::kSystemMalfunction;
    } else if (decision.decision == authorizer::Decision::kPendingClientDecision) {
      // The client's real-time decision is not wired to this door yet: the
      // network retries or stands in (docs/gateway/README.md).
      fields.response_code = Iso8583ResponseCode::kIssuerUnavailable;
    } else {
      fields.response_code = ResponseCodeFromText(decision.response_code);
      if ((decision.decision == authorizer::Decision::kApproved ||
           decision.decision == authorizer::Decision::kPartiallyApproved) &&
          decision.authorization_id.value() != 0) {
        // The approval code: the authorization id's last six digits.
        uint64_t code_digits = decision.authorization_id.value();
        for (int position = 5; position >= 0; --position) {
          approval[static_cast<size_t>(position)] = static_cast<char>('0' + code_digits % 10);
          code_digits /= 10;
        }
        fields.authorization_id = std::string_view(approval.data(), 6);
      }
      if (slot.type == static_cast<uint8_t>(AuthorizationType::kBalanceInquiry) &&
          fields.response_code == Iso8583ResponseCode::kApproved) {
        balance.amount_type = kAmountTypeAvailableBalance;
        balance.currency_code = slot.currency_numeric;
        balance.amount_minor_units = decision.available_minor;
        fields.additional_amounts = std::span<const AdditionalAmount>(&balance, 1);
      }
    }
  }
  if (!SendResponse(slot.connection, slot.sequence, slot.message, fields, slot.start_ns,
                    /*from_engine=*/true)) {
    // Cannot happen for a message that passed CheckMessage; never leave the
    // frame uncompleted.
    metrics_->closed_malformed->Increment();
    frames_->tcp().CloseConnection(slot.connection);
  }
  pool_->Release(slot_index);
}

void Iso8583Server::FlushReplies() {
  if (reply_batch_->pending() > 0) reply_batch_->Submit();
}

}  // namespace tangelo::gateway
