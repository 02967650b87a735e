// Integration tests of TcpServer through its simplest protocol, the
// length-prefixed FrameServer: real sockets on 127.0.0.1, port 0.
#include "net/frame_server.h"

#include <algorithm>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "net/test_util.h"

namespace tangelo::net {
namespace {

using testing::TestSocket;
using testing::WaitFor;

std::string FrameOf(std::string_view payload) {
  std::string frame;
  frame.push_back(static_cast<char>(payload.size() >> 8));
  frame.push_back(static_cast<char>(payload.size() & 0xFF));
  frame.append(payload);
  return frame;
}

// Splits framed bytes into payloads; incomplete trailing bytes are ignored.
std::vector<std::string> Unframe(std::string_view wire) {
  std::vector<std::string> payloads;
  while (wire.size() >= 2) {
    const size_t length =
        (size_t{static_cast<unsigned char>(wire[0])} << 8) | static_cast<unsigned char>(wire[1]);
    if (wire.size() < 2 + length) break;
    payloads.emplace_back(wire.substr(2, length));
    wire.remove_prefix(2 + length);
  }
  return payloads;
}

std::vector<std::string> ReadFrames(TestSocket& socket, size_t count, int timeout_ms = 3000) {
  return Unframe(socket.ReadUntil(
      [count](const std::string& wire) { return Unframe(wire).size() >= count; }, timeout_ms));
}

// Frames kept by a handler, completed later by the test.
struct HeldFrames {
  std::mutex mutex;
  std::vector<Frame> frames;  // Payload views are dead after the call; see payloads.
  std::vector<std::string> payloads;

