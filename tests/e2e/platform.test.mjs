// The platform's spine end to end: gateway, auth and db under one `wrangler dev` (workerd),
// with local D1 and KV. A bootstrap admin key creates a user's key through the gateway; the key
// writes and reads things in db through the gateway, which authenticates it with the auth
// service and forwards the principal; roles, revocation, MCP, rate limits and a missing backend
// behave as documented.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

import { eventually, root, startPlatform, validOpenApi } from "./harness.mjs";

const BOOTSTRAP = "sk_test_bootstrap_admin_dev_only_000000000";
let dev;
let base;

before(async () => {
  dev = await startPlatform();
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
  assert.equal(health.backends.QUEUE.up, true);
  assert.equal(health.backends.SCHEDULE.up, true);
  assert.equal(health.backends.MCP.up, true);
  assert.equal(health.backends.WEBHOOKS.up, true);
  assert.equal(health.backends.EMAIL.up, true);
  assert.equal(health.status, "ok", JSON.stringify(health));
});

test("db and auth serve valid OpenAPI 3.1 documents through the gateway, admin routes to admins only", async () => {
  const db = await validOpenApi(`${base}/db/openapi.json`);
  assert.ok(db.paths["/things/{ns}/{selector}"].put, JSON.stringify(Object.keys(db.paths)));
  assert.equal(db.paths["/_sql"], undefined);
  const admin = await validOpenApi(`${base}/db/openapi.json`, { authorization: `Bearer ${BOOTSTRAP}` });
  assert.ok(admin.paths["/_sql"].post, "an admin sees the private routes");
  const auth = await validOpenApi(`${base}/auth/openapi.json`, { authorization: `Bearer ${BOOTSTRAP}` });
  assert.ok(auth.paths["/_keys"].post);
  // Each is the document rendered before the build (`documents = "documents"`), embedded compact:
  // the public one for anyone, the one with the `/_` routes for an admin.
  const rendered = (service, file) => JSON.parse(readFileSync(join(root, "services", service, "documents", file), "utf8"));
  const served = async (url, headers = {}) => {
    const text = await (await fetch(url, { headers })).text();
    assert.ok(!text.includes("\n"), `${url} is embedded without the file's indentation`);
    return JSON.parse(text);
  };
  assert.deepEqual(await served(`${base}/db/openapi.json`), rendered("db", "openapi.json"));
  assert.deepEqual(await served(`${base}/db/openapi.json`, { authorization: `Bearer ${BOOTSTRAP}` }), rendered("db", "openapi.private.json"));
  assert.deepEqual(await served(`${base}/auth/openapi.json`, { authorization: `Bearer ${BOOTSTRAP}` }), rendered("auth", "openapi.private.json"));
});

/** The page at `url` as headless Chromium (Debian's, installed by scripts/setup.sh) has built it. */
function renderedPage(url) {
  const profile = mkdtempSync(join(tmpdir(), "dotdo-chromium-"));
  // The flags keep Chromium off the network it has no use for here (the machine's is closed).
  const flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"];
  flags.push("--disable-background-networking", "--disable-component-update", "--disable-sync");
  flags.push(`--user-data-dir=${profile}`, "--virtual-time-budget=20000", "--dump-dom", url);
  const run = spawnSync("chromium", flags, { encoding: "utf8", timeout: 120_000 });
  rmSync(profile, { recursive: true, force: true });
  assert.equal(run.status, 0, `chromium: ${run.error ?? run.stderr.slice(-2000)}`);
  return run.stdout;
}

