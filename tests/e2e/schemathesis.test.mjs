// Schemathesis (PyPI, pinned in scripts/python-requirements.txt) against the OpenAPI documents
// the services serve, under `wrangler dev`: examples, coverage (with negative data), fuzzing and
// stateful sequences, checking that no request gets a server error and that every response
// conforms to the document (status, content type, headers, body schema, `Allow`, unknown
// methods). The number of generated cases is printed (recorded in docs/security.md).
//
// Run: scripts/test.sh (or `node --test tests/e2e/schemathesis.test.mjs` after scripts/setup.sh).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";

import { root, startFixture, startPlatform } from "./harness.mjs";


/**
 * GETs a document on a connection of its own: a kept-alive one from before a minute-long run
 * has been closed by the dev server by then, and fetch would fail reusing it.
 */
function fetchDocument(url, token) {
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { agent: false, headers: { authorization: `Bearer ${token}` } }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode, body }));
    });
    request.on("error", reject);
  });
}

/**
 * Runs schemathesis against the service at `base`, as the caller `token` is (a bearer API key):
 * the document is the one that caller is served (an admin's has the `/_` routes), and the key
 * is given as the document's `bearer` scheme, so the authentication checks know to leave it out.
 */
async function schemathesis(name, base, { token, exclude = [] }) {
  const served = await fetchDocument(`${base}/openapi.json`, token);
  assert.equal(served.status, 200, `${name}'s OpenAPI document: ${served.body}`);
  const document = join(mkdtempSync(join(tmpdir(), "dotdo-openapi-")), `${name}.json`);
  writeFileSync(document, served.body);
  // Which checks run, the credentials, and the exceptions: tests/e2e/schemathesis.toml.
  const args = ["--config-file", join(root, "tests", "e2e", "schemathesis.toml")];
  args.push("run", document, "--url", base);
  args.push("--phases", "examples,coverage,fuzzing,stateful", "--max-examples", "25", "--workers", "1");
  args.push("--seed", "20261127", "--suppress-health-check", "all", "--no-color");
  for (const pattern of exclude) args.push("--exclude-path-regex", pattern);
  const run = spawnSync(join(root, ".venv", "bin", "schemathesis"), args, {
    encoding: "utf8",
    timeout: 15 * 60_000,
    env: { ...process.env, DOTDO_SCHEMATHESIS_TOKEN: token },
  });
  rmSync(dirname(document), { recursive: true, force: true });
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
    return schemathesis("fixture", dev.base, {
      token: "sk_test_e2ecaller000000000000000000000000",
      // A deliberate panic, the routes that steer the callers' tests, and the feeds held open until
      // a test releases them.
      exclude: ["^/(panic$|drive/|drive-js/|feeds/)"],
    });
  });
});

// The development bootstrap admin key (services/auth/.dev.vars.example): every route is in the
// document an admin reads, and reachable.
const admin = "sk_test_bootstrap_admin_dev_only_000000000";

// Each service gets a platform of its own: the credentials one run's authentication checks send
// are refused and counted by the gateway (20 per IP in a 5-minute window, then 429), and would
// otherwise lock the next run out, depending on where the window fell.
for (const service of ["db", "auth"]) {
  describe(`schemathesis against ${service}, through the gateway`, () => {
    let dev;
    before(async () => {
      dev = await startPlatform();
    });
    after(async () => dev?.stop());

    test(`${service}: 0 server errors, 0 responses that violate the document`, { timeout: 20 * 60_000 }, () => {
      return schemathesis(service, `${dev.base}/${service}`, { token: admin });
    });
  });
}
