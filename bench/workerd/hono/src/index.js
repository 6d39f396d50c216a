// The benchmark's JavaScript side: the dotdo benchmark service's routes on Hono 4, with MCP
// through the official MCP TypeScript SDK (stateless, JSON answers), as a Hono user would write
// them. Same answers (the driver checks), the same API-key check for writes and JSON-RPC.
import { Hono } from "hono";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { z } from "zod";

const item = (n) => ({ id: String(n), name: `item ${n}`, price: n * 10, tags: ["bench", n % 2 === 0 ? "even" : "odd"] });
const find = (id) => {
  const n = /^\d+$/.test(id) ? Number(id) : NaN;
  return n >= 1 && n <= 1000 ? item(n) : null;
};
const create = (body) => {
  if (typeof body?.name !== "string" || !Number.isInteger(body.price) || body.price < 0 || !Array.isArray(body.tags)) return { error: "the body is not a new item", status: 400 };
  if (body.name === "") return { error: "name must not be empty", status: 422 };
  return { item: { id: "1001", name: body.name, price: body.price, tags: body.tags } };
};

let consumed = 0;

// The bearer key's SHA-256 must be one of API_KEYS (`<hex>=<who>`, comma or newline separated).
async function authorized(c) {
  const header = c.req.header("authorization") ?? "";
  if (!header.startsWith("Bearer ")) return false;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(header.slice(7)));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return c.env.API_KEYS.split(/[,\n]/).some((entry) => entry.split("=")[0] === hex);
}

function mcpServer() {
  const server = new McpServer({ name: "bench", version: "0.1.0" });
  server.registerTool(
    "get_item",
    { description: "Fetch one item by id.", inputSchema: { id: z.string() }, annotations: { readOnlyHint: true } },
    async ({ id }) => {
      const found = find(id);
      if (!found) return { content: [{ type: "text", text: `no item \`${id}\`` }], isError: true };
      return { content: [{ type: "text", text: JSON.stringify(found) }], structuredContent: found };
    },
  );
  return server;
}

const app = new Hono();
app.get("/items/:id", (c) => {
  const found = find(c.req.param("id"));
  return found ? c.json(found) : c.json({ error: "not found" }, 404);
});
app.get("/items", (c) => c.json(Array.from({ length: 100 }, (_, i) => item(i + 1))));
app.post("/items", async (c) => {
  if (!(await authorized(c))) return c.json({ error: "unauthorized" }, 401);
  const body = await c.req.json().catch(() => null);
  const { item: created, error, status } = create(body);
  return created ? c.json(created, 201) : c.json({ error }, status);
});
app.post("/_rpc", async (c) => {
  if (!(await authorized(c))) return c.json({ error: "unauthorized" }, 401);
  const call = await c.req.json().catch(() => null);
  if (!call) return c.json({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } });
  const reply = (body) => c.json({ jsonrpc: "2.0", id: call.id ?? null, ...body });
  if (call.method === "get_item") {
    const found = typeof call.params?.id === "string" ? find(call.params.id) : null;
    return found ? reply({ result: found }) : reply({ error: { code: -32004, message: "not found" } });
  }
  if (call.method === "create_item") {
    const { item: created, error } = create(call.params?.item);
    return created ? reply({ result: created }) : reply({ error: { code: -32602, message: error } });
  }
  return reply({ error: { code: -32601, message: "method not found" } });
});
app.post("/mcp", async (c) => {
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await mcpServer().connect(transport);
  return transport.handleRequest(c.req.raw);
});
app.post("/bench/enqueue", async (c) => {
  if (!(await authorized(c))) return c.json({ error: "unauthorized" }, 401);
  const count = await c.req.json().catch(() => null);
  if (!Number.isInteger(count) || count < 0) return c.json({ error: "the body is not a count" }, 400);
  for (let start = 0; start < count; start += 100) {
    const batch = [];
    for (let seq = start; seq < Math.min(start + 100, count); seq++) {
      batch.push({ body: { type: "item.created", data: { id: String((seq % 1000) + 1), seq } }, contentType: "json" });
    }
    await c.env.BENCH_QUEUE.sendBatch(batch);
  }
  return c.json(count);
});
app.get("/bench/consumed", (c) => c.json(consumed));

export default {
  fetch: app.fetch,
  async queue(batch) {
    for (const message of batch.messages) {
      const { type, data } = message.body ?? {};
      if (type === "item.created" && data?.id) {
        consumed += 1;
        message.ack();
      } else {
        message.retry();
      }
    }
  },
};
