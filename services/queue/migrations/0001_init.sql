-- Jobs: what to call, as whom, and how it went. The queue message carries only the id, so this
-- row is the one truth a delivery, a retry and a replay read.
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  service TEXT NOT NULL,
  method TEXT NOT NULL,
  params TEXT NOT NULL,
  -- The enqueuing principal, as JSON: the job runs as it.
  principal TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  -- Replays so far: a run or dead letter of an earlier generation is stale and ignored.
  generation INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  result TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX jobs_by_status ON jobs (status, updated_at);
