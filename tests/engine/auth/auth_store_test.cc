#include "engine/auth/auth_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace gsoc::auth {
namespace {

class AuthStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("gsoc_auth_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    options_.path = dir_ / "auth.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Every byte of every file of the DB (SSTs, WAL, manifest).
  std::string AllDbBytes() const {
    std::string all;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(options_.path)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      all.append(std::istreambuf_iterator<char>(in), {});
    }
    return all;
  }

  std::filesystem::path dir_;
  AuthStoreOptions options_;
};

TEST_F(AuthStoreTest, CreatedTokenAuthenticatesWithItsRoleAndAgencies) {
  auto store = AuthStore::Open(options_);
  const CreatedToken created = store->CreateToken(Role::kAgencyAnalyst, {"B", "A", "A"}, "ana");
  EXPECT_EQ(created.token.size(), 5u + 16 + 1 + 64);
  const auto principal = store->Authenticate(created.token);
  ASSERT_TRUE(principal);
  EXPECT_EQ(principal->token_id, created.info.token_id);
  EXPECT_EQ(principal->name, "ana");
  EXPECT_EQ(principal->role, Role::kAgencyAnalyst);
  EXPECT_EQ(principal->agencies, (std::vector<std::string>{"A", "B"}));  // sorted, unique
  EXPECT_TRUE(principal->MaySee("A"));
  EXPECT_FALSE(principal->MaySee("C"));
}

TEST_F(AuthStoreTest, WrongSecretsAreRefused) {
  auto store = AuthStore::Open(options_);
  const std::string token = store->CreateToken(Role::kAdmin, {}, "root").token;
  std::string flipped = token;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  EXPECT_FALSE(store->Authenticate(flipped));
  EXPECT_FALSE(store->Authenticate(token.substr(0, token.size() - 1)));
  EXPECT_FALSE(store->Authenticate(token + "0"));
  EXPECT_FALSE(store->Authenticate(""));
  std::string upper = token;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_FALSE(store->Authenticate(upper));
  EXPECT_TRUE(store->Authenticate(token));
}

TEST_F(AuthStoreTest, SecretIsNotInTheDbFiles) {
  std::string secret, id;
  {
    auto store = AuthStore::Open(options_);
    const CreatedToken created = store->CreateToken(Role::kViewer, {}, "watcher");
    secret = created.token.substr(created.token.rfind('_') + 1);
    id = created.info.token_id;
    // In the WAL while open ...
    const std::string bytes = AllDbBytes();
    EXPECT_NE(bytes.find(id), std::string::npos);  // the id is public, and is there
    EXPECT_EQ(bytes.find(secret), std::string::npos);
    EXPECT_EQ(bytes.find(created.token), std::string::npos);
  }
  const std::string bytes = AllDbBytes();  // ... and in the SSTs after close
  EXPECT_NE(bytes.find(id), std::string::npos);
  EXPECT_EQ(bytes.find(secret), std::string::npos);
  EXPECT_EQ(bytes.find(secret.substr(0, 16)), std::string::npos);
}

TEST_F(AuthStoreTest, RevokeRefusesAtOnceAndSurvivesReopen) {
  std::string revoked, kept;
  {
    auto store = AuthStore::Open(options_);
    const CreatedToken a = store->CreateToken(Role::kAnalyst, {}, "a");
    const CreatedToken b = store->CreateToken(Role::kAdmin, {}, "b");
    revoked = a.token;
    kept = b.token;
    ASSERT_TRUE(store->Authenticate(revoked));
    EXPECT_FALSE(store->Revoked(a.info.token_id));
    EXPECT_TRUE(store->Revoke(a.info.token_id));
    EXPECT_FALSE(store->Authenticate(revoked));
    EXPECT_TRUE(store->Revoked(a.info.token_id));
    EXPECT_FALSE(store->Revoked("config-1"));
    EXPECT_FALSE(store->Revoke("0000000000000000"));
  }
  auto store = AuthStore::Open(options_);
  EXPECT_FALSE(store->Authenticate(revoked));
  const auto principal = store->Authenticate(kept);
  ASSERT_TRUE(principal);
  EXPECT_EQ(principal->role, Role::kAdmin);
  const auto tokens = store->ListTokens();
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens[0].name, "a");
  EXPECT_TRUE(tokens[0].revoked);
  EXPECT_FALSE(tokens[1].revoked);
  EXPECT_GT(tokens[0].created_ns, 0);
}

