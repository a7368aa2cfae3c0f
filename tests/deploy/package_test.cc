// deploy/package.sh's Debian package and deploy/systemd/gsocd.service.
// The package is made with CPack from this build (the same install rules
// package.sh uses). Its contents, control fields and maintainer scripts are
// checked, lintian must report no error, the unit must verify, and its
// systemd-analyze security exposure must be at most 2.0. Where this runs as
// root on a machine with no gsoc package yet, the package is installed,
// upgraded, removed and purged for real.
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <regex>

#include "tests/e2e/gsocd_harness.h"

namespace gsoc::e2e {
namespace {

const std::filesystem::path kSource = GSOC_SOURCE_DIR;
const std::filesystem::path kBinary = GSOC_BINARY_DIR;
const std::filesystem::path kUnit = kSource / "deploy" / "systemd" / "gsocd.service";

class DeployPackage : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (UnderSanitizer()) return;
    dir_ = new TempDir;
    const RunResult run =
        RunProgram({"/usr/bin/cpack", "-G", "DEB", "--config",
                    (kBinary / "CPackConfig.cmake").string(), "-B", (*dir_ / "out").string()},
                   600s);
    std::printf("[deploy] cpack: exit %d\n", run.exit_code);
    const auto deb = *dir_ / "out" / ("gsoc_" GSOC_PACKAGE_VERSION "_amd64.deb");
    if (run.exit_code == 0 && std::filesystem::exists(deb)) {
      deb_ = new std::filesystem::path(deb);
    } else {
      std::printf("%s\n", run.output.c_str());
    }
  }
  static void TearDownTestSuite() {
    delete deb_;
    deb_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    // The package is a Release artifact; the sanitizer build is not packaged.
    if (UnderSanitizer()) GTEST_SKIP() << "packaging is checked in the Release build";
    ASSERT_NE(deb_, nullptr) << "cpack made no gsoc_<version>_amd64.deb";
  }

  static inline TempDir* dir_ = nullptr;
  static inline std::filesystem::path* deb_ = nullptr;
};

TEST_F(DeployPackage, HoldsTheProgramsConfigRulesAndUnit) {
  const RunResult contents = RunProgram({"/usr/bin/dpkg-deb", "--contents", deb_->string()});
  ASSERT_EQ(contents.exit_code, 0) << contents.output;
  for (const char* path :
       {"./usr/bin/gsocd", "./usr/bin/gsocctl", "./etc/gsoc/gsoc.yaml",
        "./lib/systemd/system/gsocd.service", "./usr/share/gsoc/rules/logsources.yaml",
        "./usr/share/gsoc/rules/sigma/", "./usr/share/gsoc/rules/decoders/sshd.yaml",
        "./usr/share/doc/gsoc/copyright", "./usr/share/doc/gsoc/gsoc-alerts.yml",
        "./usr/share/doc/gsoc/gsoc.json"}) {
    EXPECT_NE(contents.output.find(std::string(path)), std::string::npos) << path;
  }
  // Regression cases are for the source tree, not for the installed pack.
  EXPECT_EQ(contents.output.find("./usr/share/gsoc/rules/tests/"), std::string::npos);

  const RunResult control = RunProgram({"/usr/bin/dpkg-deb", "--info", deb_->string()});
  ASSERT_EQ(control.exit_code, 0) << control.output;
  std::printf("[deploy] %s\n", control.output.c_str());
  EXPECT_NE(control.output.find("Package: gsoc"), std::string::npos);
  EXPECT_NE(control.output.find("Architecture: amd64"), std::string::npos);
  // Dependencies are the runtime libraries gsocd links (dpkg-shlibdeps).
  // (RocksDB is linked statically from Debian's librocksdb-dev.)
  for (const char* library : {"libhyperscan5", "libyaml-cpp", "libpcre2-8", "libssl3",
                              "libprometheus-cpp", "libsimdjson", "adduser"}) {
    EXPECT_NE(control.output.find(library), std::string::npos) << library;
  }
  for (const char* script : {" postinst", " prerm", " postrm", " conffiles"}) {
    EXPECT_NE(control.output.find(script), std::string::npos) << script;
  }
}

TEST_F(DeployPackage, MaintainerScriptsAreValidShell) {
  const auto dir = *dir_ / "control";
  ASSERT_EQ(RunProgram({"/usr/bin/dpkg-deb", "--control", deb_->string(), dir.string()}).exit_code,
            0);
  EXPECT_EQ(ReadFile(dir / "conffiles"), "/etc/gsoc/gsoc.yaml\n");
  for (const char* script : {"postinst", "prerm", "postrm"}) {
    const RunResult check = RunProgram({"/bin/sh", "-n", (dir / script).string()});
    EXPECT_EQ(check.exit_code, 0) << script << ": " << check.output;
  }
  // Removal keeps the data; only purge deletes it.
  const std::string postrm = ReadFile(dir / "postrm");
  const auto purge = postrm.find("\"$1\" = purge");
  const auto remove_data = postrm.find("rm -rf /var/lib/gsoc");
  ASSERT_NE(purge, std::string::npos);
  EXPECT_GT(remove_data, purge);
}

TEST_F(DeployPackage, LintianReportsNoError) {
  if (!std::filesystem::exists("/usr/bin/lintian")) GTEST_SKIP() << "lintian not installed";
  const RunResult lintian =
      RunProgram({"/usr/bin/lintian", "--fail-on", "error", deb_->string()}, 300s);
  std::printf("[deploy] lintian: exit %d\n%s", lintian.exit_code, lintian.output.c_str());
  EXPECT_EQ(lintian.exit_code, 0) << lintian.output;
  EXPECT_EQ(lintian.output.find("E: "), std::string::npos) << lintian.output;
}

