// Starts the repository's workers under `wrangler dev` (workerd) with local D1 and queues, and
// always stops what it started. wrangler runs each worker's build command (worker-build
// --release) once per start.

import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const wrangler = join(root, "node_modules", ".bin", "wrangler");

/** A port nothing listens on right now. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Runs wrangler to completion; throws with its output when it fails. */
export function runWrangler(args, options = {}) {
  const result = spawnSync(wrangler, args, { cwd: root, encoding: "utf8", env: process.env, ...options });
  if (result.status !== 0) {
    throw new Error(`wrangler ${args.join(" ")} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

/**
 * Starts `wrangler dev` with `configs` (the first is exposed on the port, the others are reached
 * through service bindings), after applying `migrations` ({ database, config }) to a fresh local
 * state, with `vars` overriding the configs' vars and `extraArgs` added to wrangler's. Resolves
 * once `readyPath` answers `readyStatus`.
 */
export async function startDev(options) {
  // A port chosen free can be taken by the time wrangler binds it, minutes of builds later
  // (other dev servers pick ports meanwhile): then start again on new ones; builds are cached.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevOnce(options);
    } catch (error) {
      if (attempt === 3 || !error.message.includes("Address already in use")) throw error;
      console.log(`wrangler dev found its port taken; starting again (attempt ${attempt + 1})`);
    }
  }
}

async function startDevOnce({
  configs,
  migrations = [],
  readyPath = "/",
  readyStatus = 200,
  cwd = root,
  vars = {},
  compatibilityDate,
  env,
  extraArgs = [],
  timeoutMs = 20 * 60_000,
}) {
  // Each worker's development secrets, as scripts/setup.sh makes them (generated services too):
  // a copy of the example, or an existing file given the example's variables it lacks.
  for (const config of configs) {
    const example = join(resolve(cwd, dirname(config)), ".dev.vars.example");
    const devVars = join(resolve(cwd, dirname(config)), ".dev.vars");
    if (!existsSync(example)) continue;
    if (!existsSync(devVars)) {
      copyFileSync(example, devVars);
      continue;
    }
    const present = new Set(readFileSync(devVars, "utf8").split("\n").map((line) => line.split("=")[0]));
    const missing = readFileSync(example, "utf8")
      .split("\n")
      .filter((line) => line && !line.startsWith("#") && !present.has(line.split("=")[0]));
    if (missing.length) appendFileSync(devVars, `\n${missing.join("\n")}\n`);
  }
  const persist = mkdtempSync(join(tmpdir(), "dotdo-e2e-"));
  for (const { database, config } of migrations) {
    runWrangler(["d1", "migrations", "apply", database, "--local", "-c", config, "--persist-to", persist], { cwd });
  }
  const port = await freePort();
  const inspectorPort = await freePort();
  const args = ["dev", ...configs.flatMap((config) => ["-c", config])];
  args.push("--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort));
  args.push("--persist-to", persist, "--test-scheduled", "--show-interactive-dev-session=false");
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  if (compatibilityDate) args.push("--compatibility-date", compatibilityDate);
  if (env) args.push("--env", env);
  args.push(...extraArgs);
  const child = spawn(wrangler, args, { cwd, env: process.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk) => {
    output += chunk;
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);

  const dev = {
    base: `http://127.0.0.1:${port}`,
    pid: child.pid,
    inspectorPort,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        try {
          process.kill(-child.pid, "SIGTERM");
        } catch {}
        const timer = setTimeout(() => {
          try {
            process.kill(-child.pid, "SIGKILL");
          } catch {}
        }, 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(persist, { recursive: true, force: true });
    },
  };
  // Whatever happens to this process, the dev server goes with it.
  process.once("exit", () => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  });

  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      await dev.stop();
      throw new Error(`wrangler dev exited (${child.exitCode}):\n${output.slice(-8000)}`);
    }
    try {
      const response = await fetch(dev.base + readyPath);
      if (response.status === readyStatus) return dev;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  await dev.stop();
  throw new Error(`wrangler dev was not ready in ${timeoutMs / 1000} s:\n${output.slice(-8000)}`);
}

/**
 * The e2e fixture and the workers that call it over service bindings (a Rust one with the typed
 * client, a TypeScript one over native Workers RPC), with local D1.
 */
export const startFixture = () =>
  startDev({
    configs: ["tests/e2e/fixture/wrangler.toml", "tests/e2e/caller/wrangler.toml", "tests/e2e/js-caller/wrangler.toml"],
    migrations: [{ database: "dotdo-e2e", config: "tests/e2e/fixture/wrangler.toml" }],
    readyPath: "/state",
  });

/** The platform: the gateway in front of auth, db, queue, schedule, webhooks and the MCP hub. */
export const startPlatform = () =>
  startDev({
    configs: ["services/gateway/wrangler.toml", "services/auth/wrangler.toml", "services/db/wrangler.toml", "services/queue/wrangler.toml", "services/schedule/wrangler.toml", "services/mcp/wrangler.toml", "services/webhooks/wrangler.toml", "services/email/wrangler.toml"],
    migrations: [
      { database: "dotdo-auth", config: "services/auth/wrangler.toml" },
      { database: "dotdo-db", config: "services/db/wrangler.toml" },
      { database: "dotdo-queue", config: "services/queue/wrangler.toml" },
      { database: "dotdo-schedule", config: "services/schedule/wrangler.toml" },
      { database: "dotdo-webhooks", config: "services/webhooks/wrangler.toml" },
      { database: "dotdo-email", config: "services/email/wrangler.toml" },
    ],
    readyPath: "/health",
  });

/** The date of the installed workerd (`workerd 2026-11-17`): a compatibility date it always supports. */
export function workerdDate() {
  const output = spawnSync(join(root, "node_modules", ".bin", "workerd"), ["--version"], { encoding: "utf8" }).stdout;
  return output.match(/\d{4}-\d{2}-\d{2}/)[0];
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes; returns the last value. */
export async function eventually(check, { timeoutMs = 90_000, intervalMs = 500 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last.done) return last.value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return last.value;
}

// Fetches a service's OpenAPI document and checks it with openapi-spec-validator (PyPI, in
// .venv from scripts/setup.sh); returns the document. Throws with the validator's output.
export async function validOpenApi(url, headers = {}) {
  const response = await fetch(url, { headers });
  if (response.status !== 200) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  const document = await response.json();
  const dir = mkdtempSync(join(tmpdir(), "dotdo-openapi-"));
  try {
    const file = join(dir, "openapi.json");
    writeFileSync(file, JSON.stringify(document));
    const run = spawnSync(join(root, ".venv", "bin", "openapi-spec-validator"), [file], { encoding: "utf8" });
    if (run.status !== 0) throw new Error(`${url} is not a valid OpenAPI document:\n${run.stdout}${run.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return document;
}

