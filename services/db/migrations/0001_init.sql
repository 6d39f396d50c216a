CREATE TABLE things (
  ns TEXT NOT NULL,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (ns, id)
);
CREATE INDEX things_type ON things (ns, type, id);

-- Every version a write replaced.
CREATE TABLE thing_versions (
  ns TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (ns, id, version)
);

CREATE TABLE relationships (
  from_ref TEXT NOT NULL,
  predicate TEXT NOT NULL,
  to_ref TEXT NOT NULL,
  data TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (from_ref, predicate, to_ref)
);
CREATE INDEX relationships_to ON relationships (to_ref, predicate);

CREATE VIRTUAL TABLE things_fts USING fts5(ns UNINDEXED, id UNINDEXED, body);