TEST_F(DeployPackage, UnitVerifiesAndItsExposureIsAtMostTwo) {
  // Verify the packaged unit with its programs pointing at the package's
  // own files (ExecStart and ExecStartPre must exist and be executable).
  const auto root = *dir_ / "root";
  ASSERT_EQ(RunProgram({"/usr/bin/dpkg-deb", "-x", deb_->string(), root.string()}).exit_code, 0);
  std::string unit_text = ReadFile(root / "lib/systemd/system/gsocd.service");
  ASSERT_FALSE(unit_text.empty());
  for (size_t at = 0; (at = unit_text.find("/usr/bin/gsocd", at)) != std::string::npos;) {
    const std::string replacement = (root / "usr/bin/gsocd").string();
    unit_text.replace(at, 14, replacement);
    at += replacement.size();
  }
  const auto unit_dir = *dir_ / "unit";
  std::filesystem::create_directories(unit_dir);
  WriteFile(unit_dir / "gsocd.service", unit_text);
  const RunResult verify = RunProgram(
      {"/usr/bin/systemd-analyze", "verify", "--man=no", (unit_dir / "gsocd.service").string()});
  std::printf("[deploy] systemd-analyze verify: exit %d\n%s", verify.exit_code,
              verify.output.c_str());
  EXPECT_EQ(verify.exit_code, 0) << verify.output;

  const RunResult security =
      RunProgram({"/usr/bin/systemd-analyze", "security", "--offline=true", kUnit.string()});
  static const std::regex kExposure(R"(Overall exposure level for \S+: ([0-9.]+))");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(security.output, match, kExposure)) << security.output;
  const double exposure = std::stod(match[1].str());
  std::printf("[deploy] systemd-analyze security gsocd.service: exposure %.1f\n", exposure);
  EXPECT_LE(exposure, 2.0) << security.output;

  const std::string unit = ReadFile(kUnit);
  for (const char* line :
       {"Type=notify", "ExecStartPre=/usr/bin/gsocd --check-config /etc/gsoc/gsoc.yaml",
        "ExecReload=/bin/kill -HUP $MAINPID", "WatchdogSec=", "ProtectSystem=strict",
        "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes", "CapabilityBoundingSet=\n",
        "SystemCallFilter=@system-service",
        "RestrictAddressFamilies=", "MemoryDenyWriteExecute=yes"}) {
    EXPECT_NE(unit.find(line), std::string::npos) << line;
  }
}

// Installs, upgrades, removes and purges the package on this machine. Only
// as root, and only where no gsoc package or data is there to be harmed.
TEST_F(DeployPackage, InstallUpgradeRemovePurgeKeepDataUntilPurged) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (dpkg -i)";
  if (RunProgram({"/usr/bin/dpkg-query", "-W", "gsoc"}).exit_code == 0 ||
      std::filesystem::exists("/var/lib/gsoc") || std::filesystem::exists("/etc/gsoc")) {
    GTEST_SKIP() << "a gsoc package or its data is already on this machine";
  }
  auto dpkg = [](const std::vector<std::string>& args) {
    std::vector<std::string> argv{"/usr/bin/dpkg"};
    argv.insert(argv.end(), args.begin(), args.end());
    const RunResult run = RunProgram(argv, 300s);
    std::printf("[deploy] dpkg %s: exit %d\n", args.front().c_str(), run.exit_code);
    return run;
  };
  RunResult install = dpkg({"-i", deb_->string()});
  ASSERT_EQ(install.exit_code, 0) << install.output;
  EXPECT_TRUE(std::filesystem::exists("/usr/bin/gsocd"));
  EXPECT_NE(::getpwnam("gsoc"), nullptr) << "no gsoc user";
  ASSERT_TRUE(std::filesystem::is_directory("/var/lib/gsoc"));
  // The packaged config is valid against the installed rule pack.
  const RunResult check = RunProgram({"/usr/bin/gsocd", "--check-config", "/etc/gsoc/gsoc.yaml"});
  EXPECT_EQ(check.exit_code, 0) << check.output;

  WriteFile("/var/lib/gsoc/marker", "alerts live here\n");
  WriteFile("/etc/gsoc/gsoc.yaml", ReadFile("/etc/gsoc/gsoc.yaml") + "# edited by the operator\n");
  RunResult upgrade = dpkg({"-i", "--force-confold", deb_->string()});
  EXPECT_EQ(upgrade.exit_code, 0) << upgrade.output;
  EXPECT_TRUE(std::filesystem::exists("/var/lib/gsoc/marker")) << "upgrade lost the data";
  EXPECT_NE(ReadFile("/etc/gsoc/gsoc.yaml").find("# edited by the operator"), std::string::npos)
      << "upgrade replaced the operator's config";

  RunResult remove = dpkg({"-r", "gsoc"});
  EXPECT_EQ(remove.exit_code, 0) << remove.output;
  EXPECT_FALSE(std::filesystem::exists("/usr/bin/gsocd"));
  EXPECT_TRUE(std::filesystem::exists("/var/lib/gsoc/marker")) << "removal lost the data";

  RunResult purge = dpkg({"-P", "gsoc"});
  EXPECT_EQ(purge.exit_code, 0) << purge.output;
  EXPECT_FALSE(std::filesystem::exists("/var/lib/gsoc"));
  EXPECT_EQ(::getpwnam("gsoc"), nullptr) << "purge left the gsoc user";
}

}  // namespace
}  // namespace gsoc::e2e
