// End-to-end: the gateway's three tiers under `wrangler dev` (workerd). An internal route (auth,
// admins only), and tenants' workers — two JavaScript workers, reached by path prefix
// (`/t/<tenant>/…`) and by host (`<tenant>.tenants.localhost`) with a per-tenant limit. Locally
// the tenants are service bindings (tests/e2e/tenants/gateway.toml); deployed, a dispatch
// namespace (docs/deploy.md).
//
// Run: scripts/test.sh (or `node --test tests/e2e/tenants.test.mjs` after scripts/setup.sh and
// `source scripts/env.sh`).

import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, test } from "node:test";

import { startDev } from "./harness.mjs";

// Auth's development bootstrap key (services/auth/.dev.vars.example): an admin.
const ADMIN_KEY = "sk_test_bootstrap_admin_dev_only_000000000";

let dev;
let base;

before(async () => {
  dev = await startDev({
    configs: [
      "tests/e2e/tenants/gateway.toml",
      "services/auth/wrangler.toml",
      "tests/e2e/tenants/acme/wrangler.toml",
      "tests/e2e/tenants/globex/wrangler.toml",
    ],
    migrations: [{ database: "dotdo-auth", config: "services/auth/wrangler.toml" }],
    readyPath: "/health",
  });
  base = dev.base;
});

after(async () => {
  await dev?.stop();
});

const admin = { authorization: `Bearer ${ADMIN_KEY}` };

/** A GET with a Host of our choosing (fetch will not send one). */
function getWithHost(host, path) {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    const request = httpRequest({ hostname: url.hostname, port: url.port, path, headers: { host } }, (response) => {
      let text = "";
      response.on("data", (chunk) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode, text }));
    });
    request.on("error", reject);
    request.end();
  });
}

describe("tenants' workers", () => {
  test("a tenant named by the path gets the rest of it, with its name and the caller's signed principal", async () => {
    const response = await fetch(`${base}/t/acme/orders/7?full=1`, { headers: admin });
    assert.equal(response.status, 200, await response.clone().text());
    const answer = await response.json();
    assert.equal(answer.worker, "acme");
    assert.equal(answer.path, "/orders/7?full=1");
    assert.equal(answer.tenant, "acme");
    assert.equal(answer.mounted_at, "/t/acme");
    assert.match(answer.principal, /"role":"admin"/);
    assert.equal(answer.signed, true);
    const globex = await (await fetch(`${base}/t/globex`)).json();
    assert.deepEqual([globex.worker, globex.path, globex.principal], ["globex", "/", null]);
  });

  test("a tenant named by the host", async () => {
    const port = new URL(base).port;
    const answer = await getWithHost(`globex.tenants.localhost:${port}`, "/reports?q=1");
    assert.equal(answer.status, 200, answer.text);
    const body = JSON.parse(answer.text);
    assert.deepEqual([body.worker, body.path, body.tenant], ["globex", "/reports?q=1", "globex"]);
    const unknown = await getWithHost(`initech.tenants.localhost:${port}`, "/");
    assert.equal(unknown.status, 404, unknown.text);
  });

  test("an unknown or malformed tenant is 404 saying so; a forged tenant header is dropped", async () => {
    const unknown = await fetch(`${base}/t/initech/x`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.headers.get("content-type"), "application/problem+json");
    assert.match((await unknown.json()).detail, /no tenant `initech`/);
    assert.equal((await fetch(`${base}/t/Acme/x`)).status, 404);
    const forged = await (await fetch(`${base}/t/acme/x`, { headers: { "x-dotdo-tenant": "globex" } })).json();
    assert.equal(forged.tenant, "acme");
  });

  test("each tenant has its own limit (5 a minute here): one tenant's traffic does not hold back another", async () => {
    // Requests made by the tests before count too: go until the limit answers.
    let served = 0;
    let limited;
    for (let n = 0; n < 8 && !limited; n++) {
      const response = await fetch(`${base}/t/acme/x`);
      if (response.status === 429) limited = response;
      else {
        assert.equal(response.status, 200);
        served++;
      }
    }
    assert.ok(limited, "acme was limited within 8 requests");
    assert.ok(served <= 5, `served ${served}`);
    assert.ok(Number(limited.headers.get("retry-after")) > 0);
    assert.equal(limited.headers.get("x-ratelimit-remaining"), "0");
    const globex = await fetch(`${base}/t/globex/x`);
    assert.equal(globex.status, 200);
    assert.equal(globex.headers.get("x-ratelimit-limit"), "5");
  });
});

describe("internal services", () => {
  test("an internal route answers admins only: 401 without credentials, 403 for a user, 200 for an admin", async () => {
    const anonymous = await fetch(`${base}/auth-admin/_keys`);
    assert.equal(anonymous.status, 401);
    const created = await fetch(`${base}/auth-admin/_keys`, {
      method: "POST",
      headers: { ...admin, "content-type": "application/json" },
      body: JSON.stringify({ owner: "tenant-user", role: "user" }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const { key } = await created.json();
    const user = await fetch(`${base}/auth-admin/_keys`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(user.status, 403);
    assert.match((await user.json()).detail, /admins only/);
    const listed = await fetch(`${base}/auth-admin/_keys`, { headers: admin });
    assert.equal(listed.status, 200, await listed.clone().text());
    assert.ok((await listed.json()).some((info) => info.owner === "tenant-user"));
    // The same service on its public route keeps its own rules: its document is open to all.
    assert.equal((await fetch(`${base}/auth/openapi.json`)).status, 200);
  });

  test("the gateway's health lists the tenant route as up and probes no tenant", async () => {
    const health = await (await fetch(`${base}/health`, { headers: admin })).json();
    assert.deepEqual(health.backends.TENANTS, { up: true, status: null });
    assert.equal(health.backends.AUTH.up, true);
  });
});
