// Integration tests of the ISO 8583 door: a real engine (journal in a temp
// directory) with the CoreStateMachine, an Iso8583Server on 127.0.0.1:0, and
// a test client over loopback.
#include "gateway/iso8583_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "authorizer/test_harness.h"
#include "gateway/iso8583_test_util.h"
#include "gateway/loadgen_command.h"
#include "gateway/loadgen_runner.h"

namespace tangelo::gateway {
namespace {

using authorizer::testing::kUsd;
using authorizer::testing::TestKey;

// Waits for one engine reply.
class WaitingSink final : public engine::ReplySink {
 public:
  void Complete(uint64_t, const engine::Reply& reply) override {
    std::lock_guard lock(mutex_);
    reply_ = reply;
    done_ = true;
    ready_.notify_all();
  }
  engine::Reply Wait() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return done_; });
    done_ = false;
    return reply_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  engine::Reply reply_;
  bool done_ = false;
};

// A blocking test client: frames out, frames in, with a timeout.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    TG_ASSERT(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  }
  ~Client() { ::close(fd_); }

  void SendRaw(std::string_view bytes) {
    TG_ASSERT(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
              static_cast<ssize_t>(bytes.size()));
  }
  void SendFrame(std::string_view payload) {
    std::string frame;
    frame.push_back(static_cast<char>(payload.size() >> 8));
    frame.push_back(static_cast<char>(payload.size() & 0xFF));
    frame += payload;
    SendRaw(frame);
  }
  // The next frame's payload; nullopt when the peer closed or after 5 s.
  std::optional<std::string> ReadFrame() {
    while (true) {
      if (buffer_.size() >= 2) {
        const size_t length =
            (size_t{static_cast<uint8_t>(buffer_[0])} << 8) | static_cast<uint8_t>(buffer_[1]);
        if (buffer_.size() >= 2 + length) {
          std::string payload = buffer_.substr(2, length);
          buffer_.erase(0, 2 + length);
          return payload;
        }
      }
      pollfd poll_fd{fd_, POLLIN, 0};
      if (::poll(&poll_fd, 1, 5000) <= 0) return std::nullopt;
      char chunk[65536];
      const ssize_t got = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (got <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<size_t>(got));
    }
  }

 private:
  int fd_ = -1;
  std::string buffer_;
};

// A request as field texts; encoded with the default dialect.
struct Request {
  uint16_t mti = 100;
  std::map<int, std::string> fields;

  std::string Encode() const {
    Iso8583Message message;
    message.set_mti(mti);
    for (const auto& [number, value] : fields) message.SetField(number, std::string_view(value));
    std::array<uint8_t, kIso8583FrameSizeMax> out;
    auto size = gateway::Encode(testing::DefaultSpec(), message, out);
    TG_ASSERT_MSG(size.ok(), size.status().ToString().c_str());
    return std::string(reinterpret_cast<const char*>(out.data()), *size);
  }
};

std::string DateTimeNow() {
  const time_t now = std::time(nullptr);
  tm utc{};
  gmtime_r(&now, &utc);
  char text[64];
  std::snprintf(text, sizeof(text), "%02d%02d%02d%02d%02d", utc.tm_mon + 1, utc.tm_mday,
                utc.tm_hour, utc.tm_min, utc.tm_sec);
  return text;
}

Request Purchase(const std::string& pan, uint64_t amount, uint32_t stan, uint16_t mti = 100) {
  char amount_text[32];
  std::snprintf(amount_text, sizeof(amount_text), "%012llu",
                static_cast<unsigned long long>(amount));
  char stan_text[16];
  std::snprintf(stan_text, sizeof(stan_text), "%06u", stan);
  char rrn[32];
  std::snprintf(rrn, sizeof(rrn), "%012u", 500000 + stan);
  Request request;
  request.mti = mti;
  request.fields = {
      {2, pan},           {3, "000000"},           {4, amount_text},
      {7, DateTimeNow()}, {11, stan_text},         {18, "5411"},
      {22, "051"},        {32, "123456"},          {37, rrn},
      {41, "TERM0001"},   {42, "MERCHANT0000001"}, {43, "TEST STORE               SPRINGFIELD  US"},
      {49, "840"}};
  return request;
}

