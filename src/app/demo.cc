#include "app/demo.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <memory>
#include <utility>

#include "api/security.h"
#include "base/assert.h"
#include "base/random.h"
#include "io/env.h"

namespace tangelo::app {
namespace {

constexpr uint16_t kEur = 978;
// Fixed ids (below 2^62) so setup is idempotent across restarts.
constexpr uint64_t kDemoTenantId = 0x7e57'0000'0001;
constexpr uint64_t kDemoApiKeyId = 0x7e57'0000'0002;
constexpr uint64_t kDemoProgramId = 0x7e57'0000'0003;
constexpr uint64_t kDemoUserBase = 0x7e57'0001'0000;
constexpr uint64_t kDemoAccountBase = 0x7e57'0002'0000;
constexpr uint64_t kDemoCardBase = 0x7e57'0003'0000;
constexpr uint64_t kDemoFundingBase = 0x7e57'0004'0000;
constexpr uint64_t kProbeTenantId = 0x9e0b'0000'0001;
constexpr uint64_t kProbeProgramId = 0x9e0b'0000'0003;
constexpr uint64_t kProbeUserId = 0x9e0b'0001'0000;
constexpr uint64_t kProbeAccountId = 0x9e0b'0002'0000;
constexpr uint64_t kProbeCardId = 0x9e0b'0003'0000;
constexpr uint64_t kProbeFundingId = 0x9e0b'0004'0000;
// 50 million EUR per demo account: at 200/s the held amounts take a day
// to drain it. The probe's 1-cent holds are reversed at once.
constexpr uint64_t kDemoFundingMinor = 5'000'000'000;
constexpr uint64_t kProbeFundingMinor = 100'000'000;
// A demo amount that no account can cover: a business decline.
constexpr uint64_t kDeclinedAmountMinor = 900'000'000'000;

uint64_t NowMs() { return io::SystemClock::Instance().MonotonicNs() / 1'000'000; }

// The core and, for a restart, the API core's non-durable directory.
struct Cores {
  api::Core& core;
  api::Core* directory;
};

// Runs one setup step; kExists means an earlier run did it. Then the step
// is replayed into the directory (api/engine_core.h: reads of programs,
// users and cards come from a directory that a restart empties), so the
// demo objects are visible again; the directory's answer does not matter.
// `created` (optional) tells whether this run created the object.
base::Status Step(Cores cores, api::CoreRequest request, const char* what,
                  bool* created = nullptr) {
  const api::CoreReply reply = CallCore(cores.core, request);
  if (reply.status == api::CoreStatus::kExists && cores.directory != nullptr) {
    CallCore(*cores.directory, std::move(request));
  }
  if (created != nullptr) *created = reply.status == api::CoreStatus::kOk;
  if (reply.status == api::CoreStatus::kOk || reply.status == api::CoreStatus::kExists) {
    return base::Status::Ok();
  }
  return base::Internal(std::string("demo setup: ") + what + " refused with core status " +
                        std::to_string(static_cast<int>(reply.status)));
}

// Tenant, program, user, funded account, active card.
base::Status SetUpHolder(Cores core, uint64_t tenant, uint64_t program, uint64_t user,
                         uint64_t account, uint64_t card, uint64_t funding, uint64_t amount) {
  api::CreateUserRequest create_user{tenant, {}};
  create_user.user.id = user;
  create_user.user.name = "Demo holder";
  TG_RETURN_IF_ERROR(Step(core, create_user, "user"));
  api::CreateAccountRequest create_account{tenant, {}};
  create_account.account.id = account;
  create_account.account.program_id = program;
  create_account.account.user_id = user;
  bool account_created = false;
  TG_RETURN_IF_ERROR(Step(core, create_account, "account", &account_created));
  // Funded once, when created: a transfer id is not reusable, and a restart
  // must not mint money.
  if (account_created) {
    TG_RETURN_IF_ERROR(Step(
        core, api::FundAccountRequest{tenant, account, funding, true, amount, kEur}, "funding"));
  }
  api::CreateCardRequest create_card{tenant, {}};
  create_card.card.id = card;
  create_card.card.user_id = user;
  create_card.card.account_id = account;
  create_card.card.expiry_month = 12;
  create_card.card.expiry_year = 2035;
  create_card.card.status = api::CardStatusValue::kActive;
  return Step(core, create_card, "card");
}

base::Status SetUpTenant(Cores core, uint64_t tenant, const char* name, uint64_t program) {
  TG_RETURN_IF_ERROR(Step(core, api::CreateTenantRequest{tenant, name}, "tenant"));
  api::CreateProgramRequest create_program{tenant, {}};
  create_program.program.id = program;
  create_program.program.name = std::string(name) + " program";
  create_program.program.currency_numeric = kEur;
  return Step(core, create_program, "program");
}

api::AuthorizeRequest Authorization(uint64_t tenant, uint64_t card, uint64_t amount_minor) {
  api::AuthorizeRequest request{};
  request.tenant_id = tenant;
  auto id = api::RandomId();
  request.authorization_id = id.ok() ? *id : 0;
  request.card_id = card;
  request.amount_minor = amount_minor;
  request.currency_numeric = kEur;
  request.merchant_id = "DEMO0001";
  request.merchant_name = "Tangelo demo store";
  request.mcc = 5411;
  request.merchant_country = 250;
  request.channel = api::ChannelValue::kEcommerce;
  request.partial_approval_supported = false;
  return request;
}

// The demo key: read from the file, or generated and written once (0600).
base::Result<std::string> LoadOrCreateDemoKey(const std::string& directory) {
  const std::string path = io::JoinPath(directory, "demo-api-key");
  char text[api::kApiKeyLength + 1] = {};
  const int existing = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (existing >= 0) {
    const ssize_t got = ::read(existing, text, api::kApiKeyLength);
    ::close(existing);
    if (got != static_cast<ssize_t>(api::kApiKeyLength)) {
      return base::DataLoss(path + " does not hold an API key");
    }
    return std::string(text, api::kApiKeyLength);
  }
  auto key = api::GenerateApiKey();
  if (!key.ok()) return key.status();
  const int created = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (created < 0) return base::IoError("cannot create " + path);
  const bool written =
      ::write(created, key->data(), key->size()) == static_cast<ssize_t>(key->size()) &&
      ::fsync(created) == 0;
  ::close(created);
  if (!written) return base::IoError("cannot write " + path);
  return *key;
}

}  // namespace

api::CoreReply CallCore(api::Core& core, api::CoreRequest request, uint64_t timeout_ms) {
  auto promise = std::make_shared<std::promise<api::CoreReply>>();
  std::future<api::CoreReply> future = promise->get_future();
  core.Submit(std::move(request),
              [promise](api::CoreReply&& reply) { promise->set_value(std::move(reply)); });
  if (future.wait_for(std::chrono::milliseconds(timeout_ms)) != std::future_status::ready) {
    return api::CoreReply{api::CoreStatus::kUnavailable, {}};
  }
  return future.get();
}

// ------------------------------------------------------------------ demo

DemoTraffic::DemoTraffic(api::Core* core, uint32_t rate_per_second)
    : core_(core), rate_per_second_(rate_per_second) {
  TG_ASSERT(core_ != nullptr);
  TG_ASSERT(rate_per_second_ > 0 && rate_per_second_ <= kDemoRatePerSecondMax);
  reversals_.reserve(kDemoPendingReversalsMax);
}

DemoTraffic::~DemoTraffic() { Stop(); }

uint64_t DemoTraffic::tenant_id() const { return kDemoTenantId; }

base::Status DemoTraffic::Setup(const std::string& data_directory, api::Core* directory) {
  const Cores core{*core_, directory};
  TG_RETURN_IF_ERROR(SetUpTenant(core, kDemoTenantId, "Tangelo demo", kDemoProgramId));
  auto key = LoadOrCreateDemoKey(data_directory);
  if (!key.ok()) return key.status();
  api::CreateApiKeyRequest create_key;
  create_key.key.id = kDemoApiKeyId;
  create_key.key.tenant_id = kDemoTenantId;
  create_key.key.sha256 = api::Sha256(*key);
  TG_RETURN_IF_ERROR(Step(core, create_key, "api key"));
  api_key_ = std::move(*key);
  for (uint64_t i = 0; i < kDemoCards; ++i) {
    TG_RETURN_IF_ERROR(SetUpHolder(core, kDemoTenantId, kDemoProgramId, kDemoUserBase + i,
                                   kDemoAccountBase + i, kDemoCardBase + i, kDemoFundingBase + i,
                                   kDemoFundingMinor));
  }
  return base::Status::Ok();
}

void DemoTraffic::Start() {
  TG_ASSERT(!thread_.joinable());
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void DemoTraffic::Stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DemoTraffic::Run() {
  // Ticks of 50 ms; each sends its share of the rate (the remainder carried).
  constexpr uint64_t kTickMs = 50;
  base::Random random(NowMs());
  uint64_t owed_milli = 0;  // Thousandths of a request owed.
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, std::chrono::milliseconds(kTickMs), [this] { return stop_; })) {
    lock.unlock();
    owed_milli += uint64_t{rate_per_second_} * kTickMs;
    std::vector<uint64_t> reverse;
    {
      std::lock_guard reversals_lock(reversals_mutex_);
      reverse.swap(reversals_);
      reversals_.reserve(kDemoPendingReversalsMax);
    }
    for (const uint64_t authorization : reverse) {
      core_->Submit(api::ReverseRequest{kDemoTenantId, authorization, 0, {}},
                    [](api::CoreReply&&) {});
    }
    while (owed_milli >= 1000) {
      owed_milli -= 1000;
      const uint64_t card = kDemoCardBase + random.Uniform(kDemoCards);
      const bool decline = random.Uniform(20) == 0;
      const uint64_t amount = decline ? kDeclinedAmountMinor : 100 + random.Uniform(20'000);
      const bool reverse_later = random.Uniform(2) == 0;
      sent_.fetch_add(1, std::memory_order_relaxed);
      core_->Submit(Authorization(kDemoTenantId, card, amount),
                    [this, reverse_later](api::CoreReply&& reply) {
                      const auto* authorization = std::get_if<api::Authorization>(&reply.object);
                      if (!reverse_later || authorization == nullptr ||
                          authorization->decision == api::DecisionValue::kDeclined) {
                        return;
                      }
                      std::lock_guard reversals_lock(reversals_mutex_);
                      if (reversals_.size() < kDemoPendingReversalsMax) {
                        reversals_.push_back(authorization->id);
                      }
                    });
    }
    lock.lock();
  }
}

// ----------------------------------------------------------------- probe

Probe::Probe(api::Core* core, telemetry::SloEngine* slo_engine, uint64_t interval_ms)
    : core_(core), slo_engine_(slo_engine), interval_ms_(interval_ms) {
  TG_ASSERT(core_ != nullptr && slo_engine_ != nullptr);
  TG_ASSERT(interval_ms_ > 0);
}

Probe::~Probe() { Stop(); }

base::Status Probe::Setup(api::Core* directory) {
  const Cores core{*core_, directory};
  TG_RETURN_IF_ERROR(SetUpTenant(core, kProbeTenantId, "Tangelo probe", kProbeProgramId));
  return SetUpHolder(core, kProbeTenantId, kProbeProgramId, kProbeUserId, kProbeAccountId,
                     kProbeCardId, kProbeFundingId, kProbeFundingMinor);
}

bool Probe::RunOnce() {
  const uint64_t start_ns = io::SystemClock::Instance().MonotonicNs();
  api::AuthorizeRequest request = Authorization(kProbeTenantId, kProbeCardId, 1);
  const uint64_t authorization_id = request.authorization_id;
  const api::CoreReply reply = CallCore(*core_, std::move(request));
  const uint64_t latency_ns = io::SystemClock::Instance().MonotonicNs() - start_ns;
  const auto* authorization = std::get_if<api::Authorization>(&reply.object);
  const bool ok = reply.status == api::CoreStatus::kOk && authorization != nullptr &&
                  authorization->decision == api::DecisionValue::kApproved;
  slo_engine_->RecordProbe(telemetry::CriticalPath::kAuthorization, ok, latency_ns);
  if (ok) {
    core_->Submit(api::ReverseRequest{kProbeTenantId, authorization_id, 0, {}},
                  [](api::CoreReply&&) {});
  }
  return ok;
}

void Probe::Start() {
  TG_ASSERT(!thread_.joinable());
  stop_ = false;
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::milliseconds(interval_ms_),
                           [this] { return stop_; })) {
      lock.unlock();
      RunOnce();
      lock.lock();
    }
  });
}

void Probe::Stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace tangelo::app
