// Calls the Rust fixture the way a TypeScript worker beside it would: `env.FIXTURE.get_item(…)`
// over native Workers RPC, typed by the declarations its `#[dotdo::service]` generates.

import type { DotdoRpcOptions, FixtureRpc } from "../../fixture/fixture";

interface Env {
  FIXTURE: Fetcher & FixtureRpc;
  FIXTURE_API_KEY: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n") || "0");
    switch (url.pathname) {
      case "/native-check":
        return Response.json(await nativeCheck(env));
      case "/native-bench":
        return Response.json(await bench(env, url.searchParams.get("mode") ?? "", n));
      default:
        return new Response(`no action \`${url.pathname}\``, { status: 404 });
    }
  },
};

/** The message of what `call` throws, or a note that it did not throw. */
async function failure(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return "did not throw";
  } catch (error) {
    return error instanceof Error ? error.message : `threw a ${typeof error}`;
  }
}

/** Calls each kind of method and reports what came back, errors included. */
async function nativeCheck(env: Env) {
  const auth: DotdoRpcOptions = { authorization: `Bearer ${env.FIXTURE_API_KEY}` };
  const created = await env.FIXTURE.create_item({ item: { id: "native-1", name: "made natively", price: 9 } }, auth);
  const fetched = await env.FIXTURE.get_item({ id: "native-1" }, auth);
  const listed = await env.FIXTURE.list_items({ limit: 100 }, auth);
  const missing = await failure(() => env.FIXTURE.get_item({ id: "no-such-item" }, auth));
  const invalid = await failure(() => env.FIXTURE.create_item({ item: { id: "native-2", name: " ", price: 1 } }, auth));
  const wrongType = await failure(() => env.FIXTURE.get_item({ id: 42 as unknown as string }, auth));
  const unauthorized = await failure(() => env.FIXTURE.get_item({ id: "native-1" }));
  const badKey = await failure(() => env.FIXTURE.get_item({ id: "native-1" }, { authorization: "Bearer sk_wrong" }));
  const deleted = await env.FIXTURE.delete_item({ id: "native-1" }, auth);
  return {
    created,
    fetched,
    listed_ids: listed.map((item) => item.id),
    missing,
    invalid,
    wrong_type: wrongType,
    unauthorized,
    bad_key: badKey,
    deleted: deleted ?? null,
    caught_type: await failure(() => env.FIXTURE.get_item({ id: "no-such-item" }, auth).catch((error) => {
      throw new Error(`${error.constructor.name}`);
    })),
  };
}

/** `n` sequential `get_item` calls over native RPC or JSON-RPC through the same binding. */
async function bench(env: Env, mode: string, n: number) {
  const auth: DotdoRpcOptions = { authorization: `Bearer ${env.FIXTURE_API_KEY}` };
  await env.FIXTURE.create_item({ item: { id: "bench-1", name: "benched", price: 1 } }, auth).catch(() => {});
  for (let i = 0; i < n; i++) {
    if (mode === "native") {
      const item = await env.FIXTURE.get_item({ id: "bench-1" }, auth);
      if (item.id !== "bench-1") throw new Error("wrong item");
    } else if (mode === "jsonrpc") {
      const response = await env.FIXTURE.fetch("https://fixture/_rpc", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: auth.authorization! },
        body: JSON.stringify({ jsonrpc: "2.0", id: i, method: "get_item", params: { id: "bench-1" } }),
      });
      const answer = (await response.json()) as { result?: { id: string } };
      if (answer.result?.id !== "bench-1") throw new Error("wrong item");
    } else {
      throw new Error(`mode is native or jsonrpc, not \`${mode}\``);
    }
  }
  return { mode, calls: n };
}