test("the gateway's index links each service's API page, which renders its operations in a browser", async () => {
  const index = await fetch(`${base}/`);
  assert.equal(index.headers.get("content-type"), "text/html; charset=utf-8");
  const links = [...(await index.text()).matchAll(/href="([^"]*\/docs)"/g)].map((match) => match[1]);
  assert.deepEqual(links.sort(), ["/auth/docs", "/db/docs", "/docs", "/email/docs", "/queue/docs", "/schedule/docs", "/webhooks/docs"]);
  // The viewer comes from the worker's own static assets, through the gateway's service binding.
  const viewer = await fetch(`${base}/db/docs/swagger-ui-bundle.js`);
  assert.equal(viewer.status, 200);
  assert.match(viewer.headers.get("content-type"), /javascript/);
  for (const [service, paths] of [
    ["db", ["/things/{ns}", "/things/{ns}/{selector}", "/search", "/relationships"]],
    ["auth", ["/refresh"]],
    ["queue", ["/jobs", "/jobs/{id}", "/jobs/{id}/replay"]],
    ["schedule", ["/schedules", "/schedules/{id}/runs"]],
    ["webhooks", ["/in/{provider}", "/deliveries"]],
  ]) {
    const dom = renderedPage(`${base}/${service}/docs`);
    const rendered = [...dom.matchAll(/data-path="([^"]+)"/g)].map((match) => match[1]);
    for (const path of paths) assert.ok(rendered.includes(path), `${service}: ${path} rendered, got ${rendered}`);
    assert.ok(!dom.includes("The API viewer has not loaded"), `${service}'s viewer loaded`);
  }
});

/**
 * `fetch` for a QUERY request. Sent on a kept-alive connection that the dev server closed while
 * it sat idle (as after a long test), it fails as a closed socket before any answer: QUERY is
 * safe and idempotent, so it is sent once more, on a new connection. Any other failure, or a
 * second one, stands.
 */
async function fetchQuery(url, init) {
  try {
    return await fetch(url, init);
  } catch (error) {
    if (error.cause?.code !== "UND_ERR_SOCKET") throw error;
    return fetch(url, init);
  }
}

test("the gateway forwards a method workers-rs has no name for (QUERY) as it is, never as a GET", async () => {
  // Found by schemathesis: it reached db as a GET and was answered 200.
  const response = await fetchQuery(`${base}/db/count/acme`, { method: "QUERY", headers: { authorization: `Bearer ${BOOTSTRAP}` } });
  assert.equal(response.status, 405, await response.clone().text());
  assert.equal(response.headers.get("allow"), "GET, HEAD, OPTIONS", "db's own answer");
  const withBody = await fetchQuery(`${base}/db/_sql`, {
    method: "QUERY",
    headers: { authorization: `Bearer ${BOOTSTRAP}`, "content-type": "application/json" },
    body: JSON.stringify({ query: "SELECT 1" }),
  });
  assert.equal(withBody.status, 405, await withBody.clone().text());
  assert.equal(withBody.headers.get("allow"), "POST, OPTIONS");
});

test("db's raw SQL answers a failing statement as a bad request, not a server error", async () => {
  const response = await call("POST", "/db/_sql", { key: BOOTSTRAP, body: { query: "SELEC nonsense" } });
  assert.equal(response.status, 400, await response.clone().text());
  assert.equal((await response.json()).field, "query");
});

async function newKey(owner, role) {
  const created = await call("POST", "/auth/_keys", { key: BOOTSTRAP, body: { owner, role } });
  assert.equal(created.status, 201, await created.clone().text());
  return created.json();
}