  void Add(const Frame& frame) {
    std::lock_guard<std::mutex> lock(mutex);
    frames.push_back(Frame{frame.connection, frame.sequence, {}});
    payloads.emplace_back(frame.payload);
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mutex);
    return frames.size();
  }
};

FrameServerOptions Options() {
  FrameServerOptions options;
  options.tcp.thread_name = "test-frame";
  return options;
}

TEST(FrameServerTest, EchoesMergedAndSplitFramesInOrder) {
  FrameServer* server_pointer = nullptr;
  FrameServer server(Options(), [&server_pointer](const Frame& frame) {
    server_pointer->Reply(frame.connection, frame.sequence, "echo:" + std::string(frame.payload));
  });
  server_pointer = &server;
  ASSERT_TRUE(server.Start().ok());
  ASSERT_NE(server.port(), 0);

  TestSocket socket(server.port());
  ASSERT_TRUE(socket.connected());
  // Three frames merged into one write.
  ASSERT_TRUE(socket.Send(FrameOf("one") + FrameOf("two") + FrameOf("three")));
  // One frame dribbled a byte at a time, header split too.
  const std::string split = FrameOf("four");
  for (const char c : split) {
    ASSERT_TRUE(socket.Send(std::string_view(&c, 1)));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  // A frame and a half, then the rest.
  const std::string five = FrameOf("five");
  const std::string six = FrameOf("six");
  ASSERT_TRUE(socket.Send(five + six.substr(0, 3)));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(socket.Send(six.substr(3)));

  const std::vector<std::string> replies = ReadFrames(socket, 6);
  EXPECT_EQ(replies, (std::vector<std::string>{"echo:one", "echo:two", "echo:three", "echo:four",
                                               "echo:five", "echo:six"}));
}

TEST(FrameServerTest, PipelinedRepliesGoOutAsTheyCompleteFromAnotherThread) {
  HeldFrames held;
  FrameServer server(Options(), [&held](const Frame& frame) { held.Add(frame); });
  ASSERT_TRUE(server.Start().ok());
  TestSocket socket(server.port());
  std::string burst;
  for (int i = 0; i < 50; ++i) burst += FrameOf("req" + std::to_string(i));
  ASSERT_TRUE(socket.Send(burst));
  ASSERT_TRUE(WaitFor([&] { return held.size() == 50; }));

  // Complete in reverse order from a non-loop thread: replies follow
  // completion order (ISO 8583 matches them by STAN/RRN, not position).
  std::thread completer([&] {
    std::lock_guard<std::mutex> lock(held.mutex);
    for (size_t i = held.frames.size(); i-- > 0;) {
      server.Reply(held.frames[i].connection, held.frames[i].sequence, "re:" + held.payloads[i]);
    }
  });
  completer.join();
  const std::vector<std::string> replies = ReadFrames(socket, 50);
  ASSERT_EQ(replies.size(), 50u);
  EXPECT_EQ(replies.front(), "re:req49");
  EXPECT_EQ(replies.back(), "re:req0");
  EXPECT_EQ(server.Stats().tcp.replies_delivered, 50u);
}

TEST(FrameServerTest, ReplyBatchDeliversManyRepliesWithOnePost) {
  HeldFrames held;
  FrameServerOptions options = Options();
  options.tcp.loop_threads = 2;
  FrameServer server(options, [&held](const Frame& frame) { held.Add(frame); });
  ReplyBatch batch(&server.tcp());  // Made before Start, as an owner would.
  ASSERT_TRUE(server.Start().ok());
  TestSocket first(server.port());
  TestSocket second(server.port());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(first.Send(FrameOf("a" + std::to_string(i))));
    ASSERT_TRUE(second.Send(FrameOf("b" + std::to_string(i))));
  }
  ASSERT_TRUE(WaitFor([&] { return held.size() == 20; }));
  std::thread engine([&] {
    std::lock_guard<std::mutex> lock(held.mutex);
    for (size_t i = 0; i < held.frames.size(); ++i) {
      batch.Add(held.frames[i].connection, held.frames[i].sequence, "ok:" + held.payloads[i]);
    }
    EXPECT_EQ(batch.pending(), 20u);
    EXPECT_EQ(batch.Submit(), 0u);
    EXPECT_EQ(batch.pending(), 0u);
  });
  engine.join();
  const std::vector<std::string> a = ReadFrames(first, 10);
  const std::vector<std::string> b = ReadFrames(second, 10);
  ASSERT_EQ(a.size(), 10u);
  ASSERT_EQ(b.size(), 10u);
  for (const std::string& reply : a) EXPECT_EQ(reply.substr(0, 4), "ok:a");
  for (const std::string& reply : b) EXPECT_EQ(reply.substr(0, 4), "ok:b");
}

TEST(FrameServerTest, HeartbeatsAreSkippedAndFinishFreesTheSlot) {
  HeldFrames held;
  FrameServerOptions options = Options();
  options.frames_in_flight_max = 1;
  FrameServer server(options, [&held](const Frame& frame) { held.Add(frame); });
  ASSERT_TRUE(server.Start().ok());
  TestSocket socket(server.port());
  ASSERT_TRUE(
      socket.Send(std::string("\0\0", 2) + FrameOf("x") + std::string("\0\0", 2) + FrameOf("y")));
  ASSERT_TRUE(WaitFor([&] { return held.size() == 1; }));
  // One in flight at most: "y" waits until "x" is finished, even without a reply.
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(held.size(), 1u);
  server.Finish(held.frames[0].connection, held.frames[0].sequence);
  ASSERT_TRUE(WaitFor([&] { return held.size() == 2; }));
  EXPECT_EQ(held.payloads[1], "y");
  server.Reply(held.frames[1].connection, held.frames[1].sequence, "done");
  EXPECT_EQ(ReadFrames(socket, 1), std::vector<std::string>{"done"});
}

TEST(FrameServerTest, InFlightLimitPausesReading) {
  HeldFrames held;
  FrameServerOptions options = Options();
  options.frames_in_flight_max = 4;
  FrameServer server(options, [&held](const Frame& frame) { held.Add(frame); });
  ASSERT_TRUE(server.Start().ok());
  TestSocket socket(server.port());
  std::string burst;
  for (int i = 0; i < 10; ++i) burst += FrameOf(std::to_string(i));
  ASSERT_TRUE(socket.Send(burst));
  ASSERT_TRUE(WaitFor([&] { return held.size() == 4; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(held.size(), 4u);
  for (size_t done = 0; done < 10; ++done) {
    ASSERT_TRUE(WaitFor([&] { return held.size() > done; }));
    std::lock_guard<std::mutex> lock(held.mutex);
    server.Reply(held.frames[done].connection, held.frames[done].sequence, held.payloads[done]);
  }
  const std::vector<std::string> replies = ReadFrames(socket, 10);
  ASSERT_EQ(replies.size(), 10u);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(replies[i], std::to_string(i));
}

TEST(FrameServerTest, OversizedFrameClosesTheConnectionOnly) {
  FrameServer* server_pointer = nullptr;
  FrameServerOptions options = Options();
  options.frame_bytes_max = 16;
  FrameServer server(options, [&server_pointer](const Frame& frame) {
    server_pointer->Reply(frame.connection, frame.sequence, frame.payload);
  });
  server_pointer = &server;
  ASSERT_TRUE(server.Start().ok());
  TestSocket bad(server.port());
  ASSERT_TRUE(bad.Send(FrameOf(std::string(17, 'x'))));
  EXPECT_TRUE(bad.WaitClosed());
  EXPECT_EQ(server.Stats().frames_oversized, 1u);
  TestSocket good(server.port());
  ASSERT_TRUE(good.Send(FrameOf(std::string(16, 'y'))));
  EXPECT_EQ(ReadFrames(good, 1), std::vector<std::string>{std::string(16, 'y')});
}

TEST(FrameServerTest, DuplicateAndUnknownCompletionsAreDropped) {
  HeldFrames held;
  FrameServer server(Options(), [&held](const Frame& frame) { held.Add(frame); });
  ASSERT_TRUE(server.Start().ok());
  TestSocket socket(server.port());
  ASSERT_TRUE(socket.Send(FrameOf("a")));
  ASSERT_TRUE(WaitFor([&] { return held.size() == 1; }));
  const Frame frame = held.frames[0];
  server.Reply(frame.connection, frame.sequence, "first");
  server.Reply(frame.connection, frame.sequence, "second");     // Twice.
  server.Reply(frame.connection, frame.sequence + 7, "never");  // Never sent.
  EXPECT_EQ(ReadFrames(socket, 1), std::vector<std::string>{"first"});
  EXPECT_TRUE(socket.Quiet(50));
  ASSERT_TRUE(WaitFor([&] { return server.Stats().stray_completions == 2; }));
}

TEST(FrameServerTest, LateReplyForAClosedConnectionIsDroppedNotMisdelivered) {
  HeldFrames held;
  FrameServerOptions options = Options();
  // A closed peer's connection waits for its replies up to the idle timeout.
  options.tcp.idle_timeout_ms = 50;
  FrameServer server(options, [&held](const Frame& frame) { held.Add(frame); });
  ASSERT_TRUE(server.Start().ok());
  Frame old_frame;
  {
    TestSocket first(server.port());
    ASSERT_TRUE(first.Send(FrameOf("old")));
    ASSERT_TRUE(WaitFor([&] { return held.size() == 1; }));
    old_frame = held.frames[0];
  }  // Closed with the request in flight.
  ASSERT_TRUE(WaitFor([&] { return server.Stats().tcp.connections_open == 0; }));
  // A new connection reuses the slot (one loop), with a new generation.
  TestSocket second(server.port());
  ASSERT_TRUE(second.Send(FrameOf("new")));
  ASSERT_TRUE(WaitFor([&] { return held.size() == 2; }));
  const Frame new_frame = held.frames[1];
  EXPECT_EQ(new_frame.connection.slot(), old_frame.connection.slot());
  EXPECT_NE(new_frame.connection, old_frame.connection);
  server.Reply(old_frame.connection, old_frame.sequence, "stale");
  server.Reply(new_frame.connection, new_frame.sequence, "fresh");
  EXPECT_EQ(ReadFrames(second, 1), std::vector<std::string>{"fresh"});
  EXPECT_TRUE(second.Quiet(50));
  EXPECT_EQ(server.Stats().tcp.replies_dropped, 1u);
}

TEST(TcpServerTest, ConnectionLimitClosesExcessConnectionsAtOnce) {
  FrameServer* server_pointer = nullptr;
  FrameServerOptions options = Options();
  options.tcp.connections_max = 2;
  FrameServer server(options, [&server_pointer](const Frame& frame) {
    server_pointer->Reply(frame.connection, frame.sequence, frame.payload);
  });
  server_pointer = &server;
  ASSERT_TRUE(server.Start().ok());
  TestSocket first(server.port());
  TestSocket second(server.port());
  ASSERT_TRUE(WaitFor([&] { return server.Stats().tcp.connections_open == 2; }));
  TestSocket third(server.port());  // The kernel accepts; the server closes it.
  EXPECT_TRUE(third.WaitClosed());
  EXPECT_EQ(server.Stats().tcp.connections_rejected, 1u);
  ASSERT_TRUE(first.Send(FrameOf("1")));
  ASSERT_TRUE(second.Send(FrameOf("2")));
  EXPECT_EQ(ReadFrames(first, 1), std::vector<std::string>{"1"});
  EXPECT_EQ(ReadFrames(second, 1), std::vector<std::string>{"2"});
  // Capacity frees up when a connection goes.
  first.Close();
  ASSERT_TRUE(WaitFor([&] { return server.Stats().tcp.connections_open == 1; }));
  TestSocket fourth(server.port());
  ASSERT_TRUE(fourth.Send(FrameOf("4")));
  EXPECT_EQ(ReadFrames(fourth, 1), std::vector<std::string>{"4"});
}

TEST(FrameServerTest, HalfClosedPeerStillGetsItsReplies) {
  HeldFrames held;
  FrameServer server(Options(), [&held](const Frame& frame) { held.Add(frame); });
  ASSERT_TRUE(server.Start().ok());
  TestSocket socket(server.port());
  ASSERT_TRUE(socket.Send(FrameOf("a") + FrameOf("b")));
  socket.ShutdownWrite();
  ASSERT_TRUE(WaitFor([&] { return held.size() == 2; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  {
    std::lock_guard<std::mutex> lock(held.mutex);
    server.Reply(held.frames[1].connection, held.frames[1].sequence, "B");
    server.Reply(held.frames[0].connection, held.frames[0].sequence, "A");
  }
  EXPECT_EQ(ReadFrames(socket, 2), (std::vector<std::string>{"B", "A"}));
  EXPECT_TRUE(socket.WaitClosed());  // Closed once nothing is owed.
}

TEST(TcpServerTest, IdleConnectionsAreClosedButBusyOnesAreNot) {
  HeldFrames held;
  FrameServerOptions options = Options();
  options.tcp.idle_timeout_ms = 100;
  FrameServer server(options, [&held](const Frame& frame) { held.Add(frame); });
  ASSERT_TRUE(server.Start().ok());
  TestSocket idle(server.port());
  TestSocket busy(server.port());
  ASSERT_TRUE(busy.Send(FrameOf("slow")));
  ASSERT_TRUE(WaitFor([&] { return held.size() == 1; }));
  EXPECT_TRUE(idle.WaitClosed(2000));
  EXPECT_EQ(server.Stats().tcp.connections_closed_idle, 1u);
  // The busy connection survives well past the timeout while its request is
  // in flight, and gets its reply.
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  server.Reply(held.frames[0].connection, held.frames[0].sequence, "finally");
  EXPECT_EQ(ReadFrames(busy, 1), std::vector<std::string>{"finally"});
  // Then it is idle too.
  EXPECT_TRUE(busy.WaitClosed(2000));
}

TEST(TcpServerTest, StopAcceptingRefusesNewConnectionsButServesOpenOnes) {
  FrameServer* server_pointer = nullptr;
  FrameServer server(Options(), [&server_pointer](const Frame& frame) {
    server_pointer->Reply(frame.connection, frame.sequence, frame.payload);
  });
  server_pointer = &server;
  ASSERT_TRUE(server.Start().ok());
  TestSocket before(server.port());
  ASSERT_TRUE(WaitFor([&] { return server.Stats().tcp.connections_open == 1; }));
  server.StopAccepting();
  server.StopAccepting();  // Idempotent.
  TestSocket after;
  EXPECT_FALSE(after.Connect(server.port()));
  ASSERT_TRUE(before.Send(FrameOf("still here")));
  EXPECT_EQ(ReadFrames(before, 1), std::vector<std::string>{"still here"});
}

TEST(TcpServerTest, GracefulShutdownFinishesRequestsInFlight) {
  HeldFrames held;
  FrameServer server(Options(), [&held](const Frame& frame) { held.Add(frame); });
  ASSERT_TRUE(server.Start().ok());
  TestSocket busy(server.port());
  TestSocket idle(server.port());
  ASSERT_TRUE(busy.Send(FrameOf("pending")));
  ASSERT_TRUE(WaitFor([&] { return held.size() == 1; }));
  std::atomic<uint64_t> forced{99};
  std::thread stopper([&] { forced = server.Shutdown(3000); });
  // The idle connection is closed at once; the busy one waits for its reply.
  EXPECT_TRUE(idle.WaitClosed(1000));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  server.Reply(held.frames[0].connection, held.frames[0].sequence, "last words");
  EXPECT_EQ(ReadFrames(busy, 1), std::vector<std::string>{"last words"});
  EXPECT_TRUE(busy.WaitClosed(2000));
  stopper.join();
  EXPECT_EQ(forced.load(), 0u);
  // Late replies after shutdown are dropped safely.
  server.Reply(held.frames[0].connection, held.frames[0].sequence, "too late");
  TestSocket refused;
  EXPECT_FALSE(refused.Connect(server.port()));
}

TEST(TcpServerTest, ShutdownDeadlineForcesStuckConnections) {
  HeldFrames held;
  FrameServer server(Options(), [&held](const Frame& frame) { held.Add(frame); });
  ASSERT_TRUE(server.Start().ok());
  TestSocket stuck(server.port());
  ASSERT_TRUE(stuck.Send(FrameOf("never answered")));
  ASSERT_TRUE(WaitFor([&] { return held.size() == 1; }));
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(server.Shutdown(100), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  EXPECT_TRUE(stuck.WaitClosed(1000));
  EXPECT_EQ(server.Stats().tcp.connections_closed_forced, 1u);
}

TEST(TcpServerTest, PeerThatDoesNotReadIsDisconnectedAtTheOutputLimit) {
  HeldFrames held;
  FrameServerOptions options = Options();
  options.tcp.write_buffer_bytes_max = 256 * 1024;
  FrameServer server(options, [&held](const Frame& frame) { held.Add(frame); });
  ASSERT_TRUE(server.Start().ok());
  TestSocket lazy(server.port());
  // A small receive buffer so the kernel fills up fast.
  const int small = 4096;
  setsockopt(lazy.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  std::string burst;
  for (int i = 0; i < 400; ++i) burst += FrameOf("x");
  ASSERT_TRUE(lazy.Send(burst));
  ASSERT_TRUE(WaitFor([&] { return held.size() == 400; }));
  const std::string big(60000, 'r');
  {
    std::lock_guard<std::mutex> lock(held.mutex);
    for (const Frame& frame : held.frames) server.Reply(frame.connection, frame.sequence, big);
  }
  ASSERT_TRUE(WaitFor([&] { return server.Stats().tcp.output_overflows >= 1; }));
  EXPECT_TRUE(WaitFor([&] { return server.Stats().tcp.connections_open == 0; }));
}

TEST(TcpServerTest, SpreadsConnectionsOverLoopsRoundRobin) {
  FrameServer* server_pointer = nullptr;
  FrameServerOptions options = Options();
  options.tcp.loop_threads = 3;
  std::mutex mutex;
  std::set<uint32_t> loops_seen;
  FrameServer server(options, [&](const Frame& frame) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      loops_seen.insert(frame.connection.loop_index());
    }
    server_pointer->Reply(frame.connection, frame.sequence, frame.payload);
  });
  server_pointer = &server;
  ASSERT_TRUE(server.Start().ok());
  std::vector<TestSocket> sockets;
  for (int i = 0; i < 6; ++i) sockets.emplace_back(server.port());
  for (int i = 0; i < 6; ++i)
    ASSERT_TRUE(sockets[static_cast<size_t>(i)].Send(FrameOf(std::to_string(i))));
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(ReadFrames(sockets[static_cast<size_t>(i)], 1),
              std::vector<std::string>{std::to_string(i)});
  }
  std::lock_guard<std::mutex> lock(mutex);
  EXPECT_EQ(loops_seen, (std::set<uint32_t>{0, 1, 2}));
}

TEST(TcpServerTest, StartFailsCleanlyOnBadOptionsAndBusyPort) {
  FrameServerOptions bad = Options();
  bad.tcp.loop_threads = 0;
  FrameServer invalid(bad, [](const Frame&) {});
  EXPECT_EQ(invalid.Start().code(), base::StatusCode::kInvalidArgument);

  FrameServerOptions not_numeric = Options();
  not_numeric.tcp.host = "example.com";
  FrameServer named(not_numeric, [](const Frame&) {});
  EXPECT_EQ(named.Start().code(), base::StatusCode::kInvalidArgument);

  FrameServer first(Options(), [](const Frame&) {});
  ASSERT_TRUE(first.Start().ok());
  FrameServerOptions same_port = Options();
  same_port.tcp.port = first.port();
  FrameServer second(same_port, [](const Frame&) {});
  EXPECT_EQ(second.Start().code(), base::StatusCode::kIoError);
}

}  // namespace
}  // namespace tangelo::net
