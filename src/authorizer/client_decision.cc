#include "authorizer/client_decision.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <simdjson.h>

#include <charconv>
#include <cstring>

#include "base/assert.h"
#include "base/money.h"

namespace tangelo::authorizer {
namespace {

std::string_view TypeName(AuthorizationType type) {
  switch (type) {
    case AuthorizationType::kPurchase: return "purchase";
    case AuthorizationType::kCashWithdrawal: return "cash_withdrawal";
    case AuthorizationType::kBalanceInquiry: return "balance_inquiry";
    case AuthorizationType::kAccountVerification: return "account_verification";
  }
  return "unknown";
}

std::string_view ChannelWireName(issuing::Channel channel) {
  switch (channel) {
    case issuing::Channel::kCardPresent: return "card_present";
    case issuing::Channel::kEcommerce: return "ecommerce";
    case issuing::Channel::kAtm: return "atm";
  }
  return "unknown";
}

void AppendQuoted(std::string& out, std::string_view text) {
  out += '"';
  for (char byte : text) {
    if (byte == '"' || byte == '\\') out += '\\';
    out += byte;
  }
  out += '"';
}

void AppendQuotedNumber(std::string& out, uint64_t value) {
  out += '"';
  out += std::to_string(value);
  out += '"';
}

bool ParseDecimal(std::string_view text, uint64_t* value) {
  if (text.empty() || text.size() > 20) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && end == text.data() + text.size();
}

ClientDecisionAnswer Answer(ClientDecisionOutcome outcome, uint64_t amount_minor = 0) {
  return ClientDecisionAnswer{outcome, amount_minor};
}

}  // namespace

ClientDecisionRequest MakeClientDecisionRequest(const DecisionReply& pending,
                                                const AuthorizationRequest& request,
                                                const RequestKey& request_key, bool incremental) {
  TG_ASSERT(pending.decision == Decision::kPendingClientDecision);
  ClientDecisionRequest out;
  out.authorization_id = pending.authorization_id;
  out.request_key = request_key;
  out.tenant_id = pending.tenant_id;
  out.program_id = pending.program_id;
  out.card_id = pending.card_id;
  out.user_id = pending.user_id;
  out.type = static_cast<AuthorizationType>(request.type);
  out.incremental = incremental;
  out.amount_minor = pending.approved_amount_minor;
  out.currency_numeric = request.currency_numeric;
  out.mcc = request.mcc;
  out.merchant_country_numeric = request.merchant_country_numeric;
  out.channel = static_cast<issuing::Channel>(request.channel);
  out.contactless = (request.flags & RequestFlags::kContactless) != 0;
  out.merchant_id = request.merchant_id;
  out.transmission_time_ns = request.transmission_time_ns;
  out.engine_deadline_ns = pending.deadline_ns;
  return out;
}

ClientDecisionResultEntry MakeClientDecisionResult(const ClientDecisionRequest& request,
                                                   const ClientDecisionAnswer& answer) {
  ClientDecisionResultEntry entry;
  entry.outcome = static_cast<uint8_t>(answer.outcome);
  entry.authorization_id = request.authorization_id.value();
  entry.approved_amount_minor =
      answer.outcome == ClientDecisionOutcome::kApprovePartial ? answer.approved_amount_minor : 0;
  entry.request_key_high = request.request_key.high;
  entry.request_key_low = request.request_key.low;
  return entry;
}

std::string EncodeClientDecisionBody(const ClientDecisionRequest& request) {
  std::string out;
  out.reserve(512);
  out += "{\"authorization_id\":";
  AppendQuotedNumber(out, request.authorization_id.value());
  out += ",\"tenant_id\":";
  AppendQuotedNumber(out, request.tenant_id.value());
  out += ",\"program_id\":";
  AppendQuotedNumber(out, request.program_id.value());
  out += ",\"card_id\":";
  AppendQuotedNumber(out, request.card_id.value());
  out += ",\"user_id\":";
  AppendQuotedNumber(out, request.user_id.value());
  out += ",\"type\":";
  AppendQuoted(out, TypeName(request.type));
  out += ",\"incremental\":";
  out += request.incremental ? "true" : "false";
  out += ",\"amount\":{\"minor\":";
  out += std::to_string(request.amount_minor);
  out += ",\"currency\":";
  const auto currency = base::CurrencyFromNumeric(request.currency_numeric);
  AppendQuoted(out, currency.has_value() ? currency->alpha() : std::string_view("XXX"));
  out += "},\"merchant\":{\"id\":";
  AppendQuoted(out, std::string_view(request.merchant_id.data()));
  out += ",\"mcc\":";
  out += std::to_string(request.mcc);
  out += ",\"country\":";
  out += std::to_string(request.merchant_country_numeric);
  out += "},\"channel\":";
  AppendQuoted(out, ChannelWireName(request.channel));
  out += ",\"contactless\":";
  out += request.contactless ? "true" : "false";
  out += ",\"transmitted_at_ns\":";
  AppendQuotedNumber(out, request.transmission_time_ns);
  out += ",\"deadline_ns\":";
  AppendQuotedNumber(out, request.engine_deadline_ns);
  out += '}';
  return out;
}

std::string SignClientPayload(std::string_view secret, uint64_t timestamp_seconds,
                              std::string_view body) {
  std::string message = std::to_string(timestamp_seconds);
  message += '.';
  message += body;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  const unsigned char* result =
      HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest,
           &digest_size);
  TG_ASSERT_MSG(result != nullptr, "HMAC-SHA256 failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(size_t{digest_size} * 2, '0');
  for (unsigned int index = 0; index < digest_size; ++index) {
    hex[2 * index] = kHex[digest[index] >> 4];
    hex[2 * index + 1] = kHex[digest[index] & 0xf];
  }
  return hex;
}

std::string EncodeClientAnswerBody(AuthorizationId id, ClientDecisionOutcome outcome,
                                   uint64_t approved_amount_minor) {
  std::string out = "{\"authorization_id\":";
  AppendQuotedNumber(out, id.value());
  out += ",\"decision\":";
  switch (outcome) {
    case ClientDecisionOutcome::kApprove: out += "\"approve\""; break;
    case ClientDecisionOutcome::kApprovePartial:
      out += "\"approve_partial\",\"amount_minor\":";
      out += std::to_string(approved_amount_minor);
      break;
    default: out += "\"decline\""; break;
  }
  out += '}';
  return out;
}

ClientDecisionAnswer InterpretClientAnswer(const ClientDecisionRequest& request,
                                           const ClientHttpResult& result,
                                           std::string_view secret, uint64_t now_seconds) {
  switch (result.transport) {
    case ClientHttpResult::Transport::kTimeout: return Answer(ClientDecisionOutcome::kTimeout);
    case ClientHttpResult::Transport::kRefused: return Answer(ClientDecisionOutcome::kRefused);
    case ClientHttpResult::Transport::kAnswered: break;
  }
  if (result.status >= 500 && result.status <= 599) {
    return Answer(ClientDecisionOutcome::kServerError);
  }
  if (result.status != 200) return Answer(ClientDecisionOutcome::kMalformed);

  // The signature first: nothing unauthenticated is parsed.
  uint64_t signed_at = 0;
  if (!ParseDecimal(result.timestamp_header, &signed_at)) {
    return Answer(ClientDecisionOutcome::kBadSignature);
  }
  const uint64_t skew = signed_at > now_seconds ? signed_at - now_seconds : now_seconds - signed_at;
  if (skew > kClientSignatureSkewSecondsMax) return Answer(ClientDecisionOutcome::kBadSignature);
  const std::string expected = SignClientPayload(secret, signed_at, result.body);
  if (result.signature_header.size() != expected.size() ||
      CRYPTO_memcmp(result.signature_header.data(), expected.data(), expected.size()) != 0) {
    return Answer(ClientDecisionOutcome::kBadSignature);
  }

  if (result.body.size() > kClientAnswerBodyBytesMax) {
    return Answer(ClientDecisionOutcome::kMalformed);
  }
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(result.body);
  simdjson::ondemand::document document;
  simdjson::ondemand::object object;
  if (parser.iterate(padded).get(document) != simdjson::SUCCESS ||
      document.get_object().get(object) != simdjson::SUCCESS) {
    return Answer(ClientDecisionOutcome::kMalformed);
  }
  std::string id_text;
  std::string decision;
  uint64_t amount_minor = 0;
  bool has_amount = false;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
      return Answer(ClientDecisionOutcome::kMalformed);
    }
    std::string_view text;
    if (key == "authorization_id") {
      if (field.value().get_string().get(text) != simdjson::SUCCESS) {
        return Answer(ClientDecisionOutcome::kMalformed);
      }
      id_text = text;
    } else if (key == "decision") {
      if (field.value().get_string().get(text) != simdjson::SUCCESS) {
        return Answer(ClientDecisionOutcome::kMalformed);
      }
      decision = text;
    } else if (key == "amount_minor") {
      if (field.value().get_uint64().get(amount_minor) != simdjson::SUCCESS) {
        return Answer(ClientDecisionOutcome::kMalformed);
      }
      has_amount = true;
    }
    // Other fields are skipped: a client may add fields of its own.
  }
  uint64_t id = 0;
  if (!ParseDecimal(id_text, &id) || id != request.authorization_id.value()) {
    return Answer(ClientDecisionOutcome::kMalformed);
  }
  if (decision == "approve") return Answer(ClientDecisionOutcome::kApprove);
  if (decision == "decline") return Answer(ClientDecisionOutcome::kDecline);
  if (decision == "approve_partial" && has_amount && amount_minor > 0) {
    if (amount_minor >= request.amount_minor) return Answer(ClientDecisionOutcome::kApprove);
    return Answer(ClientDecisionOutcome::kApprovePartial, amount_minor);
  }
  return Answer(ClientDecisionOutcome::kMalformed);
}

}  // namespace tangelo::authorizer
