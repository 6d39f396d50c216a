// End-to-end: a worker that finds development secrets outside local development refuses to serve
// (500, reason logged), as a deploy that forgot `wrangler secret put` would.
//
// Run: scripts/test.sh (or `node --test tests/e2e/` after scripts/setup.sh and `source scripts/env.sh`).

import assert from "node:assert/strict";
import { test } from "node:test";

import { eventually, startDev } from "./harness.mjs";

test("outside local development a worker with development secrets refuses to serve, and logs why", async () => {
  // The same db worker and .dev.vars, but DOTDO_ENV says production: as if the development
  // values had been deployed.
  const production = await startDev({
    configs: ["services/db/wrangler.toml"],
    migrations: [{ database: "dotdo-db", config: "services/db/wrangler.toml" }],
    vars: { DOTDO_ENV: "production" },
    readyPath: "/count/acme",
    readyStatus: 500,
  });
  try {
    const response = await fetch(`${production.base}/count/acme`);
    assert.equal(response.status, 500);
    const body = await response.text();
    assert.doesNotMatch(body, /dev-only|GATEWAY_SECRET|API_KEYS/, "the reason is logged, not answered");
    const logged = await eventually(async () => ({ done: /development value/.test(production.output()), value: production.output() }), { timeoutMs: 10_000 });
    assert.match(logged, /secret `(API_KEYS|GATEWAY_SECRET)` holds a development value/);
  } finally {
    await production.stop();
  }
});
