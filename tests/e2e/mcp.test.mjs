// End-to-end: the MCP server side of the fixture under `wrangler dev` (workerd), driven by the
// official MCP TypeScript SDK clients of both eras: `@modelcontextprotocol/sdk` 1.x (2025-11-25,
// the legacy handshake) and `@modelcontextprotocol/client` 2.x pinned to 2026-07-28 (per-request
// metadata, multi round-trip requests). Resources, templates, prompts, completions, rich tool
// results, logging and progress streamed before the result, elicitation, and the Server Card
// validated against the extension's published schema.
//
// Run: scripts/test.sh (or `node --test tests/e2e/mcp.test.mjs` after scripts/setup.sh).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { Client as LegacyClient } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as LegacyTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

import { root, startFixture } from "./harness.mjs";

let dev;
let base;

before(async () => {
  dev = await startFixture();
  base = dev.base;
  for (const [id, name, price] of [["mcp-lamp", "Lamp", 1200], ["mcp-lantern", "Lantern", 800], ["mcp-gone", "Gone", 1]]) {
    const created = await fetch(`${base}/items`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id, name, price }),
    });
    assert.equal(created.status, 201);
  }
});

after(async () => {
  await dev?.stop();
});

// The fixture's picture and sound (tests/e2e/fixture/src/lib.rs).
const LOGO = Buffer.from("\x89PNG\r\n\x1a\nfixture-logo", "latin1");
const CHIME = Buffer.from("RIFF\x24\x00\x00\x00WAVEfmt chime", "latin1");

/** Records what happens, in order: notifications as they arrive, then the result. */
function timeline() {
  const entries = [];
  return { entries, push: (entry) => entries.push(entry) };
}

