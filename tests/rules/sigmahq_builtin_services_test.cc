// SigmaHQ rules of Windows logs other than Sysmon's, which the regression
// data (corpus sigmahq/regression_data, almost all Sysmon) does not reach:
// the event data as those providers write it (an EventData with its own
// attributes, a UserData wrapper element, a qualified EventID), a Sigma
// `fieldref` filter over Security event data, and Sysmon's service events.
// Each case is written as evtx_dump renders the provider's documented event,
// and runs in the evtx_dump, Winlogbeat and NXLog shapes with only its rule
// loaded: exactly the events the rule describes alert.
#include <gtest/gtest.h>

#include "tests/rules/sigmahq_test_util.h"

namespace gsoc::sigmahq {
namespace {

const fs::path kWindows = fs::path(GSOC_CORPUS_DIR) / "sigmahq/rules/windows";

struct ServiceCase {
  const char* name;
  fs::path rule;  // under kWindows
  const char* rule_id;
  std::vector<std::string> events;
  int alerts;  // events the rule's condition holds for
};

std::vector<ServiceCase> Cases() {
  const std::string sysmon = "Microsoft-Windows-Sysmon";
  const std::string tasks = "Microsoft-Windows-TaskScheduler";
  const std::string wmi = "Microsoft-Windows-WMI-Activity";
  const std::string security = "Microsoft-Windows-Security-Auditing";
  // Task Scheduler 141 (task deleted): EventData carries a Name attribute.
  auto task_deleted = [&](const std::string& user) {
    return EvtxEvent(tasks, tasks + "/Operational", "141",
                     R"("EventData":{"#attributes":{"Name":"TaskDeleted"},)"
                     R"("TaskName":"\\Microsoft\\Windows\\Windows Defender\\Windows Defender )"
                     R"(Scheduled Scan","UserName":")" +
                         user + R"("})");
  };
  // WMI-Activity 5858 (a client operation failed): the data is in a
  // UserData wrapper element, Operation_ClientFailure.
  auto wmi_failure = [&](const std::string& operation) {
    return EvtxEvent(wmi, wmi + "/Operational", "5858",
                     R"("UserData":{"Operation_ClientFailure":{"#attributes":{"xmlns":)"
                     R"("http://manifests.microsoft.com/win/2006/windows/WMI"},)"
                     R"("Id":"{00000000-0000-0000-0000-000000000000}","ClientMachine":"WS01",)"
                     R"("User":"AGENCY\\alice","ClientProcessId":4242,"Component":"Unknown",)"
                     R"("Operation":")" +
                         operation + R"(","ResultCode":"0x80041003","PossibleCause":"Unknown"}})");
  };
  // Security 4648 (logon with explicit credentials).
  auto explicit_logon = [&](const std::string& subject, const std::string& process) {
    return EvtxEvent(security, "Security", "4648",
                     R"("EventData":{"SubjectUserSid":"S-1-5-21-1-2-3-1104","SubjectUserName":")" +
                         subject +
                         R"(","SubjectDomainName":"AGENCY","SubjectLogonId":"0x3e7",)"
                         R"("LogonGuid":"{00000000-0000-0000-0000-000000000000}",)"
                         R"("TargetUserName":"bob","TargetDomainName":"AGENCY",)"
                         R"("TargetLogonGuid":"{00000000-0000-0000-0000-000000000000}",)"
                         R"("TargetServerName":"localhost","TargetInfo":"localhost",)"
                         R"("ProcessId":"0x1a2b","ProcessName":")" +
                         process + R"(","IpAddress":"127.0.0.1","IpPort":"0"})");
  };
  // Service Control Manager 7045 (service installed): a qualified EventID.
  auto service_installed = [&](const std::string& service, const std::string& image) {
    return EvtxEvent("Service Control Manager", "System",
                     R"({"#attributes":{"Qualifiers":16384},"#text":7045})",
                     R"("EventData":{"ServiceName":")" + service + R"(","ImagePath":")" + image +
                         R"(","ServiceType":"user mode service","StartType":"auto start",)"
                         R"("AccountName":"LocalSystem"})");
  };
  return {
      {"task scheduler: a Defender task deleted by a user, not by the system",
       "builtin/taskscheduler/win_taskscheduler_susp_schtasks_delete_or_disable.yml",
       "9e3cb244-bdb8-4632-8c90-6079c8f4f16d",
       {task_deleted("AGENCY\\\\alice"), task_deleted("NT AUTHORITY\\\\System")},
       1},
      {"WMI activity: the event log cleared through Win32_NTEventlogFile",
       "builtin/wmi/win_wmi_activity_nteventlogfile_cleareventlog.yml",
       "d4f1a2b3-7c8e-4d5f-b6a9-1e0c2d3f4e5b",
       {wmi_failure("Start IWbemServices::ExecMethod - root\\\\cimv2 : "
                    "Win32_NTEventlogFile.Name=\\\"Security\\\"::ClearEventlog"),
        wmi_failure("Start IWbemServices::ExecQuery - root\\\\cimv2 : select * from "
                    "Win32_NTEventlogFile")},
       1},
      {"security: explicit credentials on localhost, not the user's own (fieldref)",
       "builtin/security/win_security_explicit_credential_local_logon.yml",
       "e3c6d245-7b8f-4e2a-c17f-a9d0e5b38f62",
       {explicit_logon("alice", "C:\\\\Users\\\\alice\\\\AppData\\\\Local\\\\Temp\\\\run.exe"),
        explicit_logon("bob", "C:\\\\Users\\\\alice\\\\AppData\\\\Local\\\\Temp\\\\run.exe"),
        explicit_logon("alice", "C:\\\\Windows\\\\System32\\\\svchost.exe")},
       1},
      {"system: a MeshAgent service installed",
       "builtin/system/service_control_manager/win_system_service_install_mesh_agent.yml",
       "e0d1ad53-c7eb-48ec-a87a-72393cc6cedc",
       {service_installed("Mesh Agent",
                          "\\\"C:\\\\Program Files\\\\Mesh Agent\\\\MeshAgent.exe\\\""),
        service_installed("Spooler", "C:\\\\Windows\\\\System32\\\\spoolsv.exe")},
       1},
      {"sysmon service: its configuration changed (event 16)",
       "sysmon/sysmon_config_modification.yml",
       "8ac03a65-6c84-4116-acad-dc1558ff7a77",
       {EvtxEvent(
            sysmon, sysmon + "/Operational", "16",
            R"("EventData":{"UtcTime":"2026-03-01 10:00:00.123",)"
            R"("Configuration":"C:\\Windows\\sysmon.xml","ConfigurationFileHash":"SHA256=AB12"})"),
        EvtxEvent(sysmon, sysmon + "/Operational", "4",
                  R"("EventData":{"UtcTime":"2026-03-01 10:00:00.123","State":"Started",)"
                  R"("Version":"15.15","SchemaVersion":"4.90"})")},
       1},
  };
}

TEST(SigmaHqBuiltinServices, EachRuleAlertsOnExactlyItsEventsInEveryShape) {
  const fs::path dir =
      fs::temp_directory_path() / ("gsoc_sigmahq_services_" + std::to_string(::getpid()));
  for (const ServiceCase& c : Cases()) {
    for (Shape shape : {Shape::kEvtx, Shape::kWinlogbeat, Shape::kNxlog}) {
      EXPECT_EQ(ReplayAlerts(kWindows / c.rule, c.rule_id, c.events, shape, dir), c.alerts)
          << c.name << " (" << ShapeName(shape) << ")";
    }
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace gsoc::sigmahq
