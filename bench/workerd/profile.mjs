#!/usr/bin/env node
// A V8 CPU profile of one benchmark worker under `wrangler dev` while autocannon drives one of
// its routes: where a request's CPU goes, the worker's own code (wasm functions by name) beside
// the JavaScript glue and the runtime's built-ins. Prints the functions with the most samples
// and writes the whole profile (open it in Chrome's DevTools, Performance panel).
//
//   node bench/workerd/profile.mjs [--worker dotdo|hand-written|Hono] [--route "GET /items/:id"]
//                                  [--seconds S] [--top N]
// `--route queue` sends batches of 100 queue messages, which the worker also consumes.
//
// The wasm is built with its symbols (in its own target directory), so a profile names Rust
// functions; sizes and speed are otherwise the release build's.

import autocannon from "autocannon";
import WebSocket from "ws";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { root, startDev } from "../../tests/e2e/harness.mjs";
import { buildWithSymbols, queueRoute, routes, workers } from "./workers.mjs";

const option = (name, fallback) => {
  const index = process.argv.indexOf(name);
  return index === -1 ? fallback : process.argv[index + 1];
};
const profiled = [...routes, queueRoute];
const worker = workers.find((candidate) => candidate.name === option("--worker", "dotdo"));
const route = profiled.find((candidate) => candidate.name === option("--route", "GET /items/:id"));
const seconds = Number(option("--seconds", 8));
const top = Number(option("--top", 30));
if (!worker || !route) {
  console.error(`workers: ${workers.map((w) => w.name).join(", ")}\nroutes: ${profiled.map((r) => r.name).join(", ")}`);
  process.exit(2);
}

buildWithSymbols();
const dev = await startDev({ configs: [`${worker.dir}/wrangler.toml`], readyPath: "/items/1", extraArgs: ["--log-level", "warn"] });
try {
  const targets = await (await fetch(`http://127.0.0.1:${dev.inspectorPort}/json`)).json();
  const socket = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  const pending = new Map();
  socket.on("message", (data) => {
    const message = JSON.parse(data);
    pending.get(message.id)?.(message);
    pending.delete(message.id);
  });
  let nextId = 0;
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      const id = ++nextId;
      pending.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  const drive = (duration) =>
    new Promise((resolve, reject) =>
      autocannon(
        { url: dev.base + route.path, method: route.method ?? "GET", headers: route.headers, body: route.body, connections: 10, duration },
        (error, result) => (error ? reject(error) : resolve(result)),
      ),
    );

  await drive(3); // warm: compiled, tiered up
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 50 });
  await send("Profiler.start");
  const result = await drive(seconds);
  const { result: { profile } } = await send("Profiler.stop");
  socket.close();
  const wrong = Object.keys(result.statusCodeStats ?? {}).filter((status) => Number(status) !== route.status);
  if (wrong.length) throw new Error(`${route.name}: statuses ${wrong.join(", ")}, not ${route.status}`);

  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const samples = new Map();
  for (const id of profile.samples) samples.set(id, (samples.get(id) ?? 0) + 1);
  const byFunction = new Map();
  const byKind = new Map();
  let busy = 0;
  for (const [id, count] of samples) {
    const { functionName, url, lineNumber, columnNumber } = nodes.get(id).callFrame;
    if (functionName === "(idle)") continue;
    busy += count;
    const kind = url.includes(".wasm")
      ? "the worker's wasm"
      : url
        ? "JavaScript in the bundle (bindings glue or framework, worker shim, dev middleware)"
        : ["(program)", "(garbage collector)"].includes(functionName)
          ? "V8: (program) and garbage collection"
          : "runtime built-ins (Response, URL, TextDecoder, queueMicrotask, …)";
    byKind.set(kind, (byKind.get(kind) ?? 0) + count);
    const where = url ? ` ${url.split("/").pop()}${url.endsWith(".js") ? `:${lineNumber + 1}:${columnNumber + 1}` : ""}` : "";
    const key = `${functionName || "(anonymous)"}${where}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + count);
  }
  const total = profile.samples.length;
  // The isolate's busy time per request, from each sample's time delta (V8 samples less often
  // than asked under load, so counting samples times the interval would overstate it).
  let busyMicroseconds = 0;
  profile.samples.forEach((id, index) => {
    if (nodes.get(id).callFrame.functionName !== "(idle)") busyMicroseconds += profile.timeDeltas[index] ?? 0;
  });
  const perRequest = busyMicroseconds / result.requests.total;
  console.log(`\n${worker.name}, ${route.name}: ${result.requests.average.toFixed(0)} req/s; busy ${((busy / total) * 100).toFixed(1)} % of ${total} samples; the isolate busy ${perRequest.toFixed(0)} µs a request`);
  for (const [kind, count] of [...byKind].sort((a, b) => b[1] - a[1])) {
    console.log(`${((count / busy) * 100).toFixed(1).padStart(5)} %  ${kind}`);
  }
  console.log("\n% of busy samples, function (wasm by name, JavaScript by line:column of the bundle)\n");
  for (const [key, count] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((count / busy) * 100).toFixed(1).padStart(5)}  ${key.slice(0, 160)}`);
  }
  const dir = join(root, "target", "profile");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${worker.name}-${route.name.replace(/[^a-z0-9]+/gi, "-")}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  console.log(`\nthe whole profile: ${file}`);
} finally {
  await dev.stop();
}
