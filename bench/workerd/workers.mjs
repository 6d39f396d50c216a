// The three workers of the workerd benchmark and the routes each answers alike: shared by
// run.mjs (the benchmark) and profile.mjs (a CPU profile of one of them).

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