struct Response {
  uint16_t mti = 0;
  std::map<int, std::string> fields;
};

Response DecodeResponse(const std::string& payload) {
  Iso8583Message message;
  EXPECT_TRUE(Decode(testing::DefaultSpec(), AsBytes(payload), &message).ok());
  Response response;
  response.mti = message.mti();
  for (int number = 2; number <= 128; ++number) {
    if (message.Has(number)) response.fields[number] = std::string(message.Field(number));
  }
  return response;
}

class Iso8583ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("tangelo_iso_server_" + std::to_string(::getpid()) + "_" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(directory_);
    std::filesystem::create_directories(directory_);
    machine_ = std::make_unique<authorizer::CoreStateMachine>(Capacities());
    engine::EngineOptions options;
    options.env = &io::Env::Posix();
    options.clock = &io::SystemClock::Instance();
    options.directory = directory_.string();
    options.on_batch_durable = [this](uint32_t, uint64_t) {
      if (server_ != nullptr) server_->FlushReplies();
    };
    auto opened = engine::Engine::Open(options, machine_.get());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(*opened);
    engine_->Start();
    vault_ = std::make_unique<issuing::PanVault>(TestKey());
    BuildCards();
    Iso8583ServerOptions server_options;
    server_options.spec = &testing::DefaultSpec();
    server_options.engine = engine_.get();
    server_options.pan_vault = vault_.get();
    server_options.frames.tcp.loop_threads = 2;
    server_options.batch_replies = true;
    server_ = std::make_unique<Iso8583Server>(server_options);
    ASSERT_TRUE(server_->Start().ok());
  }

  // Room for the authorizations a test makes; the measurement needs more.
  virtual authorizer::CoreCapacities Capacities() const {
    return authorizer::testing::SmallCapacities();
  }

  void TearDown() override {
    server_->Shutdown(1000);
    engine_->Stop();
    server_.reset();
    engine_.reset();
    std::filesystem::remove_all(directory_);
  }

  engine::Reply Apply(authorizer::EntryKind kind, std::span<const std::byte> payload) {
    EXPECT_EQ(engine_->TrySubmit(static_cast<uint16_t>(kind), payload, &sink_, 0),
              engine::SubmitResult::kAccepted);
    return sink_.Wait();
  }
  void Command(const issuing::Command& command) {
    const std::vector<uint8_t> bytes = issuing::EncodeCommandToVector(command);
    const engine::Reply reply = Apply(authorizer::EntryKind::kIssuingCommand,
                                      std::as_bytes(std::span(bytes.data(), bytes.size())));
    ASSERT_EQ(reply.code, 0u);
    ASSERT_EQ(reply.detail, 0u);
  }
  void AddCard(uint64_t card, uint64_t account, uint64_t funding) {
    const issuing::TenantId tenant(1);
    Command(issuing::CreateAccount{tenant, issuing::AccountId(account), issuing::ProgramId(10),
                                   issuing::UserId(100), issuing::LedgerAccountId(account + 5000),
                                   kUsd});
    issuing::CreateCard create;
    create.tenant_id = tenant;
    create.card_id = issuing::CardId(card);
    create.user_id = issuing::UserId(100);
    create.account_id = issuing::AccountId(account);
    create.expiry_year = 2035;
    create.expiry_month = 12;
    create.initial_status = issuing::CardStatus::kActive;
    create.pan = *vault_->Protect(tenant, issuing::CardId(card), LoadCardPan(card));
    Command(create);
    if (funding > 0) {
      authorizer::FundAccountRequest fund;
      fund.direction = static_cast<uint8_t>(authorizer::FundingDirection::kCredit);
      fund.currency_numeric = kUsd;
      fund.tenant_id = 1;
      fund.account_id = account;
      fund.transfer_id = account;
      fund.amount_minor = funding;
      const engine::Reply reply =
          Apply(authorizer::EntryKind::kFundAccount, authorizer::PayloadOf(fund));
      ASSERT_EQ(reply.code, 0u);
      ASSERT_EQ(reply.detail, 0u);
    }
  }
  void BuildCards() {
    const issuing::TenantId tenant(1);
    Command(issuing::CreateTenant{tenant, *issuing::MakeName("Tenant")});
    Command(issuing::CreateProgram{tenant, issuing::ProgramId(10), *issuing::MakeName("Program"),
                                   kUsd});
    Command(issuing::CreateUser{tenant, issuing::UserId(100)});
    AddCard(7, 1000, 100'000'000);  // Funded: approvals.
    AddCard(8, 1001, 0);            // Empty: 51.
  }

  Response RoundTrip(Client& client, const Request& request) {
    client.SendFrame(request.Encode());
    auto payload = client.ReadFrame();
    EXPECT_TRUE(payload.has_value());
    return payload ? DecodeResponse(*payload) : Response{};
  }

  std::filesystem::path directory_;
  std::unique_ptr<authorizer::CoreStateMachine> machine_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<issuing::PanVault> vault_;
  std::unique_ptr<Iso8583Server> server_;
  WaitingSink sink_;
};

