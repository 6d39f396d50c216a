-- API keys, stored only as the SHA-256 of the key; looked up by that hash (unique index).
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  key_hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  owner TEXT NOT NULL,
  role TEXT NOT NULL,
  scopes TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);
CREATE INDEX api_keys_owner ON api_keys (owner);

-- Sessions and their refresh tokens (by JWT id). A refresh token is used once: using it again
-- revokes the whole session (a stolen token was replayed).
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  role TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE TABLE refresh_tokens (
  jti TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);

-- Grants beyond a role: `resource` may end in `:*` (every resource under that prefix).
CREATE TABLE grants (
  user_id TEXT NOT NULL,
  resource TEXT NOT NULL,
  action TEXT NOT NULL,
  PRIMARY KEY (user_id, resource, action)
);