test("a key made through the gateway writes and reads data through the gateway", async () => {
  const { key, id } = await newKey("alice", "user");
  assert.match(key, /^sk_test_[A-Za-z0-9]{32}$/);

  const written = await call("PUT", "/db/things/acme/order-1", { key, body: { type: "Order", data: { total: 42, note: "first order" } } });
  assert.equal(written.status, 200, await written.clone().text());
  assert.equal((await written.json()).version, 1);
  const rewritten = await call("PUT", "/db/things/acme/order-1", { key, body: { type: "Order", data: { total: 50, note: "first order, amended" } } });
  assert.equal((await rewritten.json()).version, 2);
  await call("PUT", "/db/things/acme/order-2", { key, body: { type: "Order", data: { total: 7 } } });
  await call("PUT", "/db/things/acme/invoice-1", { key, body: { type: "Invoice", data: { total: 50 } } });

  const read = await (await call("GET", "/db/things/acme/order-1", { key })).json();
  assert.equal(read.data.total, 50);
  const badName = await call("PUT", "/db/things/ac%20me/order-1", { key, body: { type: "Order", data: {} } });
  assert.equal(badName.status, 400);
  assert.equal((await badName.json()).field, "ns");
  const old = await (await call("GET", "/db/things/acme/order-1@1", { key })).json();
  assert.equal(old.data.total, 42, "the old version is kept");
  const listed = await (await call("GET", "/db/things/acme?type=Order", { key })).json();
  assert.deepEqual(listed.things.map((thing) => thing.id), ["order-1", "order-2"]);
  const globbed = await (await call("GET", "/db/things/acme/order-*", { key })).json();
  assert.equal(globbed.length, 2);
  const found = await (await call("GET", "/db/search?query=amended", { key })).json();
  assert.deepEqual(found.map((thing) => thing.id), ["order-1"]);
  assert.equal((await call("DELETE", "/db/things/acme/order-2", { key })).status, 204);
  assert.equal((await call("GET", "/db/things/acme/order-2", { key })).status, 404);

  // Roles travel with the forwarded principal: alice is a user, raw SQL is for admins.
  assert.equal((await call("POST", "/db/_sql", { body: { query: "SELECT 1" } })).status, 401);
  assert.equal((await call("POST", "/db/_sql", { key, body: { query: "SELECT 1" } })).status, 403);
  assert.equal((await call("POST", "/db/_sql", { key: BOOTSTRAP, body: { query: "SELECT count(*) AS n FROM things" } })).status, 200);

  // Revoked: the same key stops working at once.
  assert.equal((await call("DELETE", `/auth/_keys/${id}`, { key: BOOTSTRAP })).status, 204);
  assert.equal((await call("GET", "/db/things/acme/order-1", { key })).status, 401);
});

test("a viewer may read but not write", async () => {
  const { key } = await newKey("vera", "viewer");
  assert.equal((await call("GET", "/db/count/acme", { key })).status, 200);
  const write = await call("PUT", "/db/things/acme/nope", { key, body: { type: "T", data: {} } });
  assert.equal(write.status, 403);
  assert.equal((await call("PUT", "/db/things/acme/nope", { body: { type: "T", data: {} } })).status, 401, "no key");
});

test("a bulk-upsert message through the queue lands in db", async () => {
  const { key } = await newKey("bulk-loader", "user");
  const things = Array.from({ length: 5 }, (_, index) => ({ ns: "imported", id: `row-${index}`, type: "Row", data: { index }, version: 1 }));
  const accepted = await call("POST", "/db/_bulk", { key, body: things });
  assert.equal(accepted.status, 202, await accepted.clone().text());
  const count = await eventually(async () => {
    const value = await (await call("GET", "/db/count/imported", { key })).json();
    return { done: value === 5, value };
  });
  assert.equal(count, 5);
});