TEST_F(Iso8583ServerTest, AuthorizationApprovedEchoesIdsAndRetransmissionRepeatsIt) {
  Client client(server_->port());
  const Request request = Purchase(LoadCardPan(7), 1234, 1);
  Response response = RoundTrip(client, request);
  EXPECT_EQ(response.mti, 110);
  EXPECT_EQ(response.fields[39], "00");
  EXPECT_EQ(response.fields[11], "000001");
  EXPECT_EQ(response.fields[37], request.fields.at(37));
  ASSERT_EQ(response.fields.count(38), 1u);
  // The same message again is a retransmission: the same decision, no new hold.
  Response again = RoundTrip(client, request);
  EXPECT_EQ(again.fields[39], "00");
  EXPECT_EQ(again.fields[38], response.fields[38]);
  EXPECT_EQ(machine_->stats().retransmissions.load(), 1u);
}

TEST_F(Iso8583ServerTest, DeclinesInsufficientFundsAndUnknownCard) {
  Client client(server_->port());
  EXPECT_EQ(RoundTrip(client, Purchase(LoadCardPan(8), 500, 2)).fields[39], "51");
  EXPECT_EQ(RoundTrip(client, Purchase(LoadCardPan(99), 500, 3)).fields[39], "14");
  // Not a valid PAN (Luhn): 14 without reaching the engine.
  Request bad = Purchase("4111111111111112", 500, 4);
  EXPECT_EQ(RoundTrip(client, bad).fields[39], "14");
}

TEST_F(Iso8583ServerTest, AdviceFinancialBalanceAndReversals) {
  Client client(server_->port());
  // An advice carries the network's own decision (39), as the dialect requires.
  Request advice_request = Purchase(LoadCardPan(7), 700, 10, 120);
  advice_request.fields[39] = "00";
  Response advice = RoundTrip(client, advice_request);
  EXPECT_EQ(advice.mti, 130);
  EXPECT_EQ(advice.fields[39], "00");
  Response financial = RoundTrip(client, Purchase(LoadCardPan(7), 800, 11, 200));
  EXPECT_EQ(financial.mti, 210);
  EXPECT_EQ(financial.fields[39], "00");

  Request inquiry = Purchase(LoadCardPan(7), 0, 12);
  inquiry.fields[3] = "300000";
  Response balance = RoundTrip(client, inquiry);
  EXPECT_EQ(balance.fields[39], "00");
  EXPECT_EQ(balance.fields.count(54), 1u);

  const Request original = Purchase(LoadCardPan(7), 900, 13);
  ASSERT_EQ(RoundTrip(client, original).fields[39], "00");
  Request reversal = Purchase(LoadCardPan(7), 900, 14, 400);
  reversal.fields.erase(18);
  reversal.fields.erase(22);
  reversal.fields.erase(43);
  reversal.fields[37] = original.fields.at(37);
  reversal.fields[90] = "0100000013" + original.fields.at(7) + "00000123456" + "00000000000";
  Response reversed = RoundTrip(client, reversal);
  EXPECT_EQ(reversed.mti, 410);
  EXPECT_EQ(reversed.fields[39], "00");
  EXPECT_EQ(reversed.fields[90], reversal.fields[90]);
  // The advice of the same reversal (new STAN): nothing left to release.
  Request advice_reversal = reversal;
  advice_reversal.mti = 420;
  advice_reversal.fields[11] = "000015";
  Response reversal_advice = RoundTrip(client, advice_reversal);
  EXPECT_EQ(reversal_advice.mti, 430);
  EXPECT_EQ(reversal_advice.fields[39].size(), 2u);
  // A reversal of nothing: 25.
  Request orphan = reversal;
  orphan.fields[11] = "000016";
  orphan.fields[37] = "999999999999";
  EXPECT_EQ(RoundTrip(client, orphan).fields[39], "25");
}

