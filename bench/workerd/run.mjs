#!/usr/bin/env node
// The workerd benchmark: the same routes served by a dotdo service, a hand-written workers-rs
// worker and a Hono 4 worker, each under `wrangler dev` (workerd) on this machine, driven in
// turn by autocannon, the order rotated every round. Prints requests/s and p50/p99 latency per
// route with the ratios dotdo/Hono and dotdo/hand-written (medians over the rounds), queue
// throughput, wasm and bundle sizes, each worker's cold start on workerd and the first request
// of a new isolate (startup.mjs).
//
//   node bench/workerd/run.mjs [--rounds N] [--seconds S] [--connections C]
//   node bench/workerd/run.mjs --quick     # one short round: that it all works, as CI runs it
//   node bench/workerd/run.mjs --sizes     # sizes, cold starts and first requests (no wrangler dev)
//   node bench/workerd/run.mjs --queue-only   # the queue rounds, no routes
//   node bench/workerd/run.mjs --baseline REV # also the dotdo worker as it was at git REV
//
// Figures are printed, never asserted: this machine is shared. What is checked is that every
// worker gives the same answer to every route before it is timed, and the expected status to
// every request while it is.

import autocannon from "autocannon";
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { deepStrictEqual } from "node:assert";
import { gzipSync } from "node:zlib";
import { root, startDev } from "../../tests/e2e/harness.mjs";
import { cpuSeconds, hasProc, workerdDescendants } from "./proc.mjs";
import { coldStarts, firstRequests, median } from "./startup.mjs";
import { baselineWorker, loadable, queueRoute, routes, workerBuild, workers } from "./workers.mjs";

/** The value after `name` on the command line, or `null` when it is not given. */
const textOption = (name) => {
  const index = process.argv.indexOf(name);
  return index === -1 ? null : process.argv[index + 1];
};
const option = (name, fallback) => {
  const text = textOption(name);
  return text === null ? fallback : Number(text);
};
const quick = process.argv.includes("--quick");
const sizesOnly = process.argv.includes("--sizes");
const queueOnly = process.argv.includes("--queue-only");
const baselineRev = textOption("--baseline");
const timedRoutes = queueOnly ? [] : routes;
const rounds = quick ? 1 : option("--rounds", 5);
const seconds = quick ? 1 : option("--seconds", 5);
const connections = option("--connections", 10);
// Enough that the worker's CPU for them (a quarter of a second) stands well above the noise.
const queueMessages = quick ? 200 : 5000;
// Cold starts and first requests: rounds (odd, so the median is one measured round), and
// copies of each worker that one workerd loads per round.
const startupRounds = quick ? 3 : 9;
const startupCopies = quick ? 4 : 8;

const say = (line) => console.log(`[bench] ${line}`);
const ratio = (a, b) => (b ? `${(a / b).toFixed(2)}×` : "–");
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

async function answer(base, route) {
  const response = await fetch(base + route.path, { method: route.method ?? "GET", headers: route.headers, body: route.body });
  const text = await response.text();
  if (response.status !== route.status) throw new Error(`${route.name} at ${base}: ${response.status}, not ${route.status}: ${text}`);
  // An answer as server-sent events: its last message is the result.
  const body = response.headers.get("content-type")?.startsWith("text/event-stream")
    ? text.split("\n").filter((line) => line.startsWith("data:")).at(-1).slice(5)
    : text;
  return route.same(JSON.parse(body));
}

function load(worker, route, duration) {
  const base = worker.base;
  const cpuBefore = worker.pid ? cpuSeconds(worker.pid) : 0;
  return new Promise((resolve, reject) => {
    autocannon(
      { url: base + route.path, method: route.method ?? "GET", headers: route.headers, body: route.body, connections, duration },
      (error, result) => {
        if (error) return reject(error);
        const statuses = result.statusCodeStats ?? {};
        const wrong = Object.entries(statuses).filter(([status]) => Number(status) !== route.status);
        if (result.errors || result.timeouts || wrong.length) {
          return reject(new Error(`${route.name} at ${base}: ${result.errors} errors, ${result.timeouts} timeouts, statuses ${JSON.stringify(statuses)}`));
        }
        // The worker's own CPU per request, in µs: what the framework costs, without the proxy
        // and the load generator that share the machine.
        const cpu = worker.pid ? ((cpuSeconds(worker.pid) - cpuBefore) / result.requests.total) * 1e6 : NaN;
        resolve({ rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, cpu });
      },
    );
  });
}