describe("MCP 2025-11-25 with the official SDK client (1.x)", () => {
  let client;
  const logs = [];

  before(async () => {
    client = new LegacyClient({ name: "dotdo-e2e-legacy", version: "1.0.0" });
    client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
      logs.push(notification.params);
    });
    await client.connect(new LegacyTransport(new URL(`${base}/mcp`)));
  });

  after(async () => {
    await client?.close();
  });

  test("capabilities list tools, resources, prompts, completions and logging", () => {
    const capabilities = client.getServerCapabilities();
    assert.deepEqual(capabilities.resources, { subscribe: false, listChanged: false });
    assert.deepEqual(capabilities.prompts, { listChanged: false });
    assert.deepEqual(capabilities.completions, {});
    assert.deepEqual(capabilities.logging, {});
    assert.deepEqual(capabilities.tools, { listChanged: false });
  });

  test("resources and templates are listed, and read as text, JSON and binary", async () => {
    const { resources } = await client.listResources();
    assert.deepEqual(resources.map((resource) => resource.uri), ["fixture://logo.png", "fixture://readme"]);
    const { resourceTemplates } = await client.listResourceTemplates();
    assert.deepEqual(resourceTemplates, [
      { uriTemplate: "items://{id}", name: "item", description: "One item, as an MCP resource.", mimeType: "application/json" },
    ]);
    const readme = await client.readResource({ uri: "fixture://readme" });
    assert.deepEqual(readme.contents, [
      { uri: "fixture://readme", mimeType: "text/markdown", text: "# Fixture\nItems, queues and MCP for the end-to-end tests." },
    ]);
    const item = await client.readResource({ uri: "items://mcp-lamp" });
    assert.equal(item.contents[0].mimeType, "application/json");
    assert.deepEqual(JSON.parse(item.contents[0].text), { id: "mcp-lamp", name: "Lamp", price: 1200 });
    const logo = await client.readResource({ uri: "fixture://logo.png" });
    assert.equal(logo.contents[0].mimeType, "image/png");
    assert.deepEqual(Buffer.from(logo.contents[0].blob, "base64"), LOGO);
  });

  test("an unknown resource is the spec's error, a missing item the service's", async () => {
    await assert.rejects(client.readResource({ uri: "fixture://nothing" }), (error) => {
      assert.equal(error.code, -32002);
      assert.match(error.message, /resource not found/);
      return true;
    });
    await assert.rejects(client.readResource({ uri: "items://no-such-item" }), /no item `no-such-item`/);
  });

  test("prompts list their arguments, and answer messages with an embedded resource", async () => {
    const { prompts } = await client.listPrompts();
    assert.deepEqual(prompts, [
      {
        name: "describe_item",
        title: "Describe an item",
        description: "Describe an item for the catalogue.",
        arguments: [
          { name: "id", description: "The item to describe.", required: true },
          { name: "tone", description: "The tone: formal or playful.", required: false },
        ],
      },
    ]);
    const prompt = await client.getPrompt({ name: "describe_item", arguments: { id: "mcp-lamp", tone: "playful" } });
    assert.deepEqual(prompt.messages[0], { role: "user", content: { type: "text", text: "Describe Lamp in a playful tone." } });
    assert.equal(prompt.messages[1].content.type, "resource");
    assert.equal(prompt.messages[1].content.resource.uri, "items://mcp-lamp");
    await assert.rejects(client.getPrompt({ name: "describe_item", arguments: {} }), /needs its argument `id`/);
  });

  test("an argument is completed from the service's data", async () => {
    const { completion } = await client.complete({
      ref: { type: "ref/prompt", name: "describe_item" },
      argument: { name: "id", value: "mcp-la" },
    });
    assert.deepEqual(completion, { values: ["mcp-lamp", "mcp-lantern"], total: 2, hasMore: false });
    const template = await client.complete({
      ref: { type: "ref/resource", uri: "items://{id}" },
      argument: { name: "id", value: "mcp-g" },
    });
    assert.deepEqual(template.completion.values, ["mcp-gone"]);
    await assert.rejects(
      client.complete({ ref: { type: "ref/prompt", name: "describe_item" }, argument: { name: "colour", value: "" } }),
      /no argument `colour`/,
    );
  });

  test("a tool returns text, an image, audio, an embedded resource and a link", async () => {
    const result = await client.callTool({ name: "item_card", arguments: { id: "mcp-lamp" } });
    assert.equal(result.isError, false);
    assert.deepEqual(result.content.map((block) => block.type), ["text", "image", "audio", "resource", "resource_link"]);
    assert.equal(result.content[0].text, "Lamp costs 1200 cents");
    assert.deepEqual(Buffer.from(result.content[1].data, "base64"), LOGO);
    assert.equal(result.content[1].mimeType, "image/png");
    assert.deepEqual(Buffer.from(result.content[2].data, "base64"), CHIME);
    assert.equal(result.content[2].mimeType, "audio/wav");
    assert.equal(result.content[3].resource.uri, "items://mcp-lamp");
    assert.deepEqual(result.content[4], { type: "resource_link", uri: "items://mcp-lamp", name: "Lamp" });
  });

  test("logs and progress reach the client while the tool is still running", async () => {
    // The tool holds after its first step until released; the test releases it only from the
    // first progress handler, which could never run if the events came with the result.
    const key = `mcp-progress-${Date.now()}`;
    const events = timeline();
    logs.length = 0;
    let released;
    const result = await client.callTool({ name: "count_slowly", arguments: { steps: 3, hold: key } }, undefined, {
      onprogress: (progress) => {
        events.push(`progress ${progress.progress}/${progress.total}`);
        if (!released) {
          events.push(`logs so far: ${logs.length}`);
          released = fetch(`${base}/feeds/${key}/release`, { method: "POST" });
        }
      },
    });
    events.push("result");
    assert.equal((await released).status, 204);
    assert.equal(result.content[0].text, '"counted to 3"');
    assert.deepEqual(events.entries, ["progress 1/3", "logs so far: 1", "progress 2/3", "progress 3/3", "result"]);
    assert.deepEqual(logs.map((log) => log.data), [{ step: 1 }, { step: 2 }, { step: 3 }]);
    assert.equal(logs[0].level, "info");
    assert.equal(logs[0].logger, "Fixture");
  });

  test("2025-11-25 clients get tool schemas as JSON Schema 2020-12", async () => {
    const { tools } = await client.listTools();
    const card = tools.find((tool) => tool.name === "item_card");
    assert.equal(card.inputSchema.$schema, "https://json-schema.org/draft/2020-12/schema");
    assert.equal(card.inputSchema.additionalProperties, false);
  });

  test("elicitation on this revision is an isError result that says which revision can", async () => {
    const result = await client.callTool({ name: "confirm_delete", arguments: { id: "mcp-lantern" } });
    assert.equal(result.isError, true);
    assert.match(result.content[0].text, /2026-07-28/);
  });
});

