// gsocctl replay FILE...: run log files through the engine offline, as fast
// as it can, printing alerts as JSON lines (the alert schema) on stdout and
// a summary (events, alerts, events/s) on stderr.
//
// Correlations run in event time exactly as in gsocd; when the input ends,
// the stream is treated as ended: every open window is closed (as a live
// gsocd does once the stream has been quiet for longer than the windows), so
// a replay gives the alerts a live run over the same lines gives.
//
// --threads N (N > 1): this thread reads the lines into batches, parsing
// syslog lines (in order: RFC 3164 years and auditd joining depend on it)
// and only pointing at JSON lines where the reader holds them (LineReader
// blocks, kept with the batch); N matching threads (N - 1 workers and this
// one, while it waits for the batch it needs next) parse each JSON line
// where it lies (it depends on nothing before it) just before they decode,
// classify and match its event, and build the detection alerts of a batch
// each;
// this thread then takes the batches back in input order, runs the
// correlator on them and writes their alerts (the detection alerts' JSON is
// rendered where they were matched, but for the ids, given here in order),
// so the output is the same, byte for byte, as with one thread. The
// default is one matching thread per core (at most 8). Parsing JSON where
// it is matched keeps this thread from being the one the others wait for:
// it was ~40% of the work with the SigmaHQ corpus over Windows events.
//
// auditd records are joined into one event per serial when they come as
// syslog (or raw) lines, as gsocd's syslog listeners join them; a JSON
// event is never taken for one, as on gsocd's JSON listener.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <string>
#include <thread>

#include "engine/alert/jsonl_output.h"
#include "engine/decode/auditd_joiner.h"
#include "engine/detect/correlation_service.h"
#include "engine/util/parallel_for.h"
#include "engine/util/thread_annotations.h"
#include "tools/gsocctl/commands.h"
#include "tools/gsocctl/engine_options.h"
#include "tools/gsocctl/line_input.h"
#include "tools/gsocctl/line_reader.h"

namespace gsoc::ctl {

namespace {

// A batch closes at whichever comes first. 128 events: the batches in
// flight (2 x threads + 2) stay within the shared cache, so a worker reads
// the lines this thread just copied from there (1,024 Windows events of
// ~1.5 KB a batch were ~9 MiB in flight: 128 gave +5% events/s, -6% CPU and
// -18 MiB RSS over the SigmaHQ corpus, bench/README.md). The byte bound
// keeps a file of long lines (100 KB each: 12.8 MB for 128) to 1 MiB a
// batch: at most (2 x threads + 2) x (1 MiB + one line) of lines in flight,
// and the alerts they make, which copy their events' fields and lines (a
// batch of 128 ~1.5 KB Windows events is ~200 KB, far below it; with 4 MiB
// batches, 8,000 alerting events with a 60 KB field took ~600 MiB with two
// threads over the SigmaHQ corpus, ~250 MiB with 1 MiB).
constexpr size_t kBatchEvents = 128;
constexpr size_t kBatchBytes = size_t{1} << 20;

// One batch in flight in a parallel replay: what the stage made of it.
struct Job {
  EventBatch batch;
  // The reader's blocks its JSON lines lie in, parsed there by a stage
  // (LineInput::AddDeferred): held until the job is taken again, for the
  // events' fields are views of them. And the lines' bytes.
  std::vector<std::shared_ptr<const LineBlock>> blocks;
  size_t deferred_bytes = 0;
  std::vector<Alert> alerts;  // detection alerts, in the stage's order
  // Their JSON but the ids (AppendAlertJsonBodies), rendered on the worker,
  // which has the events' bytes in its cache: escaping them was the main
  // thread's largest cost, and it is the one every worker waits for.
  std::string rendered;
  std::vector<size_t> rendered_ends;
  std::vector<correlate::RuleHit> hits;  // for the correlator, applied in input order
  uint64_t parse_errors = 0;             // among its JSON lines, which the worker parses
  bool done = false;                     // guarded by Workers::mutex_
};

// The stage's alert sink and hit sink on a worker: keep both with the job.
class JobSink : public AlertSink, public HitSink {
 public:
  Job* job = nullptr;
  void Publish(std::vector<Alert>& alerts) override {
    job->alerts.swap(alerts);
    AppendAlertJsonBodies(job->rendered, job->alerts, job->rendered_ends);
  }
  void OnHits(const correlate::CorrelationSet&, const EventBatch&,
              std::span<const correlate::RuleHit> hits) override {
    job->hits.assign(hits.begin(), hits.end());
  }
};

// A worker's JSON lines (LineInput::AddDeferred), parsed by its stage one
// event just before it matches it; parse errors count with the job.
class JobParser : public DeferredParser {
 public:
  JobParser(const LineInput& input, const JobSink& sink) : input_(input), sink_(sink) {}
  void ParseDeferred(EventBatch& batch, Event& event) override {
    if (!input_.ParseDeferred(parser_, event, batch)) ++sink_.job->parse_errors;
  }