/**
 * Sends `count` messages and waits until the worker has consumed them all: the milliseconds
 * that took, and the worker process's CPU per message (µs), producing and consuming, less the
 * CPU of the requests that asked how many were consumed (measured just before).
 */
async function queueRun(worker, count) {
  const consumedUrl = `${worker.base}/bench/consumed`;
  const consumed = async () => (await fetch(consumedUrl)).json();
  const cpuNow = () => (worker.pid ? cpuSeconds(worker.pid) : NaN);
  const probes = 20;
  let cpuBefore = cpuNow();
  for (let probe = 0; probe < probes; probe++) await consumed();
  const cpuPerPoll = (cpuNow() - cpuBefore) / probes;
  const before = await consumed();
  cpuBefore = cpuNow();
  const start = performance.now();
  const sent = await fetch(worker.base + queueRoute.path, { method: queueRoute.method, headers: queueRoute.headers, body: JSON.stringify(count) });
  if (sent.status !== queueRoute.status) throw new Error(`enqueue at ${worker.base}: ${sent.status} ${await sent.text()}`);
  const deadline = start + 120_000;
  for (let polls = 1; performance.now() < deadline; polls++) {
    if ((await consumed()) >= before + count) {
      const ms = performance.now() - start;
      const cpu = ((cpuNow() - cpuBefore - polls * cpuPerPoll) / count) * 1e6;
      return { ms, cpu };
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${worker.base} consumed ${(await consumed()) - before} of ${count} messages in 120 s`);
}

/**
 * The workerd process that runs the worker itself: a descendant of wrangler (`pid`) that does not
 * listen on the public port, where wrangler's proxy runs. `null` where /proc or `ss` are
 * missing (not Linux): then CPU per request is not reported.
 */
function workerProcess(pid, port) {
  try {
    const listening = spawnSync("ss", ["-ltnpH", `sport = :${port}`], { encoding: "utf8" }).stdout;
    const found = workerdDescendants(pid).filter((candidate) => !listening.includes(`pid=${candidate},`));
    return found.length === 1 ? found[0] : null;
  } catch {
    return null;
  }
}

/** Sizes and cold starts of every worker; the first requests of the benchmark's three. */
async function startupFigures() {
  // The size baselines, built the same way (wrangler dev built the benchmark's own workers).
  workerBuild("tests/e2e/hello");
  workerBuild("tests/e2e/fixture");
  const bundle = await build({
    entryPoints: [join(root, "bench/workerd/hono/src/index.js")],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    write: false,
    logLevel: "silent",
  });
  const hono = loadable("Hono with the MCP SDK (JS bundle, esbuild --minify)", "bench/workerd/hono", bundle.outputFiles[0].text);
  const all = [
    ["hello world (workers-rs)", "tests/e2e/hello"],
    ["hand-written (bench)", "bench/workerd/handwritten"],
    ["dotdo (bench)", "bench/workerd/dotdo"],
    ["e2e fixture (every feature, full middleware)", "tests/e2e/fixture"],
    // The platform's services, as the test command's deploy dry runs built them (when they did).
    ...readdirSync(join(root, "services"))
      .filter((service) => existsSync(join(root, "services", service, "build", "index_bg.wasm")))
      .map((service) => [`services/${service}`, `services/${service}`]),
  ]
    .map(([name, dir]) => loadable(name, dir))
    .concat(hono);

  const sized = all.map((worker) => {
    const bytes = worker.wasm ?? Buffer.from(worker.js);
    return { name: worker.name, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });
  if (!hasProc) {
    say("cold starts and first requests need Linux's /proc: not measured here");
    return { sized, first: [], benchStarts: [] };
  }
  say(`cold starts on workerd: ${startupRounds} round(s) of ${startupCopies} copies of each worker`);
  const started = await coldStarts(all, { rounds: startupRounds, copies: startupCopies });
  sized.forEach((entry, index) => (entry.coldStart = started[index]));

  const bench = workers.map((worker) => all.find((loaded) => loaded.dir === worker.dir));
  say(`first requests on workerd: ${startupRounds} round(s) of ${startupCopies} new isolates per route and worker`);
  const first = [];
  for (const route of routes) first.push({ route, figures: await firstRequests(bench, route, { rounds: startupRounds, copies: startupCopies }) });
  return { sized, first, benchStarts: bench.map((worker) => started[all.indexOf(worker)].total) };
}

const started = [];
// The workers timed under wrangler dev: the three, and dotdo as it was at the baseline if asked
// (last, so the ratios below keep their places).
let baseline = null;
if (baselineRev && !sizesOnly) {
  say(`building the dotdo worker as it was at ${baselineRev}`);
  baseline = baselineWorker(baselineRev);
}
const served = baseline ? [...workers, baseline] : workers;
if (sizesOnly) for (const dir of ["bench/workerd/dotdo", "bench/workerd/handwritten"]) workerBuild(dir);
else try {
  for (const worker of served) {
    say(`starting ${worker.name} under wrangler dev (${worker.dir})`);
    // Warnings and errors only: wrangler would otherwise print a line per request from Node,
    // taking a core's share from the worker and the load generator.
    const dev = await startDev({ configs: [worker.config ?? `${worker.dir}/wrangler.toml`], readyPath: "/items/1", extraArgs: ["--log-level", "warn"] });
    started.push(dev);
    worker.base = dev.base;
    worker.dev = dev;
    worker.pid = workerProcess(dev.pid, new URL(dev.base).port);
  }

  for (const route of routes) {
    const [first, ...others] = await Promise.all(served.map((worker) => answer(worker.base, route)));
    others.forEach((other, index) => deepStrictEqual(other, first, `${route.name}: ${served[index + 1].name} answers otherwise than dotdo`));
  }
  say("every worker gives the same answers");

  say(`warming up, then ${rounds} round(s) of ${seconds} s per route and worker, ${connections} connections`);
  for (const worker of served) for (const route of timedRoutes) await load(worker, route, 1);
  const results = new Map(timedRoutes.map((route) => [route.name, new Map(served.map((worker) => [worker.name, []]))]));
  const queue = new Map(served.map((worker) => [worker.name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = served.map((_, index) => served[(index + round) % served.length]);
    say(`round ${round + 1}: ${order.map((worker) => worker.name).join(", ")}`);
    for (const route of timedRoutes) {
      for (const worker of order) results.get(route.name).get(worker.name).push(await load(worker, route, seconds));
    }
    for (const worker of order) {
      try {
        queue.get(worker.name).push(await queueRun(worker, queueMessages));
      } catch (error) {
        throw new Error(`${error.message}\n${worker.name}'s wrangler dev said:\n${worker.dev.output().slice(-4000)}`);
      }
    }
  }

  const figure = (runs, key) => median(runs.map((run) => run[key]));
  if (timedRoutes.length) {
    console.log(`\n## Requests on workerd (wrangler dev), medians of ${rounds} round(s) of ${seconds} s, ${connections} connections\n`);
    const names = served.map((worker) => worker.name).join(" · ");
    console.log(`| route | req/s ${names} | dotdo/Hono | dotdo/hand-written | p50/p99 ms ${names} |`);
    console.log("| --- | --- | --- | --- | --- |");
    const rows = timedRoutes.map((route) => served.map((worker) => results.get(route.name).get(worker.name)));
    timedRoutes.forEach((route, index) => {
      const rps = rows[index].map((runs) => figure(runs, "rps"));
      const latency = rows[index].map((runs) => `${figure(runs, "p50")}/${figure(runs, "p99")}`).join(" · ");
      console.log(`| ${route.name} | ${rps.map((value) => value.toFixed(0)).join(" · ")} | ${ratio(rps[0], rps[2])} | ${ratio(rps[0], rps[1])} | ${latency} |`);
    });
    if (served.every((worker) => worker.pid)) {
      console.log("\nCPU of the worker's own workerd process per request (µs; wrangler's proxy and the load generator excluded):\n");
      const versus = baseline ? ` | dotdo/${baseline.name}` : "";
      console.log(`| route | ${served.map((worker) => worker.name).join(" | ")} | dotdo/Hono | dotdo/hand-written${versus} |`);
      console.log(`|${" --- |".repeat(served.length + 3 + (baseline ? 1 : 0))}`);
      timedRoutes.forEach((route, index) => {
        const cpu = rows[index].map((runs) => figure(runs, "cpu"));
        const toBaseline = baseline ? ` | ${ratio(cpu[0], cpu[3])}` : "";
        console.log(`| ${route.name} | ${cpu.map((value) => value.toFixed(0)).join(" | ")} | ${ratio(cpu[0], cpu[2])} | ${ratio(cpu[0], cpu[1])}${toBaseline} |`);
      });
    } else {
      console.log("\n(CPU per request needs Linux's /proc and ss: not reported here.)");
    }
  }

  console.log(`\n## Queue: ${queueMessages} messages sent in batches of 100 and consumed (max_batch_size 100), medians\n`);
  console.log("| worker | ms for all | messages/s | CPU µs per message, sent and consumed |");
  console.log("| --- | --- | --- | --- |");
  const queueCpu = served.map((worker) => figure(queue.get(worker.name), "cpu"));
  served.forEach((worker, index) => {
    const ms = figure(queue.get(worker.name), "ms");
    console.log(`| ${worker.name} | ${ms.toFixed(0)} | ${((queueMessages / ms) * 1000).toFixed(0)} | ${queueCpu[index].toFixed(1)} |`);
  });
  if (served.every((worker) => worker.pid)) {
    const toBaseline = baseline ? `, dotdo/${baseline.name} ${ratio(queueCpu[0], queueCpu[3])}` : "";
    console.log(`\nqueue CPU per message: dotdo/hand-written ${ratio(queueCpu[0], queueCpu[1])}, dotdo/Hono ${ratio(queueCpu[0], queueCpu[2])}${toBaseline}`);
  }
} finally {
  await Promise.all(started.map((dev) => dev.stop()));
  baseline?.remove();
}

