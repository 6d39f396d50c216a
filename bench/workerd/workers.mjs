// The three workers of the workerd benchmark and the routes each answers alike, and how a worker
// is built and loaded outside `wrangler dev`: shared by run.mjs (the benchmark), profile.mjs (a
// CPU profile of one of them) and compiled.mjs (the wasm a first request compiles).

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { parse as parseToml, stringify as stringifyToml } from "smol-toml";
import { root } from "../../tests/e2e/harness.mjs";

export const KEY = "sk_test_bench";
export const json = { "content-type": "application/json" };
export const signedIn = { ...json, authorization: `Bearer ${KEY}` };

export const workers = [
  { name: "dotdo", dir: "bench/workerd/dotdo", wasm: true },
  { name: "hand-written", dir: "bench/workerd/handwritten", wasm: true },
  { name: "Hono", dir: "bench/workerd/hono", wasm: false },
];

// Each route, what it must answer, and the part of the answer that must be the same everywhere
// (error bodies and protocol envelopes are each framework's own).
export const routes = [
  { name: "GET /items/:id", path: "/items/42", status: 200, same: (body) => body },
  { name: "GET /items (100 items)", path: "/items", status: 200, same: (body) => body },
  {
    name: "POST /items (JSON body)",
    method: "POST",
    path: "/items",
    headers: signedIn,
    body: JSON.stringify({ name: "new", price: 5, tags: ["a", "b"] }),
    status: 201,
    same: (body) => body,
  },
  { name: "GET /items/0 (404)", path: "/items/0", status: 404, same: () => null },
  {
    name: "JSON-RPC get_item",
    method: "POST",
    path: "/_rpc",
    headers: signedIn,
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "get_item", params: { id: "42" } }),
    status: 200,
    same: (body) => body.result,
  },
  {
    name: "MCP tools/call get_item",
    method: "POST",
    path: "/mcp",
    headers: { ...json, accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "get_item", arguments: { id: "42" } } }),
    status: 200,
    same: (body) => body.result.structuredContent,
  },
];

// Not timed as a route: each request sends 100 queue messages, which the same worker then
// consumes. Profiled with `profile.mjs --route queue` (producing and consuming both show).
export const queueRoute = {
  name: "queue",
  method: "POST",
  path: "/bench/enqueue",
  headers: signedIn,
  body: "100",
  status: 200,
};

/**
 * Makes the builds that follow keep the wasm's symbols, so profiles and traces name Rust
 * functions. They go to their own target directory; their code is the release build's.
 */
export function buildWithSymbols() {
  process.env.CARGO_PROFILE_RELEASE_STRIP = "false";
  process.env.CARGO_TARGET_DIR = join(root, "target", "profile");
}

/** Builds the worker in `dir` as wrangler would (its release wasm and its JavaScript). */
export function workerBuild(dir) {
  const run = spawnSync("worker-build", ["--release", join(root, dir)], { cwd: root, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`worker-build ${dir} failed:\n${run.stdout}${run.stderr}`);
}

/**
 * The dotdo benchmark worker as it was at git revision `rev`, to run beside today's in one
 * harness run (`run.mjs --baseline REV`): only a run of both tells a change of the code from
 * this machine's drift between runs. Checked out in a worktree under `target/bench-baseline/`,
 * built into a cargo target directory of its own (the same crate names as today's), and served
 * from a copy of its config with no build step and queues of its own. `remove()` drops the
 * worktree; the build stays cached for the next run.
 */
export function baselineWorker(rev) {
  const git = (...args) => {
    const run = spawnSync("git", args, { cwd: root, encoding: "utf8" });
    if (run.status !== 0) throw new Error(`git ${args.join(" ")} failed:\n${run.stderr}`);
    return run.stdout.trim();
  };
  const commit = git("rev-parse", "--short", `${rev}^{commit}`);
  const checkout = join(root, "target", "bench-baseline", commit);
  if (!existsSync(checkout)) git("worktree", "add", "--detach", checkout, commit);
  const dir = join(checkout, "bench", "workerd", "dotdo");
  const env = { ...process.env, CARGO_TARGET_DIR: join(root, "target", "bench-baseline", "cargo") };
  const built = spawnSync("worker-build", ["--release", dir], { cwd: checkout, encoding: "utf8", env });
  if (built.status !== 0) throw new Error(`worker-build of ${commit} failed:\n${built.stdout}${built.stderr}`);
  const config = parseToml(readFileSync(join(dir, "wrangler.toml"), "utf8"));
  delete config.build;
  config.name = `${config.name}-${commit}`;
  const renamed = (queue) => `${queue}-${commit}`;
  for (const producer of config.queues?.producers ?? []) producer.queue = renamed(producer.queue);
  for (const consumer of config.queues?.consumers ?? []) {
    consumer.queue = renamed(consumer.queue);
    if (consumer.dead_letter_queue) consumer.dead_letter_queue = renamed(consumer.dead_letter_queue);
  }
  const configPath = join(dir, "wrangler.baseline.toml");
  writeFileSync(configPath, stringifyToml(config));
  return {
    name: `dotdo@${commit}`,
    dir,
    config: configPath,
    wasm: true,
    remove: () => git("worktree", "remove", "--force", checkout),
  };
}

/**
 * A worker as startup.mjs loads it: its built modules, its compatibility date, and (for the
 * first requests) its queue producers and the development values of `.dev.vars` (or of the
 * committed example it is made from).
 */
export function loadable(name, dir, js = readFileSync(join(root, dir, "build", "index.js"), "utf8")) {
  const config = parseToml(readFileSync(join(root, dir, "wrangler.toml"), "utf8"));
  const wasmPath = join(root, dir, "build", "index_bg.wasm");
  const devVars = [".dev.vars", ".dev.vars.example"].map((file) => join(root, dir, file)).find(existsSync);
  const vars = devVars ? parseEnv(readFileSync(devVars, "utf8")) : {};
  return {
    name,
    dir,
    js,
    wasm: existsSync(wasmPath) ? readFileSync(wasmPath) : null,
    compatibilityDate: config.compatibility_date,
    vars,
    queueProducers: Object.fromEntries((config.queues?.producers ?? []).map((producer) => [producer.binding, producer.queue])),
  };
}
