-- Templates: a subject, a text and an HTML body with `{{variable}}` places.
CREATE TABLE templates (
  name TEXT PRIMARY KEY,
  subject TEXT NOT NULL,
  text TEXT,
  html TEXT,
  updated_at INTEGER NOT NULL
);

-- Every email asked for: rendered when asked, sent by the queue consumer; the log.
CREATE TABLE sends (
  id TEXT PRIMARY KEY,
  sender TEXT NOT NULL,
  recipient TEXT NOT NULL,
  subject TEXT NOT NULL,
  text TEXT,
  html TEXT,
  template TEXT,
  status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  generation INTEGER NOT NULL DEFAULT 0,
  provider_id TEXT,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX sends_by_status ON sends (status, updated_at);

-- Addresses not to send to again: hard bounces, complaints.
CREATE TABLE suppressions (
  address TEXT PRIMARY KEY,
  reason TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

-- Email received through Email Routing.
CREATE TABLE inbound (
  id TEXT PRIMARY KEY,
  sender TEXT NOT NULL,
  recipient TEXT NOT NULL,
  subject TEXT,
  size INTEGER NOT NULL,
  received_at INTEGER NOT NULL
);