TEST_F(Iso8583ServerTest, NetworkManagementSignOnAndEcho) {
  Client client(server_->port());
  for (const char* code : {"001", "301", "002"}) {
    Request request;
    request.mti = 800;
    request.fields = {{7, DateTimeNow()}, {11, "000042"}, {70, code}};
    Response response = RoundTrip(client, request);
    EXPECT_EQ(response.mti, 810);
    EXPECT_EQ(response.fields[39], "00");
    EXPECT_EQ(response.fields[70], code);
  }
  Request unknown;
  unknown.mti = 800;
  unknown.fields = {{7, DateTimeNow()}, {11, "000043"}, {70, "999"}};
  EXPECT_EQ(RoundTrip(client, unknown).fields[39], "30");
}

TEST_F(Iso8583ServerTest, HundredPipelinedRequestsAllAnswered) {
  Client client(server_->port());
  std::string burst;
  for (uint32_t stan = 1; stan <= 100; ++stan) {
    // Mixed outcomes so replies come from different paths.
    const std::string pan = LoadCardPan(stan % 3 == 0 ? 8 : 7);
    const std::string payload = Purchase(pan, 100 + stan, stan).Encode();
    burst.push_back(static_cast<char>(payload.size() >> 8));
    burst.push_back(static_cast<char>(payload.size() & 0xFF));
    burst += payload;
  }
  client.SendRaw(burst);
  std::set<std::string> stans;
  for (int index = 0; index < 100; ++index) {
    auto payload = client.ReadFrame();
    ASSERT_TRUE(payload.has_value()) << "after " << index;
    Response response = DecodeResponse(*payload);
    const int stan = std::atoi(response.fields[11].c_str());
    EXPECT_EQ(response.fields[39], stan % 3 == 0 ? "51" : "00");
    stans.insert(response.fields[11]);
  }
  EXPECT_EQ(stans.size(), 100u);
}

