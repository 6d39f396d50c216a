-- Schedules: what to run (a job for a service's RPC method, or a queue message), when (a cron
-- expression, or once `at`), as whom; `next_run` is the next slot due, NULL when done.
CREATE TABLE schedules (
  id TEXT PRIMARY KEY,
  cron TEXT,
  at INTEGER,
  target TEXT NOT NULL,
  principal TEXT NOT NULL,
  paused INTEGER NOT NULL DEFAULT 0,
  next_run INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX schedules_due ON schedules (paused, next_run);

-- One row per schedule and minute slot: its primary key is what makes a run happen at most once
-- per slot when ticks overlap.
CREATE TABLE runs (
  schedule_id TEXT NOT NULL,
  slot INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  duration_ms INTEGER,
  outcome TEXT NOT NULL CHECK (outcome IN ('running', 'sent', 'failed')),
  job_id TEXT,
  error TEXT,
  PRIMARY KEY (schedule_id, slot)
);
