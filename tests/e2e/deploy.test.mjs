// Every worker in the repository builds for release and passes `wrangler deploy --dry-run`
// (bundle and upload checks, no account needed), and scripts/deploy.sh runs its dry run for both
// environments. Then the release wasm sizes are printed beside a hello-world workers-rs worker
// built with the same profile: a measurement for docs/performance.md, not an assertion.

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { gzipSync } from "node:zlib";

import { root, runWrangler } from "./harness.mjs";

const configs = execFileSync("git", ["ls-files", "*wrangler.toml"], { cwd: root, encoding: "utf8" })
  .split("\n")
  .filter((path) => path && !path.includes("node_modules") && !path.startsWith("templates/"));

test("the repository has workers to deploy", () => {
  assert.ok(configs.length >= 3, `found ${configs}`);
});

for (const config of configs) {
  test(`wrangler deploy --dry-run: ${config}`, () => {
    const outdir = mkdtempSync(join(tmpdir(), "dotdo-deploy-"));
    try {
      const output = runWrangler(["deploy", "--dry-run", "--outdir", outdir, "-c", config]);
      assert.match(output, /--dry-run: exiting now/);
      const files = readdirSync(outdir);
      // A Rust worker ships its wasm; a JavaScript one (the benchmark's Hono worker) its bundle.
      const rust = readFileSync(join(root, config), "utf8").includes("worker-build");
      const shipped = rust ? ".wasm" : ".js";
      assert.ok(files.some((file) => file.endsWith(shipped)), `no ${shipped} in ${files}`);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
}

test("release wasm sizes (printed for docs/performance.md)", () => {
  const size = (worker) => {
    const wasm = join(root, dirname(`tests/e2e/${worker}/wrangler.toml`), "build", "index_bg.wasm");
    assert.ok(existsSync(wasm), `${wasm} was built by the dry run`);
    const bytes = readFileSync(wasm);
    return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  };
  const hello = size("hello");
  const fixture = size("fixture");
  const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
  console.log("worker                         raw          gzip");
  console.log(`hello world (workers-rs)  ${kb(hello.raw).padStart(10)}  ${kb(hello.gzip).padStart(10)}`);
  console.log(`e2e fixture (dotdo)       ${kb(fixture.raw).padStart(10)}  ${kb(fixture.gzip).padStart(10)}`);
  console.log(`fixture / hello           ${(fixture.raw / hello.raw).toFixed(2).padStart(9)}x  ${(fixture.gzip / hello.gzip).toFixed(2).padStart(9)}x`);
});

describe("scripts/deploy.sh", () => {
  const deploy = (args) =>
    spawnSync(join(root, "scripts", "deploy.sh"), args, { cwd: root, encoding: "utf8", env: process.env, maxBuffer: 64 << 20 });
  const order = (output) =>
    output
      .split("\n")
      .find((line) => line.includes("dry run to"))
      .split(": ")
      .slice(1)
      .join(": ")
      .split(" → ");

  for (const [env, args] of [
    ["staging", []],
    ["production", ["--skip-build"]],
  ]) {
    test(`--dry-run --env ${env}: every service checked and built, backends before the gateway`, () => {
      const run = deploy(["--dry-run", "--env", env, ...args]);
      assert.equal(run.status, 0, run.stdout + run.stderr);
      const suffix = env === "staging" ? "-staging" : "";
      const services = order(run.stdout);
      assert.equal(services.length, 8, run.stdout);
      assert.equal(services.at(-1), `dotdo-gateway${suffix}`);
      // Each service after the ones it binds: the queue service after db and email, the hub after all.
      const at = (name) => services.indexOf(`dotdo-${name}${suffix}`);
      assert.ok(at("db") < at("queue") && at("email") < at("queue"), services.join(" "));
      assert.ok(at("queue") < at("schedule") && at("webhooks") < at("mcp"), services.join(" "));
      assert.match(run.stdout, /dotdo-auth\S*: secrets required JWT_SECRET, GATEWAY_SECRET/);
      assert.match(run.stdout, /would apply to dotdo-db\S* the migrations it lacks of \d+/);
      assert.match(run.stdout, /would refuse: services\/db\/wrangler.toml: \[\[env\.\w+\.d1_databases\]\] DB has no database yet/);
      assert.equal(run.stdout.match(/: ready \(\S+\.wasm, bindings checked by wrangler\)/g)?.length, 8, run.stdout);
    });
  }

  test("--only and --namespace: one service, into a dispatch namespace", () => {
    const run = deploy(["--dry-run", "--env", "staging", "--skip-build", "--only", "db", "--namespace", "dotdo-tenants-staging"]);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.deepEqual(order(run.stdout), ["dotdo-db-staging"]);
    assert.match(run.stdout, /dotdo-db-staging: ready into dispatch namespace dotdo-tenants-staging \(\S+\.wasm/);
  });

  test("a real deploy with placeholder database ids changes nothing and says what to do", () => {
    const run = deploy(["--env", "staging", "--skip-build", "--only", "auth"]);
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /nothing was deployed/);
    assert.match(run.stderr, /`wrangler d1 create dotdo-auth-staging` and put its id there/);
  });

  test("bad options are refused with the usage", () => {
    const wrongEnv = deploy(["--env", "qa"]);
    assert.notEqual(wrongEnv.status, 0);
    assert.match(wrongEnv.stderr, /--env is staging or production, not `qa`/);
    const namespaceAlone = deploy(["--namespace", "tenants"]);
    assert.match(namespaceAlone.stderr, /--namespace deploys the services named by --only/);
    const unknown = deploy(["--dry-run", "--only", "nope"]);
    assert.match(unknown.stderr, /no service nope under services\//);
    const option = deploy(["--fast"]);
    assert.match(option.stderr, /unknown option `--fast`[\s\S]*usage: scripts\/deploy.sh/);
  });
});