 private:
  const LineInput& input_;
  const JobSink& sink_;
  JsonLineParser parser_;
};

// `threads` DetectionStages over the jobs Submit gives, and the jobs back in
// submission order (Next). One stage is the caller's: while the job Next
// wants is not done, the caller processes the oldest job no thread has
// taken rather than sleep, so `threads` is the number of threads matching,
// the caller included (threads - 1 are started). On the 2-core test
// machine a caller that only waited made three threads on two cores: each
// job woke a sleeping thread (a futex and a rescheduling interrupt, costly
// in a VM), and two workers spent ~30% more CPU an event than one thread.
class Workers {
 public:
  // `input`: parses the jobs' deferred JSON lines (LineInput::ParseDeferred).
  Workers(size_t threads, const std::shared_ptr<const RuleEngine>& engine,
          const std::vector<std::string>& agency_names, const LineInput& input)
      : window_(2 * threads + 2) {
    for (size_t i = 0; i < threads; ++i) {
      auto sink = std::make_unique<JobSink>();
      auto parser = std::make_unique<JobParser>(input, *sink);
      auto stage = std::make_unique<DetectionStage>(engine, sink.get(), agency_names);
      stage->SetHitSink(sink.get());
      stage->SetDeferredParser(parser.get());
      sinks_.push_back(std::move(sink));
      parsers_.push_back(std::move(parser));
      stages_.push_back(std::move(stage));
    }
    for (size_t i = 1; i < threads; ++i) {  // stage 0 is the caller's (Next)
      threads_.emplace_back([this, i] { Run(*stages_[i], *sinks_[i]); });
    }
  }
  ~Workers() {
    {
      MutexLock lock(mutex_);
      stopping_ = true;
    }
    work_ready_.notify_all();
    for (std::thread& thread : threads_) thread.join();
  }

  // An empty job to fill (recycled from those Next returned).
  std::unique_ptr<Job> Take() {
    if (free_.empty()) return std::make_unique<Job>();
    std::unique_ptr<Job> job = std::move(free_.back());
    free_.pop_back();
    job->batch.Clear();
    job->blocks.clear();
    job->deferred_bytes = 0;
    job->hits.clear();  // job->alerts, published, go back to a stage (Process)
    job->rendered.clear();
    job->rendered_ends.clear();
    job->parse_errors = 0;
    job->done = false;
    return job;
  }
  void Submit(std::unique_ptr<Job> job) {
    {
      MutexLock lock(mutex_);
      queue_.push_back(job.get());
      in_order_.push_back(std::move(job));
    }
    work_ready_.notify_one();
  }
  // True when Next would not have to wait for more than `window_` jobs.
  bool Full() const { return in_order_.size() >= window_; }
  bool Empty() const { return in_order_.empty(); }
  // The oldest job, once done (processing untaken jobs meanwhile); Recycle
  // it after use.
  Job& Next() {
    MutexLock lock(mutex_);
    while (!in_order_.front()->done) {
      if (queue_.empty()) {
        done_.wait(lock);
        continue;
      }
      Job* job = queue_.front();
      queue_.pop_front();
      lock.unlock();
      Process(*job, *stages_[0], *sinks_[0]);
      lock.lock();
      job->done = true;
    }
    return *in_order_.front();
  }
  void Recycle() {
    MutexLock lock(mutex_);
    free_.push_back(std::move(in_order_.front()));
    in_order_.pop_front();
  }

