// Order within a poll: judge every answer, record the batch (one
// transaction), then move the files. A crash before the commit leaves files
// that are judged again; a crash after it leaves files whose record says
// where they go (RecordResult::seen_before), so nothing is applied twice.
#include "app/ack_poller.h"

#include <algorithm>
#include <set>

#include "app/sha256.h"
#include "domain/connection_settings.h"
#include "domain/dated_names.h"
#include "domain/failure.h"
#include "logging/logging.h"

namespace exportd {

namespace {

using Clock = std::chrono::steady_clock;

// Unique names tried in processed/ and error/ before giving up.
constexpr int kMaxSuffix = 10000;
// The longest a connection's failing polls are spaced out (unless its
// interval is longer still).
constexpr std::chrono::seconds kMaxBackoff = std::chrono::minutes(5);

// Failed polls of a connection back off on their own, doubling the interval
// after each: only an SFTP server's transient failures reach the breaker
// shared with the deliveries, so a bad ack directory never pauses deliveries.
std::chrono::seconds next_poll_after(std::chrono::seconds interval, int failures) {
  if (failures <= 1) {
    return interval;
  }
  const auto doubled = interval * (std::int64_t{1} << std::min(failures - 1, 16));
  return std::max(interval, std::min(doubled, kMaxBackoff));
}

// When a connection is polled next, from the end of this poll: after its
// interval, spaced out while its polls fail; or, when it has an ack_schedule,
// at the start of the first matching minute after this one (a failed poll
// too: the schedule spaces the polls).
Clock::time_point next_poll_due(std::chrono::seconds interval, int failures,
                                const std::optional<CronSchedule>& ack_schedule,
                                std::chrono::system_clock::time_point wall_now) {
  if (!ack_schedule) {
    return Clock::now() + next_poll_after(interval, failures);
  }
  return Clock::now() + (ack_schedule->next_matching_minute(wall_now) - wall_now);
}

// processed/{day} or error/{day}: one folder per day keeps every directory
// small (an SFTP listing reads all of it) and lets retention remove whole days.
std::string subdirectory(const ConnectionSettings& settings, AckDisposition d,
                         const std::string& day) {
  std::string path = settings.ack_path;
  path.append(d == AckDisposition::processed ? "/processed/" : "/error/").append(day);
  return path;
}

// "ack_x.json" -> "ack_x.1.json", "ack_x.2.json", ...
std::string with_suffix(const std::string& name, int n) {
  const auto dot = name.rfind('.');
  return dot == std::string::npos
             ? name + "." + std::to_string(n)
             : name.substr(0, dot) + "." + std::to_string(n) + name.substr(dot);
}

std::string move_unique(Dropzone& dropzone, const std::string& directory, const std::string& name,
                        const std::string& to_directory) {
  if (dropzone.move_file(directory, name, to_directory, name)) {
    return name;
  }
  for (int n = 1; n <= kMaxSuffix; ++n) {
    std::string candidate = with_suffix(name, n);
    if (dropzone.move_file(directory, name, to_directory, candidate)) {
      return candidate;
    }
  }
  throw Failure(FailureKind::transient,
                "cannot find a free name for '" + name + "' in '" + to_directory + "'");
}

}  // namespace

AckPoller::AckPoller(AckPollerOptions options, StoreFactory stores, DropzoneCache& dropzones,
                     Metrics& metrics, ConnectionHealth& health)
    : options_(std::move(options)),
      stores_(std::move(stores)),
      dropzones_(dropzones),
      metrics_(metrics),
      health_(health) {}

AckPoller::~AckPoller() {
  stop();
}

void AckPoller::start() {
  for (int i = 0; i < options_.threads; ++i) {
    threads_.emplace_back([this, i] { run_thread(i); });
  }
}

void AckPoller::request_stop() {
  stop_.request_stop();  // wakes every wait on changed_
}

void AckPoller::stop() {
  request_stop();
  threads_.clear();  // joins
}

void AckPoller::update(std::chrono::seconds poll_interval) {
  std::lock_guard lock(mutex_);
  options_.poll_interval = poll_interval;
}

AckPollSummary AckPoller::poll_once(AckStore& store, Dropzone& dropzone,
                                    const std::string& connection_id,
                                    const ConnectionSettings& settings) {
  AckPollSummary summary;
  auto files = dropzone.list_files(settings.ack_path);
  std::sort(files.begin(), files.end(),
            [](const DirectoryEntry& a, const DirectoryEntry& b) { return a.name < b.name; });
  std::map<std::string, Seen> previous;
  {
    std::lock_guard lock(seen_mutex_);
    previous = seen_[connection_id];
  }
  std::map<std::string, Seen> now_seen;

  // First pass: read and validate; answers that need their export are
  // looked up together afterwards, in one round trip.
  struct Candidate {
    AckName name;
    AckFileRecord record;
    std::optional<AckContent> content;
  };
  std::vector<Candidate> candidates;
  std::vector<AckName> lookups;
  size_t considered = 0;
  for (const auto& file : files) {
    const auto name = parse_ack_name(file.name);
    if (!name) {
      continue;  // not an answer: left alone
    }
    if (considered++ >= options_.max_files_per_poll) {
      summary.more = true;
      break;
    }
    const Seen seen{file.size, file.modified};
    now_seen[file.name] = seen;
    const auto before = previous.find(file.name);
    const bool settled = before != previous.end() && before->second == seen;

    Candidate c{*name, {.file_name = file.name, .byte_size = file.size}, std::nullopt};
    c.record.reason = ack_name_problem(file.name);
    std::optional<std::string> bytes;
    try {
      if (c.record.reason.empty() && static_cast<size_t>(file.size) <= options_.max_file_bytes) {
        bytes = dropzone.read_file(settings.ack_path, file.name, options_.max_file_bytes);
      }
    } catch (const std::exception& e) {
      // One file's trouble never fails the poll (failure_kind_of). Not
      // transient: swapped for a symlink or a special file since the listing
      // (never followed), or unexpected.
      if (const auto kind = failure_kind_of(e); kind != FailureKind::transient) {
        log_event(Level::warn, "ack file skipped",
                  {{"connection_id", connection_id},
                   {"file", file.name},
                   {"error", e.what()},
                   {"category", to_string(kind)}});
      }
      continue;  // gone meanwhile, or unreadable: the next poll sees
    }
    if (!c.record.reason.empty()) {
      c.record.verdict = AckFileVerdict::invalid;
    } else if (!bytes) {
      c.record.verdict = AckFileVerdict::too_large;
      c.record.reason = "larger than " + std::to_string(options_.max_file_bytes) + " bytes";
    } else {
      c.record.sha256_hex = sha256_hex(*bytes);
      auto parsed = parse_ack_content(name->kind, *bytes);
      c.content = std::move(parsed.content);
      if (!c.content) {
        c.record.verdict = AckFileVerdict::invalid;
        c.record.reason = parsed.problem;
      }
    }
    if (!c.content) {
      // Maybe still being written: refused only once it is settled.
      if (!settled) {
        ++summary.unsettled;
        continue;
      }
      c.record.disposition = AckDisposition::error;
    } else {
      lookups.push_back(*name);
    }
    candidates.push_back(std::move(c));
  }

  const auto targets = lookups.empty() ? std::vector<std::optional<AckTarget>>()
                                       : store.find_exports(connection_id, lookups);
  std::vector<AckFileRecord> batch;
  std::set<std::string> exports_in_poll;
  size_t looked_up = 0;
  for (auto& c : candidates) {
    AckFileRecord& record = c.record;
    if (c.content) {
      const auto& target = targets[looked_up++];
      const auto verdict =
          target ? decide_ack(c.name.kind, target->status, target->failed_by_ack_timeout)
                 : decide_ack(c.name.kind, std::nullopt);
      if (target) {
        record.export_id = target->export_id;
        // Two answers for one export in one poll: the second waits a poll,
        // to be judged against what the first did.
        if (!exports_in_poll.insert(target->export_id).second) {
          ++summary.waiting;
          continue;
        }
      }
      switch (verdict) {
        case AckVerdict::wait:
          ++summary.waiting;
          continue;
        case AckVerdict::apply:
          record.verdict =
              c.name.kind == AckKind::ack ? AckFileVerdict::acked : AckFileVerdict::rejected;
          record.content = std::move(c.content);
          break;
        case AckVerdict::repeat:
          record.verdict = AckFileVerdict::repeat;
          break;
        case AckVerdict::contradiction:
          record.verdict = AckFileVerdict::contradiction;
          record.reason = "the export is already " + std::string(to_string(target->status));
          if (target->failed_by_ack_timeout) {
            record.reason += ": the ERP did not answer within its ack deadline";
          }
          record.disposition = AckDisposition::error;
          break;
        case AckVerdict::no_export:
          record.verdict = AckFileVerdict::no_export;
          record.reason = "no export of this connection matches '" + c.name.reference + "'";
          record.disposition = AckDisposition::error;
          break;
      }
    }
    batch.push_back(std::move(record));
    if (batch.size() >= options_.batch_size) {
      flush(store, dropzone, connection_id, settings, batch, summary);
    }
  }
  flush(store, dropzone, connection_id, settings, batch, summary);
  {
    std::lock_guard lock(seen_mutex_);
    seen_[connection_id] = std::move(now_seen);
  }
  return summary;
}

void AckPoller::flush(AckStore& store, Dropzone& dropzone, const std::string& connection_id,
                      const ConnectionSettings& settings, std::vector<AckFileRecord>& batch,
                      AckPollSummary& summary) {
  if (batch.empty()) {
    return;
  }
  const auto result = store.record(connection_id, batch);
  const std::string day = day_folder_name(options_.now());
  std::set<AckDisposition> made;
  for (size_t i = 0; i < batch.size(); ++i) {
    AckFileRecord& r = batch[i];
    if (!result.refused[i].empty()) {
      r.verdict = AckFileVerdict::invalid;
      r.reason = result.refused[i];
    }
    if (result.results[i] == RecordResult::stale) {
      ++summary.waiting;
      continue;
    }
    if (result.results[i] != RecordResult::seen_before) {  // else counted when recorded
      metrics_.ack_file_recorded(r.verdict);
    }
    const AckDisposition d = result.dispositions[i];
    const std::string to = subdirectory(settings, d, day);
    if (made.insert(d).second) {
      dropzone.make_directory(to);
    }
    const std::string moved_as = move_unique(dropzone, settings.ack_path, r.file_name, to);
    nlohmann::json fields = {{"connection_id", connection_id},
                             {"file", r.file_name},
                             {"verdict", to_string(r.verdict)},
                             {"moved_to", to + "/" + moved_as}};
    if (r.export_id) {
      fields["export_id"] = *r.export_id;
    }
    if (result.results[i] == RecordResult::seen_before) {
      fields["seen_before"] = true;
    }
    if (d == AckDisposition::error) {
      fields["reason"] = r.reason;
      log_event(Level::warn, "ack file refused", fields);
      ++summary.refused;
    } else {
      log_event(Level::info, "ack file processed", fields);
      ++summary.processed;
    }
  }
  batch.clear();
}

void AckPoller::refresh_connections(AckStore& store) {
  const auto connections = store.active_connections();
  std::lock_guard lock(mutex_);
  std::set<std::string> active;
  for (const auto& c : connections) {
    active.insert(c.connection_id);
    auto [it, added] = schedule_.try_emplace(c.connection_id, Schedule{c, Clock::now()});
    if (!added) {
      it->second.connection = c;  // settings may have changed
    }
    it->second.route.reset();
    try {
      const auto settings = settings_.get(c.connection_id, c.config);
      if (settings.mode == DropzoneMode::sftp) {
        it->second.route = DeliveryRoute{c.connection_id, delivery_endpoint(settings), true};
      }
    } catch (const std::exception&) {
      // its poll records why
    }
  }
  std::erase_if(schedule_, [&](const auto& entry) {
    return !active.contains(entry.first) && !entry.second.running;
  });
  refreshed_ = Clock::now();
}

AckPoller::PollOutcome AckPoller::poll_connection(int index, AckStore& store,
                                                  const AckConnection& connection,
                                                  std::chrono::seconds interval) {
  const std::string& id = connection.connection_id;
  PollOutcome outcome{.interval = interval};
  ConnectionSettings settings;
  try {
    settings = settings_.get(id, connection.config);
  } catch (const Failure& e) {
    store.record_poll(id, e.what());
    outcome.succeeded = false;
    return outcome;
  }
  if (settings.ack_poll_interval_s) {
    outcome.interval = std::chrono::seconds(*settings.ack_poll_interval_s);
  }
  outcome.ack_schedule = settings.ack_schedule;
  if (outcome.ack_schedule && !outcome.ack_schedule->matches(options_.now())) {
    return outcome;  // not its minute: polled at the next one
  }
  std::optional<DeliveryRoute> route;
  if (settings.mode == DropzoneMode::sftp) {
    route = DeliveryRoute{id, delivery_endpoint(settings), true};
    if (const auto until = health_.paused_until(*route)) {
      outcome.paused_until = *until;
      return outcome;
    }
  }
  const auto failed = [&](const std::exception& e) {
    outcome.succeeded = false;
    const FailureKind kind = failure_kind_of(e);
    log_event(Level::warn, "ack poll failed",
              {{"connection_id", id}, {"error", e.what()}, {"category", to_string(kind)}});
    if (route && kind == FailureKind::transient) {
      health_.failed(*route, e.what());
    }
    try {
      store.record_poll(id, e.what());
    } catch (const std::exception&) {
      // the database is the problem; the next poll records it
    }
  };
  // Most polls find no answer: they take no lock and, while their outcome
  // stays the same, write nothing (record_poll), so an idle connection costs
  // the database nothing. With answers, the directory is listed again under
  // the lock, so only one host handles them.
  Dropzone* dropzone = nullptr;
  bool answers = false;
  try {
    dropzone = &dropzones_.get(index, id, settings, connection.sealed_secret);
    const auto files = dropzone->list_files(settings.ack_path);
    answers = std::any_of(files.begin(), files.end(), [](const DirectoryEntry& file) {
      return parse_ack_name(file.name).has_value();
    });
  } catch (const std::exception& e) {
    failed(e);
    return outcome;
  }
  if (answers) {
    if (!store.try_claim_connection(id)) {
      return outcome;  // another host polls it now
    }
    try {
      outcome.more = poll_once(store, *dropzone, id, settings).more;
    } catch (const std::exception& e) {
      failed(e);
    }
    store.release_connection(id);
    if (!outcome.succeeded) {
      return outcome;
    }
  }
  if (route) {
    health_.endpoint_succeeded(*route);
  }
  store.record_poll(id, "");
  return outcome;
}

bool AckPoller::risky(const Schedule& s) {
  return s.failures > 0 || (s.route && !health_.trusted(*s.route));
}

AckPoller::Schedule* AckPoller::next_due(Clock::time_point now, Clock::time_point& wake) {
  // With a single thread there is no one to keep free.
  const bool failing_taken = failing_polls_ > 0 && options_.threads > 1;
  Schedule* chosen = nullptr;
  for (auto& [id, s] : schedule_) {
    if (s.running || (failing_taken && risky(s))) {
      continue;  // a finishing poll wakes the waiting threads
    }
    if (s.due > now) {
      wake = std::min(wake, s.due);
    } else if (chosen == nullptr || s.due < chosen->due) {
      chosen = &s;
    }
  }
  return chosen;
}

void AckPoller::run_thread(int index) {
  std::unique_ptr<AckStore> store;
  auto backoff = std::chrono::milliseconds(200);
  while (!stop_.stop_requested()) {
    try {
      if (!store) {
        store = stores_(index);
      }
      bool refresh = false;
      {
        std::lock_guard lock(mutex_);
        refresh = Clock::now() - refreshed_ >= options_.refresh_every || schedule_.empty();
      }
      if (refresh) {
        refresh_connections(*store);
      }
      std::optional<AckConnection> next;
      bool failing = false;  // its last poll failed
      {
        std::unique_lock lock(mutex_);
        auto earliest = Clock::now() + options_.refresh_every;
        Schedule* chosen = next_due(Clock::now(), earliest);
        if (chosen == nullptr) {
          changed_.wait_until(lock, stop_.get_token(), earliest, [] { return false; });
          continue;
        }
        chosen->running = true;
        failing = risky(*chosen);
        failing_polls_ += failing ? 1 : 0;
        next = chosen->connection;
      }
      std::chrono::seconds interval{};
      {
        std::lock_guard lock(mutex_);
        interval = options_.poll_interval;
      }
      PollOutcome outcome;
      try {
        outcome = poll_connection(index, *store, *next, interval);
      } catch (...) {
        std::lock_guard lock(mutex_);
        schedule_.at(next->connection_id).running = false;
        failing_polls_ -= failing ? 1 : 0;
        changed_.notify_all();
        throw;
      }
      {
        std::lock_guard lock(mutex_);
        auto& s = schedule_.at(next->connection_id);
        s.running = false;
        failing_polls_ -= failing ? 1 : 0;
        s.failures = outcome.succeeded ? 0 : s.failures + 1;
        s.due = outcome.paused_until ? *outcome.paused_until
                : outcome.more       ? Clock::now()
                               : next_poll_due(outcome.interval, s.failures, outcome.ack_schedule,
                                               options_.now());
      }
      changed_.notify_all();
      backoff = std::chrono::milliseconds(200);
    } catch (const std::exception& e) {
      // Whatever its kind, a thread that lost its round starts again with a
      // new connection after a pause: it must never end while the daemon runs.
      log_event(Level::warn, "ack poller cannot reach the database",
                {{"error", e.what()}, {"category", to_string(failure_kind_of(e))}});
      store.reset();
      std::unique_lock lock(mutex_);
      changed_.wait_for(lock, stop_.get_token(), backoff, [] { return false; });
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
  }
}

}  // namespace exportd