TEST_F(Iso8583ServerTest, MalformedFramesGetCode30OrCloseAndTheServerKeepsServing) {
  const auto still_serving = [&] {
    Client other(server_->port());
    Request echo;
    echo.mti = 800;
    echo.fields = {{7, DateTimeNow()}, {11, "000001"}, {70, "301"}};
    EXPECT_EQ(RoundTrip(other, echo).fields[39], "00");
  };
  {  // Missing a required field (41): 30, echoing the STAN.
    Client client(server_->port());
    Request request = Purchase(LoadCardPan(7), 100, 77);
    request.fields.erase(41);
    Response response = RoundTrip(client, request);
    EXPECT_EQ(response.mti, 110);
    EXPECT_EQ(response.fields[39], "30");
    EXPECT_EQ(response.fields[11], "000077");
  }
  {  // Truncated inside a field: 30 (the MTI and early fields decoded).
    Client client(server_->port());
    const std::string whole = Purchase(LoadCardPan(7), 100, 78).Encode();
    client.SendFrame(whole.substr(0, whole.size() - 5));
    auto payload = client.ReadFrame();
    ASSERT_TRUE(payload.has_value());
    EXPECT_EQ(DecodeResponse(*payload).fields[39], "30");
  }
  {  // Garbage: no MTI to answer with: closed.
    Client client(server_->port());
    client.SendFrame("\x01\x02garbage that is no message");
    EXPECT_FALSE(client.ReadFrame().has_value());
  }
  {  // Unknown MTI (0300 is not in the dialect): closed.
    Client client(server_->port());
    client.SendFrame(testing::RawMessage("0300", {11}, "000001"));
    EXPECT_FALSE(client.ReadFrame().has_value());
  }
  {  // A response MTI sent as a request: closed.
    Client client(server_->port());
    Request response;
    response.mti = 810;
    response.fields = {{7, DateTimeNow()}, {11, "000001"}, {39, "00"}, {70, "301"}};
    client.SendFrame(response.Encode());
    EXPECT_FALSE(client.ReadFrame().has_value());
  }
  {  // Oversize frame (over kIso8583FrameSizeMax): closed.
    Client client(server_->port());
    client.SendFrame(std::string(kIso8583FrameSizeMax + 100, '0'));
    EXPECT_FALSE(client.ReadFrame().has_value());
  }
  {  // Bad amount characters: 30.
    Client client(server_->port());
    Request request = Purchase(LoadCardPan(7), 100, 79);
    std::string payload = request.Encode();
    const size_t at = payload.find(request.fields[4]);
    ASSERT_NE(at, std::string::npos);
    payload[at + 3] = 'X';
    client.SendFrame(payload);
    auto answer = client.ReadFrame();
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ(DecodeResponse(*answer).fields[39], "30");
  }
  still_serving();
  const Iso8583ServerStats stats = server_->Stats();
  EXPECT_GE(stats.format_errors, 3u);
  EXPECT_GE(stats.closed_malformed, 3u);
}

TEST_F(Iso8583ServerTest, TransmissionTimeInfersTheNearestYear) {
  const uint64_t now = authorizer::testing::NsAt(2026, 1, 2, 0);
  EXPECT_EQ(TransmissionTimeNs({12, 31, 23, 0, 0}, now),
            authorizer::testing::NsAt(2025, 12, 31, 23));
  EXPECT_EQ(TransmissionTimeNs({1, 2, 0, 0, 5}, now),
            authorizer::testing::NsAt(2026, 1, 2, 0, 0, 5));
  EXPECT_EQ(TransmissionTimeNs({2, 30, 0, 0, 0}, now), 0u);
  EXPECT_EQ(TransmissionTimeNs({13, 1, 0, 0, 0}, now), 0u);
}

TEST_F(Iso8583ServerTest, LoadGeneratorRunsAgainstTheServer) {
  LoadOptions options;
  options.port = server_->port();
  options.spec = &testing::DefaultSpec();
  options.connections = 2;
  options.depth = 16;
  options.duration_seconds = 2;
  options.card_serial_first = 7;
  options.card_count = 1;
  options.decline_percent = 10;
  options.reversal_percent = 10;
  options.progress = false;
  auto report = RunLoad(options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_GT(report->answered, 100u);
  EXPECT_EQ(report->answered, report->sent);
  EXPECT_GT(report->approved, 0u);
  EXPECT_GT(report->response_codes["14"], 0u);
  EXPECT_TRUE(report->errors.empty());
  EXPECT_GT(report->latency_p99_ns, 0u);
  EXPECT_LE(report->latency_p50_ns, report->latency_p99_ns);
  const std::string json = report->ToJson(options);
  EXPECT_NE(json.find("\"throughput_per_second\":"), std::string::npos);
  EXPECT_NE(json.find("\"p999\":"), std::string::npos);
  // Open loop at a modest rate.
  options.rate_per_second = 2000;
  options.duration_seconds = 1;
  options.depth = 256;
  auto open = RunLoad(options);
  ASSERT_TRUE(open.ok());
  // Every scheduled request is either sent or reported as not sent.
  EXPECT_NEAR(static_cast<double>(open->sent + open->errors["not_sent"]), 2000.0, 20.0);
  EXPECT_EQ(open->answered, open->sent);

  options.port = 1;  // Nothing listens there.
  EXPECT_FALSE(RunLoad(options).ok());
  options.connections = 0;
  EXPECT_FALSE(RunLoad(options).ok());
}

}  // namespace
}  // namespace tangelo::gateway