test("db's MCP tools through the gateway, with the official TypeScript SDK client", async () => {
  const { key } = await newKey("model", "user");
  const client = new Client({ name: "dotdo-platform-e2e", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${base}/db/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    assert.ok(["get_thing", "list_things", "search", "upsert_thing"].every((name) => tools.some((tool) => tool.name === name)));
    const written = await client.callTool({ name: "upsert_thing", arguments: { ns: "mcp", id: "note-1", type: "Note", data: { text: "from a model" } } });
    assert.equal(written.isError, false, JSON.stringify(written));
    const read = await client.callTool({ name: "get_thing", arguments: { ns: "mcp", id: "note-1" } });
    assert.equal(read.structuredContent.data.text, "from a model");
    // Names are `dotdo::Name`s: the schema states the rule and a bad one is refused as bound.
    const upsert = tools.find((tool) => tool.name === "upsert_thing");
    assert.equal(upsert.inputSchema.properties.ns.pattern, "^[A-Za-z0-9_.-]{1,128}$");
    const refused = await client.callTool({ name: "upsert_thing", arguments: { ns: "no spaces", id: "x", type: "Note", data: {} } });
    assert.equal(refused.isError, true);
    assert.match(refused.content[0].text, /`ns`.*a name is 1 to 128/);
  } finally {
    await client.close();
  }
});

test("jobs run through the real local queue as their enqueuer; a failing one dies and is replayed", async () => {
  const enqueue = async (job) => {
    const response = await call("POST", "/queue/jobs", { key: BOOTSTRAP, body: job });
    assert.equal(response.status, 202, await response.clone().text());
    return response.json();
  };
  const settled = (id, status) =>
    eventually(async () => {
      const job = await (await call("GET", `/queue/jobs/${id}`, { key: BOOTSTRAP })).json();
      return { done: job.status === status, value: job };
    });

  const job = await enqueue({ service: "db", method: "upsert_thing", params: { ns: "jobs", id: "e2e-1", type: "Note", data: { text: "queued" } } });
  assert.equal(job.status, "queued");
  const done = await settled(job.id, "succeeded");
  assert.equal(done.status, "succeeded", JSON.stringify(done));
  assert.equal(done.result.data.text, "queued");
  const thing = await call("GET", "/db/things/jobs/e2e-1", { key: BOOTSTRAP });
  assert.equal((await thing.json()).data.text, "queued");

  // Deleting what is not there yet can never succeed: dead, with the reason.
  const early = await enqueue({ service: "db", method: "delete_thing", params: { ns: "jobs", id: "later" } });
  const dead = await settled(early.id, "dead");
  assert.equal(dead.status, "dead", JSON.stringify(dead));
  assert.match(dead.last_error, /not_found/);
  const deadOnes = await (await call("GET", "/queue/jobs?status=dead", { key: BOOTSTRAP })).json();
  assert.ok(deadOnes.some((listed) => listed.id === early.id));
  // The cause fixed, the replay succeeds.
  assert.equal((await call("PUT", "/db/things/jobs/later", { key: BOOTSTRAP, body: { type: "Note", data: {} } })).status, 200);
  const replayed = await call("POST", `/queue/jobs/${early.id}/replay`, { key: BOOTSTRAP });
  assert.equal(replayed.status, 200, await replayed.clone().text());
  assert.equal((await replayed.json()).status, "queued");
  const revived = await settled(early.id, "succeeded");
  assert.equal(revived.status, "succeeded", JSON.stringify(revived));
  assert.equal((await call("GET", "/db/things/jobs/later", { key: BOOTSTRAP })).status, 404);

  // Only services and admins enqueue.
  const { key } = await newKey("jobs-user", "user");
  assert.equal((await call("POST", "/queue/jobs", { key, body: { service: "db", method: "search" } })).status, 403);
});

test("a schedule runs once per slot however many ticks overlap, through the queue service to db", async () => {
  const created = await call("POST", "/schedule/schedules", {
    key: BOOTSTRAP,
    body: { id: "e2e-once", at: Date.now(), target: { rpc: { service: "db", method: "upsert_thing", params: { ns: "sched", id: "e2e-1", type: "Note", data: { text: "on schedule" } } } } },
  });
  assert.equal(created.status, 201, await created.clone().text());
  const ticks = await Promise.all([1, 2, 3].map(() => call("POST", "/schedule/_tick", { key: BOOTSTRAP })));
  const runs = (await Promise.all(ticks.map((tick) => tick.json()))).flatMap((tick) => tick.runs);
  assert.equal(runs.length, 1, JSON.stringify(runs));
  assert.equal(runs[0].outcome, "sent");
  const job = await eventually(async () => {
    const found = await (await call("GET", `/queue/jobs/${runs[0].job_id}`, { key: BOOTSTRAP })).json();
    return { done: found.status === "succeeded", value: found };
  });
  assert.equal(job.status, "succeeded", JSON.stringify(job));
  assert.equal((await (await call("GET", "/db/things/sched/e2e-1", { key: BOOTSTRAP })).json()).data.text, "on schedule");
  const history = await (await call("GET", "/schedule/schedules/e2e-once/runs", { key: BOOTSTRAP })).json();
  assert.equal(history.length, 1);
  assert.equal(typeof history[0].duration_ms, "number");

  const invalid = await call("POST", "/schedule/schedules", { key: BOOTSTRAP, body: { cron: "61 * * * *", target: { rpc: { service: "db", method: "search" } } } });
  assert.equal(invalid.status, 422);
  assert.equal((await invalid.json()).field, "cron");
});

test("one MCP endpoint: the SDK client lists and calls the tools of db, auth and schedule as one server", async () => {
  const client = new Client({ name: "dotdo-hub-e2e", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { authorization: `Bearer ${BOOTSTRAP}` } } });
  await client.connect(transport);
  try {
    assert.equal(client.getServerVersion().name, "mcp");
    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name);
    for (const name of ["db_get_thing", "db_upsert_thing", "schedule_create_schedule", "schedule_list_schedules", "queue_list_jobs"]) {
      assert.ok(names.includes(name), `${name} in ${names}`);
    }
    assert.ok(names.some((name) => name.startsWith("auth_")), `${names}`);
    const written = await client.callTool({ name: "db_upsert_thing", arguments: { ns: "hub", id: "h1", type: "Note", data: { text: "through the hub" } } });
    assert.equal(written.isError, false, JSON.stringify(written));
    const read = await client.callTool({ name: "db_get_thing", arguments: { ns: "hub", id: "h1" } });
    assert.equal(read.structuredContent.data.text, "through the hub");
    const created = await client.callTool({
      name: "schedule_create_schedule",
      arguments: { schedule: { id: "via-hub", cron: "0 4 * * *", target: { rpc: { service: "db", method: "search", params: { q: "hub" } } } } },
    });
    assert.equal(created.isError, false, JSON.stringify(created));
    const listed = await client.callTool({ name: "schedule_list_schedules", arguments: {} });
    assert.match(listed.content[0].text, /via-hub/);
    await assert.rejects(client.callTool({ name: "nothing_here", arguments: {} }), /<service>_<tool>/);
    // The hub offers tools alone (its worker carries no code for the other features): it says
    // so, and refuses their methods as features it does not have.
    const capabilities = client.getServerCapabilities();
    assert.ok(capabilities.tools, JSON.stringify(capabilities));
    for (const feature of ["resources", "prompts", "completions"]) assert.equal(capabilities[feature], undefined, JSON.stringify(capabilities));
    await assert.rejects(client.listResources(), /-32601.*offers no such feature/);
    await assert.rejects(client.readResource({ uri: "docs://rules" }), /-32601.*offers no such feature/);
    await assert.rejects(client.getPrompt({ name: "summary" }), /-32601.*offers no such feature/);
  } finally {
    await client.close();
  }
  // Anonymous, a write is refused by db itself, through the hub.
  const anonymous = new Client({ name: "dotdo-hub-anonymous", version: "1.0.0" });
  await anonymous.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)));
  try {
    const refused = await anonymous.callTool({ name: "db_upsert_thing", arguments: { ns: "hub", id: "h2", type: "Note", data: {} } });
    assert.equal(refused.isError, true);
  } finally {
    await anonymous.close();
  }
});

