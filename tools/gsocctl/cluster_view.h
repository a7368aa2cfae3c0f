// `gsocctl cluster status` output: a ClusterStatus (engine/cluster/
// cluster_status.h) as a text report for people or a JSON document for
// machines. Every string in it came from the cluster (node names, records,
// server names) and is printed through terminal_text.h: a hostile value
// cannot move the cursor, retitle the window or fake a line.
#pragma once

#include <cstdint>
#include <string>

#include "engine/cluster/cluster_status.h"

namespace gsoc::ctl {

// `now_unix_s` turns each node's start time into an uptime.
std::string ClusterStatusText(const ClusterStatus& status, int64_t now_unix_s);
std::string ClusterStatusJson(const ClusterStatus& status);

// "45s", "12m03s", "2h05m", "3d04h"; "-" below 0.
std::string FormatDuration(int64_t seconds);
// "512 B", "4.0 KiB", "1.5 GiB".
std::string FormatBytes(uint64_t bytes);

}  // namespace gsoc::ctl
