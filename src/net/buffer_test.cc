#include "net/buffer.h"

#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "net/socket.h"

namespace tangelo::net {
namespace {

TEST(ByteBufferTest, AppendConsumeAndReuse) {
  ByteBuffer buffer(8, 64);
  EXPECT_TRUE(buffer.empty());
  ASSERT_TRUE(buffer.Append("hello"));
  ASSERT_TRUE(buffer.Append(" world"));
  EXPECT_EQ(buffer.view(), "hello world");
  buffer.Consume(6);
  EXPECT_EQ(buffer.view(), "world");
  buffer.Consume(5);
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.capacity(), 16u);  // Grew by doubling, kept its memory.
}

TEST(ByteBufferTest, NeverGrowsPastItsMaximum) {
  ByteBuffer buffer(4, 10);
  ASSERT_TRUE(buffer.Append("0123456789"));
  EXPECT_TRUE(buffer.full());
  EXPECT_FALSE(buffer.Append("x"));
  EXPECT_EQ(buffer.view(), "0123456789");
  buffer.Consume(3);
  EXPECT_TRUE(buffer.Append("abc"));  // Moves data to the front instead.
  EXPECT_EQ(buffer.view(), "3456789abc");
  EXPECT_EQ(buffer.capacity(), 10u);
}

TEST(ByteBufferTest, PrepareReadCompactsThenGrows) {
  ByteBuffer buffer(4, 8);
  EXPECT_EQ(buffer.PrepareRead(), 4u);
  std::memcpy(buffer.write_pointer(), "abcd", 4);
  buffer.Commit(4);
  buffer.Consume(2);
  EXPECT_EQ(buffer.PrepareRead(), 2u);  // Compacted: "cd" at the front.
  std::memcpy(buffer.write_pointer(), "ef", 2);
  buffer.Commit(2);
  EXPECT_EQ(buffer.PrepareRead(), 4u);  // Grew to the maximum.
  std::memcpy(buffer.write_pointer(), "ghij", 4);
  buffer.Commit(4);
  EXPECT_EQ(buffer.PrepareRead(), 0u);  // Full at the maximum.
  EXPECT_EQ(buffer.view(), "cdefghij");
}

TEST(SocketAddressTest, ParsesNumericHostsOnly) {
  auto v4 = SocketAddress::Parse("127.0.0.1", 8080);
  ASSERT_TRUE(v4.ok());
  EXPECT_TRUE(v4->IsLoopback());
  EXPECT_EQ(v4->ToString(), "127.0.0.1:8080");
  auto v6 = SocketAddress::ParseHostPort("[::1]:9");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->IsLoopback());
  EXPECT_EQ(v6->ToString(), "[::1]:9");
  auto localhost = SocketAddress::Parse("localhost", 1);
  ASSERT_TRUE(localhost.ok());
  EXPECT_TRUE(localhost->IsLoopback());
  auto remote = SocketAddress::Parse("10.1.2.3", 80);
  ASSERT_TRUE(remote.ok());
  EXPECT_FALSE(remote->IsLoopback());
  EXPECT_EQ(SocketAddress::Parse("example.com", 80).status().code(),
            base::StatusCode::kInvalidArgument);
  EXPECT_FALSE(SocketAddress::ParseHostPort("127.0.0.1").ok());
  EXPECT_FALSE(SocketAddress::ParseHostPort("127.0.0.1:70000").ok());
  EXPECT_FALSE(SocketAddress::ParseHostPort("127.0.0.1:8x").ok());
}

}  // namespace
}  // namespace tangelo::net