test("the domain's MCP catalog lists the hub's and each service's Server Card", async () => {
  const response = await fetch(`${base}/.well-known/mcp/catalog.json`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/ai-catalog+json");
  const catalog = await response.json();
  const urls = catalog.entries.map((entry) => entry.url);
  assert.ok(urls.includes(`${base}/mcp/server-card`), `${urls}`);
  assert.ok(urls.includes(`${base}/db/mcp/server-card`), `${urls}`);
  for (const entry of catalog.entries) {
    assert.equal(entry.type, "application/mcp-server-card+json");
    const card = await fetch(entry.url);
    assert.equal(card.status, 200, entry.url);
    const remote = (await card.json()).remotes[0].url;
    assert.equal(remote, entry.url.replace(/\/server-card$/, ""), "each card points at its own endpoint, through the gateway");
  }
});

test("webhooks: a signed Stripe event in, its replay ignored, a forged one refused; delivered signed, a failing subscriber retried, dead-lettered and replayed", async () => {
  // The subscriber: a real HTTP server the webhooks worker fetches, failing until told not to.
  const received = [];
  let answer = 500;
  const subscriber = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, body });
      response.statusCode = answer;
      response.end();
    });
  });
  await new Promise((resolve) => subscriber.listen(0, "127.0.0.1", resolve));
  try {
    const url = `http://127.0.0.1:${subscriber.address().port}/hook`;
    const subscribed = await call("POST", "/webhooks/subscriptions", { key: BOOTSTRAP, body: { url, events: ["stripe.*"] } });
    assert.equal(subscribed.status, 201, await subscribed.clone().text());
    const { secret } = await subscribed.json();

    const stripe = (body, signingSecret = "whsec_dev_only_stripe") => {
      const timestamp = Math.floor(Date.now() / 1000);
      const signature = createHmac("sha256", signingSecret).update(`${timestamp}.${body}`).digest("hex");
      return fetch(`${base}/webhooks/in/stripe`, {
        method: "POST",
        headers: { "content-type": "application/json", "stripe-signature": `t=${timestamp},v1=${signature}` },
        body,
      });
    };
    const event = JSON.stringify({ id: "evt_e2e_1", type: "invoice.paid", data: { object: { amount: 4200 } } });
    const first = await stripe(event);
    assert.equal(first.status, 200, await first.clone().text());
    assert.equal((await first.json()).duplicate, false);
    assert.equal((await (await stripe(event)).json()).duplicate, true, "the replay is not processed twice");
    assert.equal((await stripe(event.replace("4200", "1"), "whsec_guess")).status, 401, "a forged one is refused");

    // Failing: retried (2, 4, 8 s), then dead.
    const dead = await eventually(async () => {
      const deliveries = await (await call("GET", "/webhooks/deliveries?status=dead", { key: BOOTSTRAP })).json();
      return { done: deliveries.length === 1, value: deliveries[0] };
    });
    assert.ok(dead, "the failing delivery died");
    assert.equal(dead.last_status, 500);
    assert.ok(received.length >= 2, `retried: ${received.length} tries`);
    // Each try is signed with the subscription's secret (Standard Webhooks).
    const { headers, body } = received[0];
    const key = Buffer.from(secret.replace("whsec_", ""), "base64");
    const expected = createHmac("sha256", key).update(`${headers["webhook-id"]}.${headers["webhook-timestamp"]}.${body}`).digest("base64");
    assert.equal(headers["webhook-signature"], `v1,${expected}`);
    assert.equal(JSON.parse(body).type, "stripe.invoice.paid");

    // Fixed, the replay is delivered.
    answer = 200;
    const replayed = await call("POST", `/webhooks/deliveries/${dead.id}/replay`, { key: BOOTSTRAP });
    assert.equal(replayed.status, 200, await replayed.clone().text());
    const delivered = await eventually(async () => {
      const delivery = await (await call("GET", `/webhooks/deliveries/${dead.id}`, { key: BOOTSTRAP })).json();
      return { done: delivery.status === "delivered", value: delivery };
    });
    assert.equal(delivered.status, "delivered", JSON.stringify(delivered));
  } finally {
    subscriber.close();
  }
});

