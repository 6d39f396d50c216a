// Every worker in the repository builds for release and passes `wrangler deploy --dry-run`
// (bundle and upload checks, no account needed). Then the release wasm sizes are printed beside
// a hello-world workers-rs worker built with the same profile: a measurement for
// docs/performance.md, not an assertion.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
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
