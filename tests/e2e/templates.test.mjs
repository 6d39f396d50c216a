// Each cargo-generate template, generated into services/ (so it joins the workspace with no
// hand edits), built and tested natively, run under `wrangler dev` and called once on each
// interface, then `wrangler deploy --dry-run`. The generated services are removed afterwards.

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { eventually, root, runWrangler, startDev, workerdDate } from "./harness.mjs";

// Templates stamp today's date as compatibility_date; the workerd pinned in package-lock.json
// may predate it, and workerd refuses dates newer than it knows. Dev runs here use the installed
// workerd's own date instead; the stamped date is checked above, and deploys use it.
const compatibilityDate = workerdDate();

const DEV_KEY = "sk_test_dotdo_dev_key_00000000000000000000";
const auth = { authorization: `Bearer ${DEV_KEY}` };
// Generating and building adds the services to Cargo.lock (and cargo-generate may list them in
// the workspace): both are put back afterwards.
const backup = mkdtempSync(join(tmpdir(), "dotdo-manifests-"));
const manifests = ["Cargo.lock", "Cargo.toml"];

before(() => manifests.forEach((file) => copyFileSync(join(root, file), join(backup, file))));
after(() => manifests.forEach((file) => copyFileSync(join(backup, file), join(root, file))));

function generate(kind, extra = []) {
  const name = `tpl-${kind}`;
  const dir = join(root, "services", name);
  rmSync(dir, { recursive: true, force: true });
  execFileSync(
    "cargo",
    ["generate", "--path", join(root, "templates", kind), "--name", name, "--destination", join(root, "services"), "--vcs", "none", "--silent", ...extra],
    { cwd: root, stdio: "inherit" },
  );
  return { name, dir, config: join(dir, "wrangler.toml") };
}

const post = (url, body, headers = {}) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

// A JSON-only MCP client: the answer is one JSON message (one accepting `text/event-stream` too
// gets a call's notifications streamed before it; tests/e2e/mcp.test.mjs covers that).
async function mcpRequest(base, method, params) {
  const response = await post(`${base}/mcp`, { jsonrpc: "2.0", id: 1, method, params }, {
    accept: "application/json",
    "mcp-protocol-version": "2025-11-25",
  });
  assert.equal(response.status, 200);
  return response.json();
}

const mcpCall = async (base, name, args) => (await mcpRequest(base, "tools/call", { name, arguments: args })).result;

async function rpc(base, method, params) {
  const response = await post(`${base}/_rpc`, { jsonrpc: "2.0", id: 1, method, params }, auth);
  assert.equal(response.status, 200);
  return response.json();
}

// A user's first `cargo clippy` on a generated service finds nothing, then its tests pass.
function cargoTest(name) {
  execFileSync("cargo", ["clippy", "-p", name, "--all-targets", "--", "-D", "warnings"], { cwd: root, stdio: "inherit" });
  execFileSync("cargo", ["test", "-p", name], { cwd: root, stdio: "inherit" });
}