test("on schedule, a job sends a templated email through the provider (a local Resend-compatible stand-in)", async () => {
  // The provider: what services/email/.dev.vars.example points RESEND_API_URL at.
  const sent = [];
  const provider = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      sent.push({ path: request.url, authorization: request.headers.authorization, idempotency: request.headers["idempotency-key"], email: JSON.parse(body) });
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ id: `re_e2e_${sent.length}` }));
    });
  });
  await new Promise((resolve) => provider.listen(47951, "127.0.0.1", resolve));
  try {
    const template = await call("PUT", "/email/templates/welcome", { key: BOOTSTRAP, body: { subject: "Welcome, {{name}}", text: "Hello {{name}}, your plan is {{plan}}." } });
    assert.equal(template.status, 200, await template.clone().text());
    const email = { to: "ada@example.com", template: "welcome", variables: { name: "Ada", plan: "team" } };
    const scheduled = await call("POST", "/schedule/schedules", {
      key: BOOTSTRAP,
      body: { id: "welcome-ada", at: Date.now(), target: { rpc: { service: "email", method: "send", params: { email } } } },
    });
    assert.equal(scheduled.status, 201, await scheduled.clone().text());
    const tick = await (await call("POST", "/schedule/_tick", { key: BOOTSTRAP })).json();
    const run = tick.runs.find((found) => found.schedule_id === "welcome-ada");
    assert.equal(run?.outcome, "sent", JSON.stringify(tick));
    const job = await eventually(async () => {
      const found = await (await call("GET", `/queue/jobs/${run.job_id}`, { key: BOOTSTRAP })).json();
      return { done: found.status === "succeeded", value: found };
    });
    assert.equal(job.status, "succeeded", JSON.stringify(job));
    const sendId = job.result.id;
    const logged = await eventually(async () => {
      const found = await (await call("GET", `/email/sends/${sendId}`, { key: BOOTSTRAP })).json();
      return { done: found.status === "sent", value: found };
    });
    assert.equal(logged.status, "sent", JSON.stringify(logged));
    assert.equal(logged.provider_id, "re_e2e_1");
    assert.equal(sent.length, 1);
    assert.equal(sent[0].path, "/emails");
    assert.equal(sent[0].authorization, "Bearer re_dev_only_key");
    assert.equal(sent[0].idempotency, sendId);
    assert.deepEqual(sent[0].email.to, ["ada@example.com"]);
    assert.equal(sent[0].email.subject, "Welcome, Ada");
    assert.equal(sent[0].email.text, "Hello Ada, your plan is team.");
  } finally {
    provider.close();
  }
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