TEST_F(AuthStoreTest, RolesAndAgenciesAreValidated) {
  auto store = AuthStore::Open(options_);
  EXPECT_THROW(store->CreateToken(Role::kAgencyAnalyst, {}, "x"), std::invalid_argument);
  EXPECT_THROW(store->CreateToken(Role::kViewer, {"A"}, "x"), std::invalid_argument);
  EXPECT_THROW(store->CreateToken(Role::kViewer, {}, ""), std::invalid_argument);
  EXPECT_THROW(store->CreateToken(Role::kViewer, {}, std::string(200, 'n')), std::invalid_argument);
  EXPECT_THROW(store->CreateToken(Role::kViewer, {}, "bad\nname"), std::invalid_argument);
  EXPECT_THROW(store->CreateToken(Role::kAgencyAnalyst, {""}, "x"), std::invalid_argument);
  EXPECT_TRUE(store->ListTokens().empty());
}

TEST_F(AuthStoreTest, TokenCountIsBounded) {
  options_.max_tokens = 3;
  auto store = AuthStore::Open(options_);
  for (int i = 0; i < 3; ++i) store->CreateToken(Role::kViewer, {}, "v" + std::to_string(i));
  EXPECT_THROW(store->CreateToken(Role::kViewer, {}, "v4"), std::invalid_argument);
}

TEST(PrincipalTest, RolesDecideWhatMayBeDone) {
  const Principal admin{"1", "a", Role::kAdmin, {}};
  const Principal analyst{"2", "b", Role::kAnalyst, {}};
  const Principal agency{"3", "c", Role::kAgencyAnalyst, {"A"}};
  const Principal viewer{"4", "d", Role::kViewer, {}};
  EXPECT_TRUE(admin.IsAdmin() && admin.MayTriage() && admin.MaySee("B"));
  EXPECT_TRUE(!analyst.IsAdmin() && analyst.MayTriage() && analyst.MaySee("B"));
  EXPECT_TRUE(!agency.IsAdmin() && agency.MayTriage() && agency.MaySee("A") &&
              !agency.MaySee("B") && !agency.MaySee(""));
  EXPECT_TRUE(!viewer.IsAdmin() && !viewer.MayTriage() && viewer.MaySee("B"));
  for (Role role : {Role::kAdmin, Role::kAnalyst, Role::kAgencyAnalyst, Role::kViewer}) {
    EXPECT_EQ(ParseRole(RoleName(role)), role);
  }
  EXPECT_FALSE(ParseRole("root"));
}

TEST_F(AuthStoreTest, AuditKeepsNewestWithinCountBound) {
  options_.audit_max_entries = 5;
  auto store = AuthStore::Open(options_);
  for (int i = 1; i <= 12; ++i) {
    AuditEntry entry;
    entry.token_id = "t" + std::to_string(i);
    entry.method = "POST";
    entry.route = "/api/v1/tokens";
    entry.target = "/api/v1/tokens";
    entry.status = 200 + i;
    ASSERT_TRUE(store->AppendAudit(entry));
  }
  EXPECT_EQ(store->audit_entries(), 5u);
  const auto entries = store->ReadAudit(100);
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries.front().seq, 12u);  // newest first
  EXPECT_EQ(entries.back().seq, 8u);
  EXPECT_EQ(entries.front().token_id, "t12");
  EXPECT_EQ(entries.front().status, 212);
  const auto page = store->ReadAudit(2, 10);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].seq, 9u);
  EXPECT_EQ(page[1].seq, 8u);
}

TEST_F(AuthStoreTest, AuditBytesBoundAndReopenKeepSeq) {
  options_.audit_max_bytes = 2000;
  {
    auto store = AuthStore::Open(options_);
    for (int i = 0; i < 50; ++i) {
      AuditEntry entry;
      entry.target = std::string(1000, 'x');  // cut to kMaxAuditTargetBytes
      entry.peer = "127.0.0.1:1";
      ASSERT_TRUE(store->AppendAudit(entry));
    }
    EXPECT_LE(store->audit_bytes(), 2000u);
    EXPECT_GT(store->audit_entries(), 1u);
    const auto entries = store->ReadAudit(1);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].target.size(), kMaxAuditTargetBytes);
    EXPECT_EQ(entries[0].seq, 50u);
  }
  auto store = AuthStore::Open(options_);
  EXPECT_LE(store->audit_bytes(), 2000u);
  const size_t held = store->audit_entries();
  ASSERT_TRUE(store->AppendAudit(AuditEntry{}));
  EXPECT_EQ(store->ReadAudit(1)[0].seq, 51u);  // never reused after reopen
  EXPECT_EQ(store->ReadAudit(1000).size(), store->audit_entries());
  EXPECT_LE(store->audit_entries(), held + 1);
}

TEST_F(AuthStoreTest, SecondOpenOfALockedStoreSaysItIsInUse) {
  auto store = AuthStore::Open(options_);
  try {
    AuthStore::Open(options_);
    FAIL() << "opened twice";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("is gsocd running"), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace gsoc::auth
