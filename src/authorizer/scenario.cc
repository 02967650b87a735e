#include "authorizer/scenario.h"

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "authorizer/client_decision.h"
#include "authorizer/client_decision_http.h"
#include "authorizer/client_endpoint_server.h"
#include "authorizer/fake_client_decision_gateway.h"
#include "net/event_loop.h"
#include "authorizer/test_harness.h"
#include "base/money.h"
#include "issuing/card_status.h"

namespace tangelo::authorizer::testing {
namespace {

using issuing::DeclineReason;

constexpr std::string_view kClientSecret = "scenario-client-secret-0123456789";

// One line split into a verb, positional words and key=value options.
struct Line {
  int number = 0;
  std::string verb;
  std::vector<std::string> words;
  std::map<std::string, std::string> options;
  std::set<std::string> flags;  // Bare words after the first positional ones.

  bool Has(const std::string& key) const {
    return options.count(key) > 0 || flags.count(key) > 0 ||
           std::find(words.begin(), words.end(), key) != words.end();
  }
  std::optional<std::string> Get(const std::string& key) const {
    const auto found = options.find(key);
    if (found == options.end()) return std::nullopt;
    return found->second;
  }
};

Line Split(int number, const std::string& text) {
  Line line;
  line.number = number;
  std::istringstream stream(text);
  std::string word;
  stream >> line.verb;
  while (stream >> word) {
    const size_t equals = word.find('=');
    if (equals != std::string::npos) {
      line.options[word.substr(0, equals)] = word.substr(equals + 1);
    } else if (line.options.empty() && line.flags.empty()) {
      line.words.push_back(word);
    } else {
      line.flags.insert(word);
    }
  }
  // A bare word after a positional one is a flag ("authorize A1 partial").
  return line;
}

std::vector<std::string> SplitList(const std::string& text, char separator = ',') {
  std::vector<std::string> out;
  std::string item;
  std::istringstream stream(text);
  while (std::getline(stream, item, separator)) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

bool ParseU64(std::string_view text, uint64_t* value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

// "500ms", "2s", "15m", "3h", "8d".
std::optional<uint64_t> ParseDuration(std::string text) {
  uint64_t unit = 0;
  if (text.ends_with("ms")) {
    unit = 1'000'000;
    text.resize(text.size() - 2);
  } else if (!text.empty()) {
    switch (text.back()) {
      case 's': unit = kSecondNs; break;
      case 'm': unit = 60 * kSecondNs; break;
      case 'h': unit = 3600 * kSecondNs; break;
      case 'd': unit = 86400 * kSecondNs; break;
      default: return std::nullopt;
    }
    text.pop_back();
  }
  uint64_t count = 0;
  if (!ParseU64(text, &count)) return std::nullopt;
  return count * unit;
}

// "2026-03-11T12:00:00Z" (seconds optional).
std::optional<uint64_t> ParseTime(const std::string& text) {
  int year = 0;
  unsigned month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (std::sscanf(text.c_str(), "%d-%u-%uT%u:%u:%uZ", &year, &month, &day, &hour, &minute,
                  &second) < 5) {
    return std::nullopt;
  }
  return NsAt(year, month, day, hour, minute, second);
}

std::optional<DeclineReason> ReasonByName(const std::string& name) {
  for (uint16_t value = 0; value < 256; ++value) {
    if (!issuing::IsKnownDeclineReason(value)) continue;
    const auto reason = static_cast<DeclineReason>(value);
    if (issuing::DeclineReasonName(reason) == name) return reason;
  }
  return std::nullopt;
}

std::optional<uint8_t> ReplyFlagByName(const std::string& name) {
  if (name == "retransmission") return ReplyFlags::kRetransmission;
  if (name == "stand-in") return ReplyFlags::kStandIn;
  if (name == "advice") return ReplyFlags::kAdvice;
  if (name == "late") return ReplyFlags::kLateClientAnswer;
  if (name == "original-not-found") return ReplyFlags::kOriginalNotFound;
  if (name == "not-held") return ReplyFlags::kNotHeld;
  return std::nullopt;
}

std::optional<issuing::CardStatus> CardStatusByName(const std::string& name) {
  static const std::map<std::string, issuing::CardStatus> kStatuses = {
      {"created", issuing::CardStatus::kCreated}, {"active", issuing::CardStatus::kActive},
      {"blocked", issuing::CardStatus::kBlocked}, {"lost", issuing::CardStatus::kLost},
      {"stolen", issuing::CardStatus::kStolen},   {"expired", issuing::CardStatus::kExpired},
      {"closed", issuing::CardStatus::kClosed}};
  const auto found = kStatuses.find(name);
  if (found == kStatuses.end()) return std::nullopt;
  return found->second;
}

// What one named request was and what it got.
struct Named {
  EntryKind kind = EntryKind::kAuthorize;
  std::vector<std::byte> payload;
  AuthorizationRequest request;  // kAuthorize, kAdvice and (the embedded) increment.
  RequestKey key;
  engine::Reply reply;
};

// Collects the HTTP gateway's answer (on its loop thread) for the runner's
// thread, which alone touches the state machine.
class AnswerWaiter final : public ClientDecisionListener {
 public:
  void OnClientDecision(const ClientDecisionRequest&, const ClientDecisionAnswer& answer) override {
    std::lock_guard lock(mutex_);
    answer_ = answer;
    ready_.notify_all();
  }
  std::optional<ClientDecisionAnswer> Take() {
    std::unique_lock lock(mutex_);
    ready_.wait_for(lock, std::chrono::seconds(10), [&] { return answer_.has_value(); });
    std::optional<ClientDecisionAnswer> answer = answer_;
    answer_.reset();
    return answer;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::optional<ClientDecisionAnswer> answer_;
};

// The client's endpoint over real HTTP: a local server that answers as the
// scenario says, and the production gateway in front of it.
struct HttpClientSide {
  HttpClientSide()
      : server(std::string(kClientSecret), &io::SystemClock::Instance()) {}
  base::Status Start() {
    TG_RETURN_IF_ERROR(server.Start());
    auto started = net::EventLoopThread::Start(net::EventLoopOptions{}, "scenario-http");
    if (!started.ok()) return started.status();
    loop = std::move(started).value();
    auto created = net::HttpClient::Create(&loop->loop(), net::HttpClientOptions{});
    if (!created.ok()) return created.status();
    client = std::move(created).value();
    gateway = std::make_unique<HttpClientDecisionGateway>(client.get(), &endpoints,
                                                          &io::SystemClock::Instance());
    return base::Status::Ok();
  }
  ~HttpClientSide() {
    server.Stop();
    gateway.reset();
    client.reset();
    loop.reset();
  }

  ClientEndpointServer server;
  std::unique_ptr<net::EventLoopThread> loop;
  std::unique_ptr<net::HttpClient> client;
  StaticClientEndpointDirectory endpoints;
  std::unique_ptr<HttpClientDecisionGateway> gateway;
  AnswerWaiter waiter;
};

class Runner final : public ClientDecisionListener {
 public:
  Runner(std::string name, ClientTransport transport)
      : name_(std::move(name)),
        transport_(transport),
        gateway_(std::string(kClientSecret), 1'800'000'000) {}

  ScenarioResult Run(const std::string& text) {
    if (transport_ == ClientTransport::kHttp) {
      http_ = std::make_unique<HttpClientSide>();
      const base::Status started = http_->Start();
      if (!started.ok()) {
        result_.failures.push_back(name_ + ": cannot start the HTTP client side: " +
                                   started.ToString());
        return std::move(result_);
      }
    }
    std::istringstream stream(text);
    std::string raw;
    int number = 0;
    while (std::getline(stream, raw)) {
      ++number;
      const size_t hash = raw.find('#');
      if (hash != std::string::npos) raw.resize(hash);
      if (raw.find_first_not_of(" \t\r") == std::string::npos) continue;
      line_ = Split(number, raw);
      ++result_.lines_run;
      RunLine();
    }
    Finish();
    return std::move(result_);
  }

  // The fake gateway answers on the runner's thread, so it applies directly.
  void OnClientDecision(const ClientDecisionRequest& request,
                        const ClientDecisionAnswer& answer) override {
    ApplyAnswer(request, answer);
  }

  void ApplyAnswer(const ClientDecisionRequest& request, const ClientDecisionAnswer& answer) {
    const ClientDecisionResultEntry entry = MakeClientDecisionResult(request, answer);
    const engine::Reply reply = harness_.Apply(EntryKind::kClientDecisionResult, PayloadOf(entry));
    const auto found = pending_names_.find(request.authorization_id.value());
    if (found != pending_names_.end()) named_[found->second].reply = reply;
  }

 private:
  void Fail(const std::string& message) {
    result_.failures.push_back(name_ + ":" + std::to_string(line_.number) + ": " + message);
  }

  // ------------------------------------------------------------ values

  uint64_t Amount(const std::string& text, uint16_t currency) {
    const auto found = base::CurrencyFromNumeric(currency);
    const auto amount = found ? base::ParseAmount(text, *found) : std::nullopt;
    if (!amount.has_value()) {
      Fail("bad amount '" + text + "'");
      return 0;
    }
    return *amount;
  }
  uint64_t Amount(const std::string& text) { return Amount(text, currency_); }

  std::string Show(uint64_t minor) const {
    const auto currency = base::CurrencyFromNumeric(currency_);
    return currency ? base::FormatAmount(minor, *currency) : std::to_string(minor);
  }

  uint64_t Number(const std::string& key, uint64_t fallback = 0) {
    const auto text = line_.Get(key);
    if (!text.has_value()) return fallback;
    uint64_t value = 0;
    if (!ParseU64(*text, &value)) Fail("bad number for " + key + ": " + *text);
    return value;
  }

  uint64_t Word(size_t index) {
    uint64_t value = 0;
    if (index >= line_.words.size() || !ParseU64(line_.words[index], &value)) {
      Fail("expected a number as word " + std::to_string(index + 1));
    }
    return value;
  }

  std::string Name(size_t index = 0) {
    if (index >= line_.words.size()) {
      Fail("expected a request name");
      return "?";
    }
    return line_.words[index];
  }

  void MustCommand(const issuing::Command& command) {
    const uint32_t result = harness_.Command(command);
    if (result != 0) {
      Fail("setup command failed: " +
           (result >= 1000 ? std::string(ReplyCodeName(static_cast<ReplyCode>(result)))
                           : std::string(issuing::CommandResultName(
                                 static_cast<issuing::CommandResult>(result)))));
    }
  }

  // ------------------------------------------------------------ lines

  void RunLine() {
    const std::string& verb = line_.verb;
    if (verb == "time") {
      const auto at = ParseTime(Name());
      if (!at) return Fail("bad time");
      harness_.SetNow(*at);
    } else if (verb == "advance") {
      const auto delta = ParseDuration(Name());
      if (!delta) return Fail("bad duration");
      harness_.Advance(*delta);
    } else if (verb == "tick") {
      harness_.Tick();
    } else if (verb == "tenant") {
      Tenant();
    } else if (verb == "program") {
      Program();
    } else if (verb == "realtime") {
      Realtime();
    } else if (verb == "hold-expiry") {
      HoldExpiry();
    } else if (verb == "user") {
      MustCommand(issuing::CreateUser{tenant_, issuing::UserId(Word(0))});
    } else if (verb == "set-user") {
      SetUser();
    } else if (verb == "account") {
      Account();
    } else if (verb == "card") {
      Card();
    } else if (verb == "set-card") {
      const auto status = CardStatusByName(line_.Get("status").value_or(""));
      if (!status) return Fail("bad card status");
      MustCommand(issuing::ChangeCardStatus{tenant_, issuing::CardId(Word(0)), *status});
    } else if (verb == "controls") {
      Controls();
    } else if (verb == "fund" || verb == "withdraw") {
      Fund(verb == "fund");
    } else if (verb == "authorize" || verb == "advice") {
      Authorize(verb == "advice");
    } else if (verb == "increment") {
      Increment();
    } else if (verb == "reverse") {
      Reverse();
    } else if (verb == "retransmit") {
      Retransmit();
    } else if (verb == "client") {
      Client();
    } else if (verb == "expect") {
      Expect();
    } else if (verb == "expect-balance") {
      ExpectBalance();
    } else if (verb == "expect-authorization") {
      ExpectAuthorization();
    } else if (verb == "expect-advice") {
      ExpectAdvice();
    } else if (verb == "expect-no-advice") {
      ExpectNoAdvice();
    } else if (verb == "acknowledge-advices") {
      AcknowledgeAdvicesRequest request;
      request.through_sequence = advice_cursor_ - 1;
      harness_.Apply(EntryKind::kAcknowledgeAdvices, PayloadOf(request));
    } else {
      Fail("unknown verb '" + verb + "'");
    }
  }

  void Tenant() {
    tenant_ = issuing::TenantId(Word(0));
    if (tenants_.insert(tenant_.value()).second) {
      MustCommand(issuing::CreateTenant{tenant_, *issuing::MakeName("Tenant")});
    }
  }

  void Program() {
    const uint64_t id = Word(0);
    const auto currency = base::CurrencyFromAlpha(line_.Get("currency").value_or("USD"));
    if (!currency) return Fail("unknown currency");
    currency_ = currency->numeric_code;
    program_currency_[id] = currency_;
    MustCommand(issuing::CreateProgram{tenant_, issuing::ProgramId(id),
                                       *issuing::MakeName("Program"), currency_});
  }

  void Realtime() {
    issuing::SetRealtimeDecision command;
    command.tenant_id = tenant_;
    command.program_id = issuing::ProgramId(Number("program"));
    issuing::RealtimeDecisionSettings& settings = command.settings;
    settings.required = !line_.Has("off");
    settings.deadline_ms = static_cast<uint16_t>(Number("deadline_ms", 1500));
    (void)settings.SetUrl(line_.Get("url").value_or("http://client.example/authorizations"));
    const std::string stand_in = line_.Get("stand_in").value_or("decline");
    if (stand_in.starts_with("approve_up_to:")) {
      settings.stand_in_policy = issuing::StandInPolicy::kApproveUpToLimit;
      settings.stand_in_amount_max_minor = Amount(stand_in.substr(14));
    } else if (stand_in != "decline") {
      return Fail("stand_in is decline or approve_up_to:<amount>");
    }
    MustCommand(command);
  }

  void HoldExpiry() {
    issuing::SetHoldExpiry command;
    command.tenant_id = tenant_;
    command.program_id = issuing::ProgramId(Number("program"));
    command.table.default_days = static_cast<uint16_t>(Number("default_days", 7));
    if (const auto rule = line_.Get("rule")) {
      unsigned first = 0, last = 0, days = 0;
      if (std::sscanf(rule->c_str(), "%u-%u:%u", &first, &last, &days) != 3) {
        return Fail("rule is <first mcc>-<last mcc>:<days>");
      }
      (void)command.table.AddRule(static_cast<uint16_t>(first), static_cast<uint16_t>(last),
                                  static_cast<uint16_t>(days));
    }
    MustCommand(command);
  }

  void SetUser() {
    const std::string status = line_.Get("status").value_or("");
    issuing::UserStatus value = issuing::UserStatus::kActive;
    if (status == "blocked") {
      value = issuing::UserStatus::kBlocked;
    } else if (status == "disabled") {
      value = issuing::UserStatus::kDisabled;
    } else if (status != "active") {
      return Fail("bad user status");
    }
    MustCommand(issuing::SetUserStatus{tenant_, issuing::UserId(Word(0)), value});
  }

  void Account() {
    const uint64_t id = Word(0);
    const uint64_t program = Number("program");
    const uint16_t currency =
        program_currency_.count(program) > 0 ? program_currency_[program] : currency_;
    account_currency_[id] = currency;
    MustCommand(issuing::CreateAccount{tenant_, issuing::AccountId(id),
                                       issuing::ProgramId(program),
                                       issuing::UserId(Number("user")),
                                       issuing::LedgerAccountId(Number("ledger", 50'000 + id)),
                                       currency});
  }

  void Card() {
    const uint64_t id = Word(0);
    const std::string pan = line_.Get("pan").value_or(TestPan(id));
    unsigned year = 2030, month = 12;
    if (const auto expiry = line_.Get("expiry")) {
      if (std::sscanf(expiry->c_str(), "%u-%u", &year, &month) != 2) return Fail("bad expiry");
    }
    const auto status = CardStatusByName(line_.Get("status").value_or("active"));
    if (!status) return Fail("bad card status");
    MustCommand(harness_.MakeCard(tenant_, issuing::CardId(id), issuing::UserId(Number("user")),
                                  issuing::AccountId(Number("account")), pan, *status,
                                  static_cast<uint16_t>(year), static_cast<uint8_t>(month)));
    card_pan_[id] = pan;
  }

  void Controls() {
    issuing::SetControls command;
    command.tenant_id = tenant_;
    if (line_.Get("card")) {
      command.level = issuing::ControlLevel::kCard;
      command.target_id = Number("card");
    } else if (line_.Get("account")) {
      command.level = issuing::ControlLevel::kAccount;
      command.target_id = Number("account");
    } else if (line_.Get("program")) {
      command.level = issuing::ControlLevel::kProgram;
      command.target_id = Number("program");
    } else if (line_.Get("program-default")) {
      command.level = issuing::ControlLevel::kProgramCardDefault;
      command.target_id = Number("program-default");
    } else {
      return Fail("controls need card=, account=, program= or program-default=");
    }
    issuing::Controls& controls = command.controls;
    const auto amount_of = [&](const char* key, uint64_t* out) {
      if (const auto text = line_.Get(key)) *out = Amount(*text);
    };
    amount_of("per_transaction", &controls.transaction_amount_max);
    amount_of("daily", &controls.daily_amount_max);
    amount_of("weekly", &controls.weekly_amount_max);
    amount_of("monthly", &controls.monthly_amount_max);
    amount_of("lifetime", &controls.lifetime_amount_max);
    bool ok = true;
    if (const auto velocity = line_.Get("velocity")) {
      for (const std::string& rule : SplitList(*velocity)) {
        const size_t slash = rule.find('/');
        uint64_t count = 0;
        const auto window = slash == std::string::npos ? std::nullopt
                                                       : ParseDuration(rule.substr(slash + 1));
        if (!window || !ParseU64(rule.substr(0, slash), &count)) return Fail("velocity N/window");
        ok &= controls.AddVelocityRule(static_cast<uint32_t>(*window / kSecondNs),
                                       static_cast<uint32_t>(count));
      }
    }
    const auto mcc_ranges = [&](const char* key, bool allow) {
      const auto text = line_.Get(key);
      if (!text) return;
      for (const std::string& range : SplitList(*text)) {
        unsigned first = 0, last = 0;
        const int read = std::sscanf(range.c_str(), "%u-%u", &first, &last);
        if (read < 1) return Fail("bad mcc range");
        if (read == 1) last = first;
        ok &= allow ? controls.AllowMcc(static_cast<uint16_t>(first), static_cast<uint16_t>(last))
                    : controls.DenyMcc(static_cast<uint16_t>(first), static_cast<uint16_t>(last));
      }
    };
    mcc_ranges("mcc_allow", true);
    mcc_ranges("mcc_deny", false);
    for (const char* key : {"country_allow", "country_deny"}) {
      const auto text = line_.Get(key);
      if (!text) continue;
      for (const std::string& country : SplitList(*text)) {
        uint64_t value = 0;
        if (!ParseU64(country, &value)) return Fail("bad country");
        ok &= std::string_view(key) == "country_allow"
                  ? controls.AllowCountry(static_cast<uint16_t>(value))
                  : controls.DenyCountry(static_cast<uint16_t>(value));
      }
    }
    for (const char* key : {"merchant_allow", "merchant_deny"}) {
      const auto text = line_.Get(key);
      if (!text) continue;
      for (const std::string& merchant : SplitList(*text)) {
        const auto id = issuing::MerchantId::FromString(merchant);
        if (!id) return Fail("bad merchant id");
        ok &= std::string_view(key) == "merchant_allow" ? controls.AllowMerchant(*id)
                                                        : controls.DenyMerchant(*id);
      }
    }
    if (const auto blocked = line_.Get("block")) {
      for (const std::string& channel : SplitList(*blocked)) {
        if (channel == "card_present") {
          controls.channels_blocked |= issuing::kChannelBitCardPresent;
        } else if (channel == "ecommerce") {
          controls.channels_blocked |= issuing::kChannelBitEcommerce;
        } else if (channel == "atm") {
          controls.channels_blocked |= issuing::kChannelBitAtm;
        } else if (channel == "contactless") {
          controls.channels_blocked |= issuing::kChannelBitContactless;
        } else {
          return Fail("unknown channel " + channel);
        }
      }
    }
    if (!ok) return Fail("too many control entries");
    MustCommand(command);
  }

  void Fund(bool credit) {
    const uint64_t account = Number("account");
    const uint16_t currency = account_currency_.count(account) > 0 ? account_currency_[account]
                                                                   : currency_;
    FundAccountRequest request;
    request.direction =
        static_cast<uint8_t>(credit ? FundingDirection::kCredit : FundingDirection::kDebit);
    request.currency_numeric = currency;
    request.tenant_id = tenant_.value();
    request.account_id = account;
    request.transfer_id = next_funding_id_++;
    request.amount_minor = Amount(line_.Get("amount").value_or(""), currency);
    const engine::Reply reply = harness_.Apply(EntryKind::kFundAccount, PayloadOf(request));
    const std::string expected = line_.Get("result").value_or("ok");
    const std::string got =
        reply.code != 0 ? std::string(ReplyCodeName(static_cast<ReplyCode>(reply.code)))
                        : std::string(ledger::ResultName(
                              static_cast<ledger::CreateTransferResult>(reply.detail)));
    if (got != expected) Fail("funding: expected " + expected + ", got " + got);
  }

  // ------------------------------------------------------------ requests

  void FillCard(AuthorizationRequest& request) {
    const uint64_t tenant = Number("tenant", tenant_.value());
    if (auto pan = line_.Get("pan")) {
      // "test:<n>" is the test PAN with serial n (a valid card number).
      if (pan->starts_with("test:")) pan = TestPan(std::stoull(pan->substr(5)));
      issuing::PanToken token;
      if (!harness_.vault().TokenizeInto(*pan, &token)) return Fail("invalid PAN");
      request.card = CardReference::ByToken(token);
      request.flags |= RequestFlags::kCardByPanToken;
    } else if (line_.Has("by-pan")) {
      issuing::PanToken token;
      (void)harness_.vault().TokenizeInto(card_pan_[Number("card")], &token);
      request.card = CardReference::ByToken(token);
      request.flags |= RequestFlags::kCardByPanToken;
    } else {
      request.card = CardReference::ById(issuing::TenantId(tenant), issuing::CardId(Number("card")));
    }
  }

  // Network ids unique to a request name, or an idempotency key, or none.
  void FillIds(const std::string& name, uint8_t* flags, RequestIds* ids) {
    const std::string kind = line_.Get("ids").value_or("network");
    if (kind == "none" || kind.starts_with("same-as:")) return;
    if (kind.starts_with("idempotency:")) {
      *flags |= RequestFlags::kHasIdempotencyKey;
      *ids = RequestIds::FromIdempotencyKey(kind.substr(12));
      return;
    }
    NetworkIds network;
    network.acquirer_id = 412345;
    uint64_t serial = 0;
    for (char byte : name) serial = serial * 131 + static_cast<uint8_t>(byte);
    network.stan = static_cast<uint32_t>(serial % 1'000'000);
    std::string rrn = name.substr(0, 12);
    rrn.resize(12, ' ');
    std::memcpy(network.retrieval_reference.data(), rrn.data(), 12);
    std::memcpy(network.terminal_id.data(), "TERM0001", 8);
    *flags |= RequestFlags::kHasNetworkIds;
    *ids = RequestIds::FromNetworkIds(network);
  }

  uint64_t TransmissionTime() {
    const auto text = line_.Get("transmitted");
    if (!text) return harness_.now_ns();
    if (text->front() == '-' || text->front() == '+') {
      const auto delta = ParseDuration(text->substr(1));
      if (!delta) {
        Fail("bad transmitted offset");
        return harness_.now_ns();
      }
      return text->front() == '-' ? harness_.now_ns() - *delta : harness_.now_ns() + *delta;
    }
    const auto at = ParseTime(*text);
    if (!at) Fail("bad transmitted time");
    return at.value_or(harness_.now_ns());
  }

  AuthorizationRequest BuildRequest(const std::string& name) {
    AuthorizationRequest request;
    const std::string type = line_.Get("type").value_or("purchase");
    if (type == "purchase") {
      request.type = static_cast<uint8_t>(AuthorizationType::kPurchase);
    } else if (type == "cash") {
      request.type = static_cast<uint8_t>(AuthorizationType::kCashWithdrawal);
    } else if (type == "balance") {
      request.type = static_cast<uint8_t>(AuthorizationType::kBalanceInquiry);
    } else if (type == "verify") {
      request.type = static_cast<uint8_t>(AuthorizationType::kAccountVerification);
    } else {
      Fail("unknown type " + type);
    }
    const std::string channel = line_.Get("channel").value_or(type == "cash" ? "atm"
                                                                             : "card_present");
    if (channel == "card_present") {
      request.channel = static_cast<uint8_t>(issuing::Channel::kCardPresent);
    } else if (channel == "ecommerce") {
      request.channel = static_cast<uint8_t>(issuing::Channel::kEcommerce);
    } else if (channel == "atm") {
      request.channel = static_cast<uint8_t>(issuing::Channel::kAtm);
    } else {
      Fail("unknown channel " + channel);
    }
    uint16_t currency = currency_;
    if (const auto alpha = line_.Get("currency")) {
      const auto found = base::CurrencyFromAlpha(*alpha);
      currency = found ? found->numeric_code : 999;  // 999: no such currency.
    }
    request.currency_numeric = currency;
    request.mcc = static_cast<uint16_t>(Number("mcc", 5411));
    request.merchant_country_numeric = static_cast<uint16_t>(Number("country", 840));
    if (line_.Has("contactless")) request.flags |= RequestFlags::kContactless;
    if (line_.Has("partial")) request.flags |= RequestFlags::kPartialApprovalSupported;
    if (const auto amount = line_.Get("amount")) {
      request.amount_minor =
          Amount(*amount, base::CurrencyFromNumeric(currency) ? currency : currency_);
    }
    const std::string merchant = line_.Get("merchant").value_or("GROCER01");
    std::memcpy(request.merchant_id.data(), merchant.data(), std::min<size_t>(15, merchant.size()));
    if (const auto expiry = line_.Get("expiry")) {
      unsigned year = 0, month = 0;
      if (std::sscanf(expiry->c_str(), "%u-%u", &year, &month) != 2) Fail("bad expiry");
      request.card_expiry_year = static_cast<uint16_t>(year);
      request.card_expiry_month = static_cast<uint8_t>(month);
    }
    request.transmission_time_ns = TransmissionTime();
    FillCard(request);
    FillIds(name, &request.flags, &request.ids);
    // The ids (and transmission time) of an earlier request: a repeat of the
    // same message with other fields, such as an advice of a request.
    const std::string ids = line_.Get("ids").value_or("");
    if (ids.starts_with("same-as:")) {
      const auto found = named_.find(ids.substr(8));
      if (found == named_.end()) {
        Fail("ids=same-as:<an earlier request name>");
      } else {
        const uint8_t id_flags = RequestFlags::kHasNetworkIds | RequestFlags::kHasIdempotencyKey;
        request.flags = static_cast<uint8_t>((request.flags & ~id_flags) |
                                             (found->second.request.flags & id_flags));
        request.ids = found->second.request.ids;
        request.transmission_time_ns = found->second.request.transmission_time_ns;
      }
    }
    return request;
  }

  // After any decision reply: a pending one goes to the client at once, as
  // the front door does.
  void Store(const std::string& name, Named named, bool incremental) {
    const DecisionReply decision = DecodeDecisionReply(named.reply);
    if (named.kind != EntryKind::kReverse && named.reply.code == 0 &&
        decision.decision == Decision::kPendingClientDecision &&
        (named.reply.detail >> 24 & ReplyFlags::kRetransmission) == 0) {
      const ClientDecisionRequest client =
          MakeClientDecisionRequest(decision, named.request, named.key, incremental);
      pending_names_[decision.authorization_id.value()] = name;
      if (transport_ == ClientTransport::kFake) {
        gateway_.Send(client, 0, this);
      } else {
        // Over HTTP the call is made when the scenario says how the client
        // answers (the `client` line), so the server knows its script.
        http_calls_[decision.authorization_id.value()] = client;
      }
    }
    named_[name] = std::move(named);
  }

  void Authorize(bool advice) {
    const std::string name = Name();
    Named named;
    named.kind = advice ? EntryKind::kAdvice : EntryKind::kAuthorize;
    named.request = BuildRequest(name);
    named.key = KeyOf(named.request);
    const auto payload = PayloadOf(named.request);
    named.payload.assign(payload.begin(), payload.end());
    named.reply = harness_.Apply(named.kind, payload);
    Store(name, std::move(named), false);
  }

  const Named* Original() {
    const auto of = line_.Get("of");
    if (!of || named_.count(*of) == 0) {
      Fail("of=<an earlier request name> is required");
      return nullptr;
    }
    return &named_[*of];
  }

  OriginalReference ReferenceTo(const Named& original) {
    if (line_.Has("by-id")) {
      return OriginalReference::ById(DecodeDecisionReply(original.reply).authorization_id);
    }
    OriginalReference reference;
    reference.transmission_time_ns = original.request.transmission_time_ns;
    reference.flags = original.request.flags &
                      (RequestFlags::kHasNetworkIds | RequestFlags::kHasIdempotencyKey);
    reference.ids = original.request.ids;
    if ((reference.flags & RequestFlags::kHasIdempotencyKey) != 0) reference.transmission_time_ns = 0;
    return reference;
  }

  void Increment() {
    const std::string name = Name();
    const Named* original = Original();
    if (original == nullptr) return;
    IncrementalRequest increment;
    increment.request = original->request;
    increment.request.amount_minor = Amount(line_.Get("amount").value_or(""));
    increment.request.transmission_time_ns = TransmissionTime();
    increment.request.flags &= static_cast<uint8_t>(~RequestFlags::kPartialApprovalSupported);
    if (line_.Has("partial")) increment.request.flags |= RequestFlags::kPartialApprovalSupported;
    if (line_.Get("mcc")) increment.request.mcc = static_cast<uint16_t>(Number("mcc"));
    if (line_.Get("card")) {
      increment.request.flags &= static_cast<uint8_t>(~RequestFlags::kCardByPanToken);
      FillCard(increment.request);
    }
    increment.request.flags &= static_cast<uint8_t>(
        ~(RequestFlags::kHasNetworkIds | RequestFlags::kHasIdempotencyKey));
    increment.request.ids = RequestIds{};
    FillIds(name, &increment.request.flags, &increment.request.ids);
    increment.original = ReferenceTo(*original);
    Named named;
    named.kind = EntryKind::kIncrementalAuthorize;
    named.request = increment.request;
    named.key = KeyOf(increment);
    const auto payload = PayloadOf(increment);
    named.payload.assign(payload.begin(), payload.end());
    named.reply = harness_.Apply(named.kind, payload);
    Store(name, std::move(named), true);
  }

  void Reverse() {
    const std::string name = Name();
    const Named* original = Original();
    if (original == nullptr) return;
    ReversalRequest reversal;
    reversal.card = original->request.card;
    reversal.flags = original->request.flags & RequestFlags::kCardByPanToken;
    if (line_.Get("card")) {
      AuthorizationRequest other;
      FillCard(other);
      reversal.card = other.card;
      reversal.flags = other.flags & RequestFlags::kCardByPanToken;
    }
    reversal.transmission_time_ns = TransmissionTime();
    if (const auto amount = line_.Get("amount")) {
      reversal.currency_numeric = currency_;
      if (const auto alpha = line_.Get("currency")) {
        const auto found = base::CurrencyFromAlpha(*alpha);
        reversal.currency_numeric = found ? found->numeric_code : 999;
      }
      reversal.amount_minor = Amount(*amount);
    } else {
      reversal.flags |= RequestFlags::kFullReversal;
    }
    FillIds(name, &reversal.flags, &reversal.ids);
    reversal.original = ReferenceTo(*original);
    Named named;
    named.kind = EntryKind::kReverse;
    named.request = original->request;
    named.key = KeyOf(reversal);
    const auto payload = PayloadOf(reversal);
    named.payload.assign(payload.begin(), payload.end());
    named.reply = harness_.Apply(named.kind, payload);
    named_[name] = std::move(named);
  }

  void Retransmit() {
    const std::string original_name = Name();
    if (named_.count(original_name) == 0) return Fail("unknown request " + original_name);
    const std::string name = line_.Get("as").value_or(original_name + "'");
    Named named = named_[original_name];
    named.reply = harness_.Apply(named.kind, named.payload);
    Store(name, std::move(named), named_[original_name].kind == EntryKind::kIncrementalAuthorize);
  }

  void Client() {
    const std::string name = Name();
    if (named_.count(name) == 0) return Fail("unknown request " + name);
    const DecisionReply pending = DecodeDecisionReply(named_[name].reply);
    if (line_.words.size() < 2 && line_.options.empty()) return Fail("client <name> <answer>");
    FakeClientDecisionGateway::Script script;
    using Behavior = FakeClientDecisionGateway::Behavior;
    const std::string answer = line_.words.size() >= 2 ? line_.words[1] : "";
    if (const auto partial = line_.Get("approve")) {
      script.behavior = Behavior::kApprovePartial;
      script.partial_amount_minor = Amount(*partial);
    } else if (answer == "approve") {
      script.behavior = Behavior::kApprove;
    } else if (answer == "decline") {
      script.behavior = Behavior::kDecline;
    } else if (answer == "timeout") {
      script.behavior = Behavior::kTimeout;
    } else if (answer == "5xx") {
      script.behavior = Behavior::kServerError;
    } else if (answer == "refused") {
      script.behavior = Behavior::kRefused;
    } else if (answer == "malformed") {
      script.behavior = Behavior::kMalformed;
    } else if (answer == "bad-signature") {
      script.behavior = Behavior::kBadSignature;
    } else if (answer == "lost") {
      script.behavior = Behavior::kLost;
    } else {
      return Fail("unknown client answer '" + answer + "'");
    }
    if (transport_ == ClientTransport::kHttp) return ClientOverHttp(name, pending, script);
    gateway_.SetScript(pending.authorization_id, script);
    if (gateway_.Deliver(pending.authorization_id) == 0 && script.behavior != Behavior::kLost) {
      Fail("no client call in flight for " + name);
    }
  }

  void ClientOverHttp(const std::string& name, const DecisionReply& pending,
                      FakeClientDecisionGateway::Script script) {
    using Behavior = FakeClientDecisionGateway::Behavior;
    using Server = ClientEndpointServer;
    const auto found = http_calls_.find(pending.authorization_id.value());
    if (found == http_calls_.end()) return Fail("no client call in flight for " + name);
    const ClientDecisionRequest call = found->second;
    http_calls_.erase(found);
    if (script.behavior == Behavior::kLost) return;
    Server::Script server_script;
    uint64_t deadline_ms = 5000;
    std::string url = http_->server.url();
    switch (script.behavior) {
      case Behavior::kApprove: server_script.behavior = Server::Behavior::kApprove; break;
      case Behavior::kDecline: server_script.behavior = Server::Behavior::kDecline; break;
      case Behavior::kApprovePartial:
        server_script = {Server::Behavior::kApprovePartial, script.partial_amount_minor};
        break;
      case Behavior::kTimeout:
        server_script.behavior = Server::Behavior::kHang;
        deadline_ms = 150;  // The program's deadline, shortened for the test.
        break;
      case Behavior::kServerError: server_script.behavior = Server::Behavior::kServerError; break;
      case Behavior::kRefused: url = Server::RefusingUrl(); break;
      case Behavior::kMalformed: server_script.behavior = Server::Behavior::kMalformed; break;
      case Behavior::kBadSignature:
        server_script.behavior = Server::Behavior::kBadSignature;
        break;
      case Behavior::kLost: return;
    }
    http_->server.SetScript(call.authorization_id.value(), server_script);
    (void)http_->endpoints.Set(call.tenant_id, call.program_id,
                               {url, std::string(kClientSecret)});
    http_->gateway->Send(call, io::SystemClock::Instance().MonotonicNs() + deadline_ms * 1'000'000,
                         &http_->waiter);
    const std::optional<ClientDecisionAnswer> answer = http_->waiter.Take();
    if (!answer.has_value()) return Fail("the HTTP client call never completed");
    ApplyAnswer(call, *answer);
  }

  // ------------------------------------------------------------ expectations

  void CheckAmount(const char* key, uint64_t got) {
    if (const auto text = line_.Get(key)) {
      ++result_.expectations_checked;
      const uint64_t expected = Amount(*text);
      if (expected != got) {
        Fail(std::string(key) + ": expected " + *text + ", got " + Show(got));
      }
    }
  }

  void CheckFlags(uint8_t got) {
    const auto text = line_.Get("flags");
    if (!text) return;
    ++result_.expectations_checked;
    uint8_t expected = 0;
    if (*text != "none") {
      for (const std::string& flag : SplitList(*text)) {
        const auto bit = ReplyFlagByName(flag);
        if (!bit) return Fail("unknown flag " + flag);
        expected |= *bit;
      }
    }
    if (expected != got) {
      Fail("flags: expected " + *text + " (" + std::to_string(expected) + "), got " +
           std::to_string(got));
    }
  }

  void Expect() {
    const std::string name = Name();
    if (named_.count(name) == 0) return Fail("unknown request " + name);
    const Named& named = named_[name];
    const std::string expected = line_.words.size() >= 2 ? line_.words[1] : "";
    ++result_.expectations_checked;
    if (named.reply.code != 0) {
      return Fail("reply code " +
                  std::string(ReplyCodeName(static_cast<ReplyCode>(named.reply.code))));
    }
    if (named.kind == EntryKind::kReverse) {
      const ReversalReply reversal = DecodeReversalReply(named.reply);
      const char* got = reversal.result == ReversalResult::kReleased   ? "released"
                        : reversal.result == ReversalResult::kNotFound ? "not-found"
                                                                       : "invalid-amount";
      if (expected != got) Fail("expected " + expected + ", got " + got);
      if (const auto code = line_.Get("code")) {
        const std::string got_code(reversal.response_code.data(), 2);
        if (*code != got_code) Fail("code: expected " + *code + ", got " + got_code);
      }
      CheckAmount("amount", reversal.released_amount_minor);
      CheckAmount("available", reversal.available_minor);
      CheckAmount("held", reversal.held_amount_minor);
      CheckFlags(reversal.flags);
      return;
    }
    const DecisionReply decision = DecodeDecisionReply(named.reply);
    static const std::map<std::string, Decision> kDecisions = {
        {"approved", Decision::kApproved},
        {"partial", Decision::kPartiallyApproved},
        {"declined", Decision::kDeclined},
        {"pending", Decision::kPendingClientDecision}};
    const auto wanted = kDecisions.find(expected);
    if (wanted == kDecisions.end()) return Fail("expect <name> approved|partial|declined|pending");
    if (decision.decision != wanted->second) {
      Fail("expected " + expected + ", got " + std::string(DecisionName(decision.decision)) +
           " (" + std::string(issuing::DeclineReasonName(decision.reason)) + ")");
    }
    if (const auto code = line_.Get("code")) {
      const std::string got_code(decision.response_code_view());
      if (*code != got_code) Fail("code: expected " + *code + ", got " + got_code);
    }
    if (const auto reason = line_.Get("reason")) {
      const auto value = ReasonByName(*reason);
      if (!value) return Fail("unknown reason " + *reason);
      if (*value != decision.reason) {
        Fail("reason: expected " + *reason + ", got " +
             std::string(issuing::DeclineReasonName(decision.reason)));
      }
    }
    CheckAmount("amount", decision.approved_amount_minor);
    if (decision.decision != Decision::kPendingClientDecision) {
      CheckAmount("available", decision.available_minor);
    }
    CheckAmount("held", decision.held_amount_minor);
    CheckFlags(decision.flags);
  }

  void ExpectBalance() {
    LookupBalanceRequest request;
    request.tenant_id = tenant_.value();
    request.account_id = Number("account");
    const engine::Reply reply = harness_.Apply(EntryKind::kLookupBalance, PayloadOf(request));
    if (reply.code != 0) return Fail("balance lookup failed");
    CheckAmount("available", reply.values[3]);
    CheckAmount("held", reply.values[2]);
    CheckAmount("posted", reply.values[0] - reply.values[1]);
  }

  void ExpectAuthorization() {
    const std::string name = Name();
    if (named_.count(name) == 0) return Fail("unknown request " + name);
    LookupAuthorizationRequest request;
    request.tenant_id = tenant_.value();
    request.authorization_id = DecodeDecisionReply(named_[name].reply).authorization_id.value();
    if (request.authorization_id == 0) {
      // Declined before any record: nothing can be found.
      request.authorization_id = 1ULL << 40;
    }
    const engine::Reply reply = harness_.Apply(EntryKind::kLookupAuthorization, PayloadOf(request));
    const std::string state = line_.Get("state").value_or("active");
    ++result_.expectations_checked;
    std::string got = "gone";
    if (reply.code == 0) {
      got = (reply.detail & 0xff) == static_cast<uint32_t>(AuthorizationState::kPendingClientDecision)
                ? "pending"
                : "active";
    }
    if (got != state) return Fail("authorization state: expected " + state + ", got " + got);
    if (reply.code != 0) return;
    CheckAmount("held", reply.values[1]);
    CheckAmount("stand-in-credit", reply.values[2]);
    CheckAmount("confirmed", reply.values[3]);
  }

  void ExpectAdvice() {
    ReadAdviceRequest request;
    request.from_sequence = advice_cursor_;
    const engine::Reply reply = harness_.Apply(EntryKind::kReadAdvice, PayloadOf(request));
    ++result_.expectations_checked;
    if (reply.code != 0) return Fail("no advice for the client");
    advice_cursor_ = reply.values[0] + 1;
    const auto kind = static_cast<AdviceKind>(reply.detail & 0xff);
    const std::string expected_kind = line_.Get("kind").value_or("");
    const std::string got_kind = kind == AdviceKind::kClientStandIn ? "client-stand-in" : "network";
    if (!expected_kind.empty() && expected_kind != got_kind) {
      Fail("advice kind: expected " + expected_kind + ", got " + got_kind);
    }
    const auto decision = static_cast<Decision>((reply.detail >> 8) & 0xff);
    if (const auto expected = line_.Get("decision")) {
      if (*expected != DecisionName(decision)) {
        Fail("advice decision: expected " + *expected + ", got " +
             std::string(DecisionName(decision)));
      }
    }
    if (const auto reason = line_.Get("reason")) {
      const auto got = static_cast<DeclineReason>(reply.values[6] >> 16);
      if (issuing::DeclineReasonName(got) != *reason) {
        Fail("advice reason: expected " + *reason + ", got " +
             std::string(issuing::DeclineReasonName(got)));
      }
    }
    if (const auto outcome = line_.Get("outcome")) {
      const auto got = static_cast<ClientDecisionOutcome>((reply.detail >> 16) & 0xff);
      if (ClientDecisionOutcomeName(got) != *outcome) {
        Fail("advice outcome: expected " + *outcome + ", got " +
             std::string(ClientDecisionOutcomeName(got)));
      }
    }
    CheckAmount("amount", reply.values[4]);
  }

  void ExpectNoAdvice() {
    ReadAdviceRequest request;
    request.from_sequence = advice_cursor_;
    const engine::Reply reply = harness_.Apply(EntryKind::kReadAdvice, PayloadOf(request));
    ++result_.expectations_checked;
    if (reply.code == 0) Fail("an unexpected advice, sequence " + std::to_string(reply.values[0]));
  }

  // ------------------------------------------------------------ the end

  void Finish() {
    const CoreStateMachine& machine = harness_.machine();
    const base::Status invariants = machine.CheckAllInvariants();
    if (!invariants.ok()) Fail("invariants: " + invariants.ToString());
    const std::vector<std::byte> state = harness_.Snapshot();
    const auto replayed = harness_.Replay();
    if (CoreHarness::SnapshotOf(*replayed) != state) Fail("journal replay differs from the run");
    CoreStateMachine restored(SmallCapacities());
    const base::Status status = restored.Restore(state);
    if (!status.ok()) {
      Fail("restore: " + status.ToString());
    } else if (CoreHarness::SnapshotOf(restored) != state) {
      Fail("snapshot does not restore to the same bytes");
    }
  }

  std::string name_;
  ClientTransport transport_;
  CoreHarness harness_;
  FakeClientDecisionGateway gateway_;
  std::unique_ptr<HttpClientSide> http_;
  std::map<uint64_t, ClientDecisionRequest> http_calls_;
  ScenarioResult result_;
  Line line_;
  issuing::TenantId tenant_{1};
  uint16_t currency_ = kUsd;
  std::set<uint64_t> tenants_;
  std::map<uint64_t, uint16_t> program_currency_;
  std::map<uint64_t, uint16_t> account_currency_;
  std::map<uint64_t, std::string> card_pan_;
  std::map<std::string, Named> named_;
  std::map<uint64_t, std::string> pending_names_;
  uint64_t advice_cursor_ = 1;
  uint64_t next_funding_id_ = 1;
};

}  // namespace

ScenarioResult RunScenario(const std::string& name, const std::string& text,
                           ClientTransport transport) {
  Runner runner(name, transport);
  return runner.Run(text);
}

}  // namespace tangelo::authorizer::testing