const { sized, first, benchStarts } = await startupFigures();
const hello = sized[0];
console.log(`\n## Size (the wasm; Hono's JavaScript) and cold start on workerd (CPU ms beyond an empty worker, medians of ${startupRounds})\n`);
console.log("| worker | raw | gzip -9 | cold start: load + start | vs hello world |");
console.log("| --- | --- | --- | --- | --- |");
for (const entry of sized) {
  const started = entry.coldStart
    ? `${entry.coldStart.total.toFixed(2)} ms (${entry.coldStart.load.toFixed(2)} + ${entry.coldStart.start.toFixed(2)}) | ${ratio(entry.coldStart.total, hello.coldStart.total)}`
    : "– | –";
  console.log(`| ${entry.name} | ${kib(entry.raw)} | ${kib(entry.gzip)} | ${started} |`);
}
const dotdoSize = sized.find((entry) => entry.name.startsWith("dotdo")).gzip;
const handSize = sized.find((entry) => entry.name.startsWith("hand-written")).gzip;
console.log(`\ndotdo/hand-written size (gzip): ${ratio(dotdoSize, handSize)}`);

if (first.length) {
  console.log(`\n## A new isolate's first request (CPU ms, medians of ${startupRounds} round(s) of ${startupCopies} isolates)\n`);
  console.log("| route | first request dotdo · hand-written · Hono | second request | dotdo/hand-written, first | dotdo/Hono, first |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const { route, figures } of first) {
    const [firsts, seconds] = ["first", "second"].map((key) => figures.map((figure) => figure[key]));
    console.log(`| ${route.name} | ${firsts.map((value) => value.toFixed(2)).join(" · ")} | ${seconds.map((value) => value.toFixed(2)).join(" · ")} | ${ratio(firsts[0], firsts[1])} | ${ratio(firsts[0], firsts[2])} |`);
  }
  const coldRequest = first[0].figures.map((figure, index) => benchStarts[index] + figure.first);
  console.log(`\nA cold ${first[0].route.name}, the cold start above plus the first request: ${coldRequest.map((value) => `${value.toFixed(2)} ms`).join(" · ")} (dotdo · hand-written · Hono)`);
}