describe("MCP 2026-07-28 with the official SDK client (2.x)", () => {
  let client;
  const asked = [];
  let answer = { action: "accept", content: { sure: true } };
  const logs = [];

  before(async () => {
    client = new Client(
      { name: "dotdo-e2e-modern", version: "1.0.0" },
      { capabilities: { elicitation: {} }, versionNegotiation: { mode: { pin: "2026-07-28" } } },
    );
    client.setRequestHandler("elicitation/create", async (request) => {
      asked.push(request.params);
      return answer;
    });
    client.setNotificationHandler("notifications/message", (notification) => {
      logs.push(notification.params);
    });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)));
  });

  after(async () => {
    await client?.close();
  });

  test("server/discover names the server and its capabilities", () => {
    assert.equal(client.getServerVersion().name, "Fixture");
    const capabilities = client.getServerCapabilities();
    assert.deepEqual(capabilities.resources, { subscribe: false, listChanged: false });
    assert.deepEqual(capabilities.completions, {});
  });

  test("resources, prompts and completions answer in this revision too", async () => {
    const logo = await client.readResource({ uri: "fixture://logo.png" });
    assert.deepEqual(Buffer.from(logo.contents[0].blob, "base64"), LOGO);
    const { resourceTemplates } = await client.listResourceTemplates();
    assert.equal(resourceTemplates[0].uriTemplate, "items://{id}");
    const prompt = await client.getPrompt({ name: "describe_item", arguments: { id: "mcp-lamp" } });
    assert.equal(prompt.messages[0].content.text, "Describe Lamp in a formal tone.");
    const { completion } = await client.complete({
      ref: { type: "ref/prompt", name: "describe_item" },
      argument: { name: "id", value: "mcp-lan" },
    });
    assert.deepEqual(completion.values, ["mcp-lantern"]);
  });

  test("an elicitation round trip: the client asks its user, retries, and the tool completes", async () => {
    answer = { action: "decline" };
    const kept = await client.callTool({ name: "confirm_delete", arguments: { id: "mcp-gone" } });
    assert.equal(kept.content[0].text, '"kept mcp-gone"');
    assert.equal((await fetch(`${base}/items/mcp-gone`)).status, 200);

    answer = { action: "accept", content: { sure: true } };
    const deleted = await client.callTool({ name: "confirm_delete", arguments: { id: "mcp-gone" } });
    assert.equal(deleted.isError, false);
    assert.equal(deleted.content[0].text, '"deleted mcp-gone"');
    assert.equal((await fetch(`${base}/items/mcp-gone`)).status, 404);
    assert.equal(asked.length, 2);
    assert.equal(asked[0].message, "Delete Gone?");
    assert.deepEqual(asked[0].requestedSchema, {
      type: "object",
      properties: { sure: { type: "boolean", description: "Delete it for good?" } },
      required: ["sure"],
    });
  });

  test("progress and logs are streamed in this revision too", async () => {
    const progress = [];
    logs.length = 0;
    const result = await client.callTool({ name: "count_slowly", arguments: { steps: 2 } }, {
      onprogress: (update) => progress.push(update.progress),
    });
    assert.equal(result.content[0].text, '"counted to 2"');
    assert.deepEqual(progress, [1, 2]);
    assert.deepEqual(logs.map((log) => log.data), [{ step: 1 }, { step: 2 }]);
  });
});

describe("MCP multi round-trip requests over raw HTTP", () => {
  const meta = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": { elicitation: {} },
    "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" },
  };
  const call = async (params) => {
    const response = await fetch(`${base}/mcp`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "tools/call",
        "mcp-name": params.name,
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { ...params, _meta: meta } }),
    });
    assert.equal(response.status, 200);
    return response.json();
  };

  test("a tampered requestState is refused before the tool runs", async () => {
    const params = { name: "confirm_delete", arguments: { id: "mcp-lamp" } };
    const first = await call(params);
    assert.equal(first.result.resultType, "input_required");
    assert.equal(first.result.inputRequests.confirm.method, "elicitation/create");
    const state = first.result.requestState;
    const [payload, tag] = state.split(".");
    const claims = JSON.parse(Buffer.from(payload, "base64url"));
    claims.requested = ["other"];
    const forged = `${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${tag}`;
    const inputResponses = { confirm: { action: "accept", content: { sure: true } } };
    const refused = await call({ ...params, inputResponses, requestState: forged });
    assert.equal(refused.error.code, -32602);
    assert.match(refused.error.message, /requestState/);
    const elsewhere = await call({ name: "confirm_delete", arguments: { id: "mcp-lantern" }, inputResponses, requestState: state });
    assert.match(elsewhere.error.message, /another request/);
    // The item is still there: the tool never ran with the forged state.
    assert.equal((await fetch(`${base}/items/mcp-lamp`)).status, 200);
  });
});

describe("the MCP Server Card", () => {
  const schema = JSON.parse(readFileSync(join(root, "tests/e2e/schemas/mcp-server-card.schema.json"), "utf8"));
  const ajv = new Ajv2020({ strict: false });
  addFormats.default(ajv);
  const validate = ajv.compile(schema.$defs.ServerCard ? { ...schema, $ref: "#/$defs/ServerCard" } : schema);

  for (const path of ["/mcp/server-card", "/.well-known/mcp/server-card.json"]) {
    test(`${path} is valid against the extension's schema and says how to connect`, async () => {
      const response = await fetch(`${base}${path}`, { headers: { accept: "application/mcp-server-card+json" } });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "application/mcp-server-card+json");
      const card = await response.json();
      assert.ok(validate(card), JSON.stringify(validate.errors));
      assert.equal(card.name, "127.0.0.1/Fixture");
      assert.equal(card.remotes[0].url, `${base}/mcp`);
      assert.deepEqual(card.remotes[0].supportedProtocolVersions, ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"]);
      // Its closing check: the card agrees with what the server says once connected.
      const client = new LegacyClient({ name: "card-check", version: "1" });
      await client.connect(new LegacyTransport(new URL(card.remotes[0].url)));
      assert.equal(client.getServerVersion().version, card.version);
      await client.close();
    });
  }

  test("a card the schema refuses is refused by this validator (it checks)", () => {
    assert.equal(validate({ $schema: "https://static.modelcontextprotocol.io/schemas/v1/server-card.schema.json", name: "no-slash", version: "1" }), false);
  });
});
