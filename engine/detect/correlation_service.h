// CorrelationService: the Correlator's duties in gsocd outside the hot path.
//
//  - Restore: at start, state comes back from the last checkpoint (windows
//    resume where they were; see README "Correlation" for what a kill -9 can
//    lose: at most one checkpoint interval of correlation updates).
//  - A maintenance thread calls Correlator::Tick once a second (idle advance,
//    window closes, absence deadlines; the alerts this produces go to the
//    sink like any other), and writes a checkpoint every interval.
//  - Stop: after the pipeline has drained, one last checkpoint.
//
// Ownership: owns the Correlator and the checkpoint store; the DetectionStage
// gets a pointer to the Correlator and must not outlive the service.
// Threading: Start/Stop from the daemon's main thread; the maintenance
// thread takes correlator shards one at a time, never blocking workers for
// longer than one shard's work.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/config/config.h"
#include "engine/correlate/correlator.h"
#include "engine/detect/detection_stage.h"
#include "engine/metrics/metrics_server.h"

namespace gsoc {

correlate::CorrelatorOptions CorrelatorOptionsFrom(const CorrelationConfig& config);

// The end of a finite stream (gsocctl replay, tests): closes every open
// window as a live gsocd does once the stream has been quiet for longer than
// the windows (the idle advance), appending what that fires to `alerts`.
void EndCorrelationStream(correlate::Correlator& correlator, const correlate::CorrelationSet& set,
                          std::vector<Alert>& alerts);

class CorrelationService {
 public:
  // `checkpoints`: where state is checkpointed (in gsocd, the alert store's
  // checkpoint column family).
  CorrelationService(const CorrelationConfig& config, std::vector<std::string> agency_names,
                     std::unique_ptr<correlate::CheckpointStore> checkpoints);
  ~CorrelationService();

  correlate::Correlator& correlator() { return *correlator_; }

  // Loads the checkpoint (if any) into the correlator for `set`. A missing
  // file is a fresh start; an unreadable or corrupt one is logged and
  // ignored (state starts empty) so that gsocd still starts.
  void Restore(const correlate::CorrelationSet& set);

  // Starts the maintenance thread: Tick every second on `stage`'s current
  // rule set, alerts to `sink` (counted on the stage), checkpoints.
  void Start(DetectionStage& stage, AlertSink* sink);
  // Stops the thread and writes the final checkpoint.
  void Stop();

  // Writes a checkpoint now; false (logged, counted) on failure.
  bool CheckpointNow();

  std::vector<GaugeSource> Metrics() const;

 private:
  void Loop();

  CorrelationConfig config_;
  std::unique_ptr<correlate::Correlator> correlator_;
  std::unique_ptr<correlate::CheckpointStore> store_;
  DetectionStage* stage_ = nullptr;
  AlertSink* sink_ = nullptr;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<uint64_t> checkpoints_{0};
  std::atomic<uint64_t> checkpoint_failures_{0};
  std::atomic<uint64_t> checkpoint_bytes_{0};
  std::atomic<int64_t> checkpoint_serialize_ns_{0};  // the last checkpoint's
  std::atomic<int64_t> checkpoint_save_ns_{0};
  std::string checkpoint_buffer_;      // CheckpointNow's, reused (the loop thread, then Stop)
  std::atomic<uint64_t> restored_{0};  // 1 when state came from a checkpoint
};

}  // namespace gsoc
