// The platform's spine end to end: gateway, auth and db under one `wrangler dev` (workerd),
// with local D1 and KV. A bootstrap admin key creates a user's key through the gateway; the key
// writes and reads things in db through the gateway, which authenticates it with the auth
// service and forwards the principal; roles, revocation, MCP, rate limits and a missing backend
// behave as documented.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { startDev } from "./harness.mjs";

const BOOTSTRAP = "sk_test_bootstrap_admin_dev_only_000000000";
let dev;
let base;

before(async () => {
  dev = await startDev({
    configs: ["services/gateway/wrangler.toml", "services/auth/wrangler.toml", "services/db/wrangler.toml"],
    migrations: [
      { database: "dotdo-auth", config: "services/auth/wrangler.toml" },
      { database: "dotdo-db", config: "services/db/wrangler.toml" },
    ],
    readyPath: "/health",
  });
  base = dev.base;
});

after(async () => {
  await dev?.stop();
});

const call = (method, path, { key, body } = {}) =>
  fetch(`${base}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

test("health reports each backend", async () => {
  const health = await (await fetch(`${base}/health`)).json();
  assert.equal(health.backends.DB.up, true);
  assert.equal(health.backends.AUTH.up, true);
  assert.equal(health.backends.EMAIL.up, false, "not deployed here");
  assert.equal(health.status, "degraded");
});

test("a key made through the gateway writes and reads data through the gateway", async () => {
  const created = await call("POST", "/auth/_keys", { key: BOOTSTRAP, body: { owner: "alice", role: "user" } });
  assert.equal(created.status, 201, await created.clone().text());
  const { key, id } = await created.json();
  assert.match(key, /^sk_test_[A-Za-z0-9]{32}$/);

  const written = await call("PUT", "/db/things/acme/order-1", { key, body: { type: "Order", data: { total: 42, note: "first order" } } });
  assert.equal(written.status, 200, await written.clone().text());
  assert.equal((await written.json()).version, 1);
  const read = await (await call("GET", "/db/things/acme/order-1")).json();
  assert.equal(read.data.total, 42);
  const found = await (await call("GET", "/db/search?query=first")).json();
  assert.deepEqual(found.map((thing) => thing.id), ["order-1"]);

  // Roles travel with the forwarded principal: alice is a user, raw SQL is for admins.
  assert.equal((await call("POST", "/db/_sql", { body: { query: "SELECT 1" } })).status, 401);
  assert.equal((await call("POST", "/db/_sql", { key, body: { query: "SELECT 1" } })).status, 403);
  assert.equal((await call("POST", "/db/_sql", { key: BOOTSTRAP, body: { query: "SELECT count(*) AS n FROM things" } })).status, 200);

  // Revoked: the same key stops working at once.
  assert.equal((await call("DELETE", `/auth/_keys/${id}`, { key: BOOTSTRAP })).status, 204);
  assert.equal((await call("GET", "/db/things/acme/order-1", { key })).status, 401);
});

test("a client cannot forge the gateway's principal header", async () => {
  const response = await fetch(`${base}/db/_sql`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-dotdo-gateway": "guess", "x-dotdo-principal": '{"id":"x","role":"admin"}' },
    body: JSON.stringify({ query: "SELECT 1" }),
  });
  assert.equal(response.status, 401);
});

test("MCP reaches a service through its prefix", async () => {
  const response = await fetch(`${base}/db/mcp`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
  assert.equal(response.status, 200);
  const { result } = await response.json();
  assert.ok(result.tools.some((tool) => tool.name === "search"));
});

test("auth routes have a stricter rate limit, and a missing backend is 503", async () => {
  const auth = await call("GET", "/auth/nothing");
  assert.equal(auth.headers.get("x-ratelimit-limit"), "20");
  const db = await call("GET", "/db/count/acme");
  assert.equal(db.headers.get("x-ratelimit-limit"), "600");
  assert.equal((await call("GET", "/email/send")).status, 503);
});

test("the request id is propagated to the backend and back", async () => {
  const response = await fetch(`${base}/db/count/acme`, { headers: { "x-request-id": "platform-req-1" } });
  assert.equal(response.headers.get("x-request-id"), "platform-req-1");
});
