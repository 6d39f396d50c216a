// Schemathesis (PyPI, pinned in scripts/python-requirements.txt) against the OpenAPI documents
// the services serve, under `wrangler dev`: examples, coverage (with negative data), fuzzing and
// stateful sequences, checking that no request gets a server error and that every response
// conforms to the document (status, content type, headers, body schema, `Allow`, unknown
// methods). The number of generated cases is printed (recorded in docs/security.md).
//
// Run: scripts/test.sh (or `node --test tests/e2e/schemathesis.test.mjs` after scripts/setup.sh).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { root, startFixture, startPlatform } from "./harness.mjs";

// What a response must satisfy. `positive_data_acceptance` (a request the document allows must
// succeed) is left out: the documents do not yet state every rule the methods check (a page
// limit's range, a JSON object where any JSON is typed), so schema-valid requests can still be
// refused with 4xx — a refusal, never a wrong answer.
const CHECKS = [
  "not_a_server_error",
  "status_code_conformance",
  "content_type_conformance",
  "response_headers_conformance",
  "response_schema_conformance",
  "negative_data_rejection",
  "unsupported_method",
  "allow_header_conformance",
].join(",");

function schemathesis(name, base, { headers = {}, exclude = [] } = {}) {
  const args = ["run", `${base}/openapi.json`, "--url", base, "--checks", CHECKS];
  args.push("--phases", "examples,coverage,fuzzing,stateful", "--max-examples", "25", "--workers", "1");
  args.push("--seed", "20261127", "--suppress-health-check", "all", "--no-color");
  for (const [name, value] of Object.entries(headers)) args.push("-H", `${name}: ${value}`);
  for (const pattern of exclude) args.push("--exclude-path-regex", pattern);
  const run = spawnSync(join(root, ".venv", "bin", "schemathesis"), args, { encoding: "utf8", timeout: 15 * 60_000 });
  const output = `${run.stdout}${run.stderr}`;
  const generated = output.match(/(\d+) generated/)?.[1];
  console.log(`schemathesis ${name}: ${generated ?? "?"} cases generated, exit ${run.status}`);
  assert.equal(run.status, 0, `schemathesis found problems in ${name}:\n${output.slice(-12_000)}`);
  assert.ok(Number(generated) > 0, `schemathesis generated no cases for ${name}:\n${output.slice(-4000)}`);
}

describe("schemathesis against the e2e fixture", () => {
  let dev;
  before(async () => {
    dev = await startFixture();
  });
  after(async () => dev?.stop());

  test("0 server errors, 0 responses that violate the document", { timeout: 20 * 60_000 }, () => {
    schemathesis("fixture", dev.base, {
      headers: { authorization: "Bearer sk_test_e2ecaller000000000000000000000000" },
      // A deliberate panic, and the routes that steer the queue tests.
      exclude: ["^/(panic$|drive/)"],
    });
  });
});

describe("schemathesis against db and auth, through the gateway", () => {
  let dev;
  before(async () => {
    dev = await startPlatform();
  });
  after(async () => dev?.stop());

  // The development bootstrap admin key (services/auth/.dev.vars.example): every route is in
  // the document an admin reads, and reachable.
  const admin = { authorization: "Bearer sk_test_bootstrap_admin_dev_only_000000000" };

  test("db: 0 server errors, 0 responses that violate the document", { timeout: 20 * 60_000 }, () => {
    schemathesis("db", `${dev.base}/db`, { headers: admin });
  });

  test("auth: 0 server errors, 0 responses that violate the document", { timeout: 20 * 60_000 }, () => {
    schemathesis("auth", `${dev.base}/auth`, { headers: admin });
  });
});