// The generated config as it is, and its staging environment (production has the same shape,
// which tests/policy checks), pass wrangler's own checks.
function dryRun(dir) {
  for (const env of [[], ["--env", "staging"]]) {
    const outdir = mkdtempSync(join(tmpdir(), "dotdo-tpl-deploy-"));
    try {
      const output = runWrangler(["deploy", "--dry-run", "--outdir", outdir, ...env], { cwd: dir });
      assert.match(output, /--dry-run: exiting now/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }
}

describe("templates/domain", () => {
  let service;
  let dev;
  before(async () => {
    service = generate("domain", ["--define", "description=Items of the e2e run."]);
  });
  after(async () => {
    await dev?.stop();
    rmSync(service.dir, { recursive: true, force: true });
  });

  test("generated with its name in every form and today's compatibility date", () => {
    const wrangler = readFileSync(service.config, "utf8");
    assert.match(wrangler, /name = "tpl-domain"/);
    assert.match(wrangler, new RegExp(`compatibility_date = "${new Date().toISOString().slice(0, 10)}"`));
    assert.match(readFileSync(join(service.dir, "src", "lib.rs"), "utf8"), /pub struct TplDomain/);
    const manifest = readFileSync(join(service.dir, "Cargo.toml"), "utf8");
    assert.match(manifest, /dotdo = \{ path = "\.\.\/\.\.\/dotdo" \}/);
    // wasm-opt keeps functions that have one caller apart (docs/reference.md, "On Workers").
    assert.match(manifest, /^\[package\.metadata\.wasm-pack\.profile\.release\]\nwasm-opt = \["-O", "--one-caller-inline-max-function-size=20"\]$/m);
  });

  test("it is clippy-clean and its in-process tests pass", () => cargoTest(service.name));

  test("under wrangler dev: a route, an RPC call, an MCP tool call and a queue message", async () => {
    dev = await startDev({
      configs: [service.config],
      migrations: [{ database: service.name, config: service.config }],
      readyPath: "/items",
      cwd: service.dir,
      compatibilityDate,
    });
    const anonymous = await post(`${dev.base}/items`, { id: "i0", name: "lamp", price: 5 });
    assert.equal(anonymous.status, 401, "generated services take writes from signed-in users only");
    const created = await post(`${dev.base}/items`, { id: "i1", name: "lamp", price: 5 }, auth);
    assert.equal(created.status, 201);
    assert.equal((await (await fetch(`${dev.base}/items/i1`)).json()).name, "lamp");
    assert.equal((await rpc(dev.base, "get_item", ["i1"])).result.price, 5);
    const tool = await mcpCall(dev.base, "list_items", { limit: 10 });
    assert.equal(tool.structuredContent.items[0].id, "i1");
    const events = await eventually(async () => {
      const value = await (await fetch(`${dev.base}/_events`, { headers: auth })).json();
      return { done: Array.isArray(value) && value.length === 1, value };
    });
    assert.equal(events[0].item_id, "i1", "the item.event message was consumed");
  });

  test("wrangler deploy --dry-run, as it is and for staging", () => dryRun(service.dir));

  test('documents = "documents": the wasm build embeds them, and refuses them missing or rendered for another interface', () => {
    const lib = join(service.dir, "src", "lib.rs");
    const source = readFileSync(lib, "utf8");
    const declared = '#[dotdo::service(entry = "worker", middleware = "middleware")]';
    assert.ok(source.includes(declared));
    writeFileSync(lib, source.replace(declared, declared.replace(")]", ', documents = "documents")]')));
    const run = (args, env = {}) =>
      spawnSync("cargo", args, { cwd: root, encoding: "utf8", env: { ...process.env, ...env } });
    const wasmCheck = () => run(["check", "--target", "wasm32-unknown-unknown", "-p", service.name]);
    const missing = wasmCheck();
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /documents\/openapi\.json is missing; render them .*`DOTDO_BLESS=1 cargo test --lib`/);
    const blessed = run(["test", "-p", service.name, "--lib"], { DOTDO_BLESS: "1" });
    assert.equal(blessed.status, 0, blessed.stderr.slice(-3000));
    for (const file of ["openapi.json", "openapi.private.json", "mcp-tools.json", "mcp-tools.exact.json", "interface.hash"]) {
      assert.ok(existsSync(join(service.dir, "documents", file)), file);
    }
    const embedded = wasmCheck();
    assert.equal(embedded.status, 0, embedded.stderr.slice(-3000));
    // A doc comment is part of the interface: the documents are stale until rendered again.
    writeFileSync(lib, readFileSync(lib, "utf8").replace("/// Fetch one item by id.", "/// Fetch one item by its id."));
    const stale = wasmCheck();
    assert.notEqual(stale.status, 0);
    assert.match(stale.stderr, /the documents under `documents\/` were rendered for another version of this impl/);
    const checked = run(["test", "-p", service.name, "--lib"]);
    assert.notEqual(checked.status, 0);
    assert.match(checked.stdout + checked.stderr, /openapi\.json differs from what the service's code renders/);
  });
});

describe("templates/integration", () => {
  let service;
  let dev;
  let api;
  const seen = [];
  before(async () => {
    service = generate("integration");
    api = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        seen.push(`${request.method} ${request.url}`);
        response.setHeader("content-type", "application/json");
        if (request.url === "/v1/records") {
          response.statusCode = 201;
          response.end(JSON.stringify({ id: "new-1", ...JSON.parse(body) }));
        } else if (request.url.endsWith("/ack")) {
          response.end('{"ok":true}');
        } else {
          response.end(JSON.stringify({ id: request.url.split("/").pop(), title: "From the fake API" }));
        }
      });
    });
    await new Promise((resolve) => api.listen(0, "127.0.0.1", resolve));
  });
  after(async () => {
    await dev?.stop();
    api?.close();
    rmSync(service.dir, { recursive: true, force: true });
  });

  test("it is clippy-clean and its in-process tests pass (against a loopback API)", () => cargoTest(service.name));

  test("under wrangler dev: a route, an RPC call, an MCP tool call and a queue message", async () => {
    dev = await startDev({
      configs: [service.config],
      readyPath: "/records/probe",
      cwd: service.dir,
      compatibilityDate,
      vars: { UPSTREAM_BASE_URL: `http://127.0.0.1:${api.address().port}` },
    });
    assert.equal((await (await fetch(`${dev.base}/records/r1`)).json()).title, "From the fake API");
    assert.equal((await rpc(dev.base, "create_record", { record: { title: "Made" } })).result.id, "new-1");
    assert.equal((await mcpCall(dev.base, "get_record", { id: "r2" })).structuredContent.id, "r2");
    const unsigned = await post(`${dev.base}/webhooks`, { record_id: "r4", action: "closed" });
    assert.equal(unsigned.status, 401, "an unsigned webhook is refused");
    // Signed as the external API does, with the development secret of .dev.vars.example.
    const body = JSON.stringify({ record_id: "r3", action: "closed" });
    const timestamp = Math.floor(Date.now() / 1000);
    const tag = createHmac("sha256", "dev-only-webhook-secret-0123456789").update(`${timestamp}.${body}`).digest("hex");
    const accepted = await fetch(`${dev.base}/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-signature": `t=${timestamp},v1=${tag}` },
      body,
    });
    assert.equal(accepted.status, 202, await accepted.clone().text());
    const acked = await eventually(async () => ({ done: seen.includes("POST /v1/records/r3/ack"), value: seen.includes("POST /v1/records/r3/ack") }));
    assert.ok(acked, `the webhook message was processed: ${seen}`);
  });

  test("wrangler deploy --dry-run, as it is and for staging", () => dryRun(service.dir));
});

describe("templates/ai", () => {
  let service;
  let dev;
  before(async () => {
    service = generate("ai");
  });
  after(async () => {
    await dev?.stop();
    rmSync(service.dir, { recursive: true, force: true });
  });

  test("it is clippy-clean and its in-process tests pass (on the deterministic local model)", () => cargoTest(service.name));

  test("under wrangler dev --env offline (local model): a route, an RPC call, MCP tools, prompts and resources, and a queue message", async () => {
    dev = await startDev({ configs: [service.config], readyPath: "/embeddings/none-yet", readyStatus: 404, cwd: service.dir, env: "offline", compatibilityDate });
    const response = await post(`${dev.base}/generate`, { prompt: "hello edge" });
    assert.equal(response.headers.get("x-ratelimit-limit"), "20", "generation is rate-limited per caller");
    const generated = await response.json();
    assert.equal(generated.text, "local: hello edge");
    assert.equal((await rpc(dev.base, "embed", { text: "x" })).result.model, "local");
    assert.equal((await mcpCall(dev.base, "generate", { prompt: "one" })).structuredContent.text, "local: one");
    const prompt = await mcpRequest(dev.base, "prompts/get", { name: "summarize", arguments: { text: "a tale", words: "5" } });
    assert.equal(prompt.result.messages[1].content.text, "a tale");
    const resource = await mcpRequest(dev.base, "resources/read", { uri: "embeddings://none-yet" });
    assert.match(resource.error.message, /no embedding `none-yet`/);
    assert.ok(existsSync(service.config));
  });

  test("wrangler deploy --dry-run, as it is and for staging", () => dryRun(service.dir));
});
