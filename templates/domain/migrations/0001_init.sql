CREATE TABLE items (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  price INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);

-- What the item-event consumer has seen, newest last.
CREATE TABLE item_events (
  event_id TEXT PRIMARY KEY,
  item_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  at INTEGER NOT NULL
);
