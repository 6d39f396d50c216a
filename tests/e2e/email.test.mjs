// End-to-end: inbound email on workerd. The email service alone under `wrangler dev` (so it is
// the session's first worker, the one local Email Routing delivers to), a message posted to
// miniflare's local email endpoint as Email Routing would deliver it, and what the service's
// `#[email]` method did with it read back over HTTP.
//
// Run: scripts/test.sh (or `node --test tests/e2e/email.test.mjs` after scripts/setup.sh).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { startDev } from "./harness.mjs";

// services/email/.dev.vars.example: the development admin key.
const ADMIN = "sk_test_dotdo_dev_key_00000000000000000000";

let dev;

before(async () => {
  dev = await startDev({
    configs: ["services/email/wrangler.toml"],
    migrations: [{ database: "dotdo-email", config: "services/email/wrangler.toml" }],
    readyPath: "/openapi.json",
  });
});

after(async () => {
  await dev?.stop();
});

const message = (from, id) =>
  [`From: ${from}`, "To: support@example.com", `Message-ID: <${id}@example.com>`, "Subject: Where is my order?", "", "It has not come.", ""].join("\r\n");

const deliver = (from, raw) =>
  fetch(`${dev.base}/cdn-cgi/local/email?from=${encodeURIComponent(from)}&to=support@example.com`, { method: "POST", body: raw });

test("an email delivered by Email Routing runs the #[email] method, and is kept once", async () => {
  const first = await deliver("ada@example.com", message("ada@example.com", "m-e2e-1"));
  assert.equal(first.status, 200, await first.clone().text());
  const again = await deliver("ada@example.com", message("ada@example.com", "m-e2e-1"));
  assert.equal(again.status, 200);
  const inbound = await (await fetch(`${dev.base}/inbound`, { headers: { authorization: `Bearer ${ADMIN}` } })).json();
  assert.equal(inbound.length, 1, JSON.stringify(inbound));
  assert.equal(inbound[0].id, "m-e2e-1@example.com");
  assert.equal(inbound[0].from, "ada@example.com");
  assert.equal(inbound[0].subject, "Where is my order?");
});

test("an email the method refuses is rejected with its reason", async () => {
  const refused = await deliver("nobody", message("nobody", "m-e2e-2"));
  const text = await refused.text();
  assert.match(text, /not an email address/, `${refused.status}: ${text}`);
  const inbound = await (await fetch(`${dev.base}/inbound`, { headers: { authorization: `Bearer ${ADMIN}` } })).json();
  assert.ok(!inbound.some((received) => received.id === "m-e2e-2@example.com"));
});