namespace tangelo::gateway {
namespace {

// Room for millions of live authorizations (holds expire only after days).
class Iso8583ServerMeasure : public Iso8583ServerTest {
 protected:
  authorizer::CoreCapacities Capacities() const override {
    authorizer::CoreCapacities capacities = authorizer::testing::SmallCapacities();
    capacities.ledger = ledger::LedgerCapacities{4096, 1u << 23};
    capacities.authorizations_max = 1u << 22;
    capacities.retransmissions_max = 1u << 22;
    return capacities;
  }
};

// Throughput and open-loop latency, by hand only (the machine is shared):
//   TANGELO_GATEWAY_MEASURE=1 gateway_server_test --gtest_filter='*Measure*'
TEST_F(Iso8583ServerMeasure, ThroughputAndOpenLoopLatency) {
  if (std::getenv("TANGELO_GATEWAY_MEASURE") == nullptr) GTEST_SKIP() << "by hand only";
  LoadOptions options;
  options.port = server_->port();
  options.spec = &testing::DefaultSpec();
  options.connections = 4;
  options.depth = 256;
  if (const char* depth = std::getenv("TANGELO_GATEWAY_MEASURE_DEPTH")) {
    options.depth = static_cast<uint32_t>(std::atoi(depth));
  }
  options.duration_seconds = 5;
  options.card_serial_first = 7;
  options.amount_minor = 1;
  auto closed = RunLoad(options);
  ASSERT_TRUE(closed.ok());
  std::printf("%s\n", closed->ToJson(options).c_str());
  options.rate_per_second = 50'000;
  auto open = RunLoad(options);
  ASSERT_TRUE(open.ok());
  std::printf("%s\n", open->ToJson(options).c_str());
}

}  // namespace
}  // namespace tangelo::gateway

namespace tangelo::gateway {
namespace {

// Parses a command line given in order (CLI11 takes the arguments reversed).
void ParseCommandLine(CLI::App& app, std::vector<std::string> arguments) {
  std::reverse(arguments.begin(), arguments.end());
  app.parse(arguments);
}

TEST_F(Iso8583ServerTest, LoadCommandPrintsOneJsonLine) {
  CLI::App app;
  tangelo::app::AddLoadCommand(app);
  const std::string target = "127.0.0.1:" + std::to_string(server_->port());
  const std::string dialect = testing::SourcePath("config/iso8583/default.spec");
  ::testing::internal::CaptureStdout();
  ParseCommandLine(
      app, {"load", "--target", target, "--dialect", dialect, "--connections", "1", "--depth", "4",
            "--duration", "0.5", "--card-first", "7", "--no-progress"});
  const std::string output = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(output.find("{\"door\":\"iso8583\",\"mode\":\"closed\""), 0u) << output;
  EXPECT_NE(output.find("\"response_codes\":{\"00\":"), std::string::npos) << output;

  CLI::App rest;
  tangelo::app::AddLoadCommand(rest);
  EXPECT_THROW(ParseCommandLine(rest, {"load", "--door", "rest", "--target", target}),
               CLI::RuntimeError);
  CLI::App unreachable;
  tangelo::app::AddLoadCommand(unreachable);
  EXPECT_THROW(ParseCommandLine(unreachable, {"load", "--target", "127.0.0.1:1", "--dialect",
                                              dialect, "--no-progress"}),
               CLI::RuntimeError);
  CLI::App no_port;
  tangelo::app::AddLoadCommand(no_port);
  EXPECT_THROW(ParseCommandLine(no_port, {"load", "--target", "localhost"}), CLI::RuntimeError);
}

}  // namespace
}  // namespace tangelo::gateway