 private:
  static void Process(Job& job, DetectionStage& stage, JobSink& sink) {
    sink.job = &job;
    RecycleAlerts(job.alerts);  // the alerts it held last time, published: to refill
    stage.Process(job.batch);   // parses the JSON lines too (JobParser)
  }
  void Run(DetectionStage& stage, JobSink& sink) {
    for (;;) {
      Job* job;
      {
        MutexLock lock(mutex_);
        work_ready_.wait(lock,
                         [&]() GSOC_REQUIRES(mutex_) { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        job = queue_.front();
        queue_.pop_front();
      }
      Process(*job, stage, sink);
      {
        MutexLock lock(mutex_);
        job->done = true;
      }
      done_.notify_one();
    }
  }

  const size_t window_;
  Mutex mutex_;
  std::condition_variable_any work_ready_, done_;
  std::deque<Job*> queue_ GSOC_GUARDED_BY(mutex_);  // submitted, not taken by a stage
  bool stopping_ GSOC_GUARDED_BY(mutex_) = false;
  // The main thread's only: submitted, not recycled (submission order).
  std::deque<std::unique_ptr<Job>> in_order_;
  std::vector<std::unique_ptr<Job>> free_;  // the main thread's only
  std::vector<std::unique_ptr<JobSink>> sinks_;
  std::vector<std::unique_ptr<JobParser>> parsers_;
  std::vector<std::unique_ptr<DetectionStage>> stages_;  // [0]: the caller's
  std::vector<std::thread> threads_;
};

// A file's lines LineReader passed over for their length, on stderr.
void ReportTooLong(const std::string& file, const LineReader& in) {
  if (in.too_long() == 0) return;
  std::fprintf(stderr,
               "%s:%llu: %llu line(s) longer than --max-line-bytes skipped (the first here)\n",
               file.c_str(), static_cast<unsigned long long>(in.first_too_long_line()),
               static_cast<unsigned long long>(in.too_long()));
}

struct Replay {
  EngineOptions engine;
  std::vector<std::string> files;
  std::string format = "auto";
  int year = 0;
  bool strict = false;
  int64_t lateness_seconds = 60;
  // A longer line is skipped and reported, not read whole (LineReader):
  // 1 MiB holds any Windows event a shipper sends (gsocd's listeners take
  // 64 KiB by default, max_message_size).
  size_t max_line_bytes = size_t{1} << 20;
  // One matching thread per core, at most 8: the output does not depend on
  // it, and on the 2-core test machine two gave 1.7 times one's events/s
  // over the SigmaHQ corpus (bench/README.md).
  size_t threads = ThreadsPerCore(0, 8);

  int Run() {
    InputFormat input_format;
    if (!ParseInputFormat(format, &input_format)) {
      std::fprintf(stderr, "--format: expected syslog, json or auto\n");
      return 2;
    }
    RuleSources sources;
    RuleEngineBuild build;
    if (const int status = engine.ResolveAndBuild(&sources, &build)) return status;
    std::fprintf(stderr, "%zu rule(s) and %zu correlation(s) loaded, %zu refused\n",
                 build.rules_loaded, build.correlations_loaded, build.refused.size());
    if (strict && !build.refused.empty()) {
      std::fprintf(stderr, "--strict: refused rules, not replaying\n");
      return 1;
    }

    JsonlAlertOutput output(stdout);
    correlate::CorrelatorOptions correlator_options;
    correlator_options.lateness_ns = lateness_seconds * 1'000'000'000;
    correlate::Correlator correlator(correlator_options, sources.agency_names);
    DetectionStage stage(build.engine, &output, sources.agency_names, &correlator);
    LineInput input(input_format, year, engine.utc_offset_seconds);
    // Parallel: batches go to the workers and come back in order, where the
    // serial path would process them (stage.Process: correlate, publish).
    std::unique_ptr<Workers> workers;
    std::unique_ptr<Job> filling;
    const correlate::CorrelationSet& correlations = *build.engine->correlations;
    uint64_t events = 0, parse_errors = 0;
    auto merge_next = [&] {
      Job& job = workers->Next();
      parse_errors += job.parse_errors;
      if (!job.hits.empty()) {
        correlator.Process(correlations, job.batch, job.hits, job.alerts);
      } else {
        correlator.Pass(job.batch);
      }
      if (!job.alerts.empty()) output.PublishRendered(job.alerts, job.rendered, job.rendered_ends);
      workers->Recycle();
    };
    if (threads > 1) {
      workers = std::make_unique<Workers>(threads, build.engine, sources.agency_names, input);
      filling = workers->Take();
    }
    EventBatch serial_batch;
    EventBatch* batch_ptr = filling ? &filling->batch : &serial_batch;
    auto process = [&] {
      if (!workers) {
        stage.Process(*batch_ptr);
        batch_ptr->Clear();
        return;
      }
      if (workers->Full()) merge_next();
      workers->Submit(std::move(filling));
      filling = workers->Take();
      batch_ptr = &filling->batch;
    };
    decode::AuditJoiner audit;
    uint64_t joined_ids = uint64_t{1} << 62;  // ids of joined auditd events
    const auto start = std::chrono::steady_clock::now();
    for (const auto& file : files) {
      LineReader in(max_line_bytes);  // 1 MiB reads: 8 KiB made a read(2) per ~5 Windows lines
      if (!in.Open(file)) {
        std::fprintf(stderr, "%s: cannot open\n", file.c_str());
        return 2;
      }
      for (std::string_view line; in.Next(&line);) {
        while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
        if (line.empty()) continue;
        const bool json = input.IsJson(line);
        if (json && workers) {  // copied in and parsed on a worker (JobParser)
          input.AddDeferred(line, *batch_ptr, ++events);
          if (filling->blocks.empty() || filling->blocks.back() != in.block())
            filling->blocks.push_back(in.block());
          filling->deferred_bytes += line.size();
        } else {
          if (!input.Add(line, *batch_ptr, ++events)) ++parse_errors;
          // auditd records of one serial become one event (engine/decode/auditd_joiner.h).
          if (!json) {
            decode::JoinAuditRecord(audit, *batch_ptr, decode::AuditJoiner::kRecordTime,
                                    joined_ids);
          }
        }
        const size_t bytes = batch_ptr->bytes() + (filling ? filling->deferred_bytes : 0);
        if (batch_ptr->size() >= kBatchEvents || bytes >= kBatchBytes) process();
      }
      if (in.error()) {
        std::fprintf(stderr, "%s: read error\n", file.c_str());
        return 2;
      }
      ReportTooLong(file, in);
    }
    std::vector<decode::AuditEvent> rest;
    audit.FlushAll(rest);  // serials whose EOE never came
    for (const decode::AuditEvent& event : rest)
      decode::AppendAuditEvent(event, *batch_ptr).id = ++joined_ids;
    if (!batch_ptr->empty()) process();
    if (workers) {
      while (!workers->Empty()) merge_next();
      workers.reset();
    }
    std::vector<Alert> closing;
    EndCorrelationStream(correlator, *build.engine->correlations, closing);
    if (!closing.empty()) output.Publish(closing);
    stage.Flush();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "%llu event(s), %llu parse error(s), %llu alert(s), %.0f events/s\n",
                 static_cast<unsigned long long>(events),
                 static_cast<unsigned long long>(parse_errors),
                 static_cast<unsigned long long>(output.alerts_written()),
                 seconds > 0 ? events / seconds : 0.0);
    return 0;
  }
};

}  // namespace

void AddReplay(CLI::App& app, int* exit_code) {
  auto* command = app.add_subcommand("replay", "run log files through the engine offline");
  auto state = std::make_shared<Replay>();
  state->engine.AddTo(*command);
  command->add_option("files", state->files, "log files")->required();
  command->add_option("--format", state->format, "syslog, json or auto (per line)")
      ->capture_default_str();
  command->add_option("--year", state->year, "year of RFC 3164 timestamps (they carry none)");
  command->add_flag("--strict", state->strict, "exit 1 without replaying if any rule is refused");
  command
      ->add_option("--threads", state->threads,
                   "threads matching batches (default: one per core, at most 8; the output is "
                   "the same, in the same order)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  command
      ->add_option("--max-line-bytes", state->max_line_bytes,
                   "longer lines are skipped and reported, not read whole")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 30));
  command
      ->add_option("--lateness", state->lateness_seconds,
                   "seconds an event may arrive out of order (correlation)")
      ->capture_default_str();
  command->callback([state, exit_code] { *exit_code = state->Run(); });
}

}  // namespace gsoc::ctl