test("a service none of whose MCP calls can ask for input refuses a request state as not its own (2026-07-28, through the gateway)", async () => {
  // auth's tools take no `&Context`: its worker carries no code to verify a state.
  const call = async (extra) => {
    const response = await fetch(`${base}/auth/mcp`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        authorization: `Bearer ${BOOTSTRAP}`,
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "tools/call",
        "mcp-name": "check_permission",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: {
          name: "check_permission",
          arguments: { user_id: "sam", role: "viewer", resource: "things/acme", action: "read" },
          _meta: {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": { elicitation: {} },
            "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" },
          },
          ...extra,
        },
      }),
    });
    assert.equal(response.status, 200);
    return response.json();
  };
  const answered = await call({});
  assert.equal(answered.result.resultType, "complete", JSON.stringify(answered));
  const refused = await call({ requestState: "abc.def", inputResponses: {} });
  assert.equal(refused.error?.code, -32602, JSON.stringify(refused));
  assert.match(refused.error.message, /invalid `requestState`: it was not issued by this server/);
});

test("db's namespaces are not public through the gateway: reads need credentials", async () => {
  const response = await call("GET", "/db/things/acme/order-1");
  assert.equal(response.status, 401);
  assert.match((await response.json()).detail, /credentials/);
});

test("a revoked session's access token stops working at once through the gateway; a refresh token is never an access token", async () => {
  const issued = await call("POST", "/auth/_sessions", { key: BOOTSTRAP, body: { user_id: "sam", role: "viewer" } });
  assert.equal(issued.status, 201, await issued.clone().text());
  const tokens = await issued.json();
  assert.equal((await call("GET", "/db/count/acme", { key: tokens.access_token })).status, 200);
  assert.equal((await call("GET", "/db/count/acme", { key: tokens.refresh_token })).status, 401, "refresh token refused");
  assert.equal((await call("DELETE", `/auth/_sessions/${tokens.session_id}`, { key: BOOTSTRAP })).status, 204);
  assert.equal((await call("GET", "/db/count/acme", { key: tokens.access_token })).status, 401, "revoked at once, not in an hour");
});

test("every route has its backend: the email service answers through the gateway, GET /email/send is 405", async () => {
  // A route without a binding is 503 (services/gateway/tests: `failing_and_missing_backends_get_502_and_503`).
  const response = await call("GET", "/email/send");
  assert.equal(response.status, 405, await response.clone().text());
  assert.match(response.headers.get("allow"), /POST/);
});

test("auth routes have a stricter rate limit: too many requests get 429 with Retry-After", async () => {
  const db = await call("GET", "/db/count/acme");
  assert.equal(db.headers.get("x-ratelimit-limit"), "600");
  let limited;
  for (let attempt = 0; attempt < 25 && !limited; attempt++) {
    const response = await call("GET", "/auth/nothing");
    assert.equal(response.headers.get("x-ratelimit-limit"), "20");
    if (response.status === 429) limited = response;
  }
  assert.ok(limited, "the 21st anonymous request in a minute is refused");
  assert.ok(Number(limited.headers.get("retry-after")) > 0);
});

test("the request id is propagated to the backend and back", async () => {
  const response = await fetch(`${base}/db/count/acme`, { headers: { "x-request-id": "platform-req-1" } });
  assert.equal(response.headers.get("x-request-id"), "platform-req-1");
});

