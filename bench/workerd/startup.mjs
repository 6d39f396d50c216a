// Cold starts on workerd, measured as the CPU of a workerd process (Linux's /proc):
//
// - `coldStarts`: what workerd spends to load a worker (read, decode and validate its modules,
//   set up its isolate) and to start it (evaluate its modules, instantiate the wasm), beyond
//   what an empty JavaScript worker costs. The worker is started as `wrangler check startup` starts it: a small
//   entry imports its main module on the first request, so nothing needs its bindings.
// - `firstRequests`: what a started worker's first request costs against its second. V8
//   compiles each function the first time it runs, and a service is built on its first event,
//   so the first request of every isolate pays for them.
//
// One workerd loads several copies of the worker, each in its own isolate and each wasm made
// unique so V8 compiles every one. A worker's share is then several times larger than the few
// milliseconds by which workerd's own start varies from run to run.

import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { cpuSeconds, hasProc, workerdDescendants } from "./proc.mjs";

const ROOT = "/startup";
const ENTRY = `export default {
  async fetch() {
    await import("./index.js");
    return new Response("started");
  },
};`;
const EMPTY = { name: "empty JavaScript worker", js: "export default {};", wasm: null };

let made = 0;
/** `bytes` with a custom section no other module has: V8 would reuse code compiled for the same bytes. */
function unique(bytes) {
  const name = Buffer.from(`startup-${process.pid}-${made++}`);
  return Buffer.concat([bytes, Buffer.from([0, name.length + 1, name.length]), name]);
}

/** The worker's modules, its main module first (or after `entry`). */
function modules(worker, entry) {
  return [
    ...(entry ? [{ type: "ESModule", path: `${ROOT}/entry.mjs`, contents: entry }] : []),
    { type: "ESModule", path: `${ROOT}/index.js`, contents: worker.js },
    ...(worker.wasm ? [{ type: "CompiledWasm", path: `${ROOT}/index_bg.wasm`, contents: unique(worker.wasm) }] : []),
  ];
}

/**
 * Loads `copies` copies of `worker` in a new workerd and calls `use(fetch, cpu)`: `fetch(copy,
 * url, init)` sends a request to one copy and checks its status, `cpu()` is the CPU ms the
 * process has used so far (Linux only: the process is found in /proc; elsewhere `cpu()`
 * throws, and `fetch` works). Started through `entry`, a worker gets no bindings: a queue
 * producer alone adds a broker to workerd, whose CPU is no part of the worker's start.
 */
export async function inWorkerd(worker, copies, entry, use) {
  const options = Array.from({ length: copies }, (_, copy) =>
    convertV4MiniflareOptions({
      name: `copy-${copy}`,
      compatibilityDate: worker.compatibilityDate,
      modulesRoot: ROOT,
      modules: modules(worker, entry),
      ...(entry ? {} : { bindings: worker.vars, queueProducers: worker.queueProducers }),
    }),
  );
  const running = new Set(hasProc ? workerdDescendants(process.pid) : []);
  const miniflare = new Miniflare({ ...options[0], workers: options.map((each) => each.workers[0]) });
  try {
    await miniflare.ready;
    let cpu = () => {
      throw new Error("the CPU of a workerd process is read from Linux's /proc, which this system has not");
    };
    if (hasProc) {
      const started = workerdDescendants(process.pid).filter((pid) => !running.has(pid));
      if (started.length !== 1) throw new Error(`expected one new workerd process, found ${started.length}`);
      cpu = () => cpuSeconds(started[0]) * 1000;
    }
    const fetch = async (copy, url, init, status = 200) => {
      const response = await (await miniflare.getWorker(`copy-${copy}`)).fetch(url, init);
      const text = await response.text();
      if (response.status !== status) throw new Error(`${worker.name}, ${url}: ${response.status}, not ${status}: ${text}`);
    };
    return await use(fetch, cpu);
  } finally {
    await miniflare.dispose();
  }
}

/** The middle value; between the two middle ones for an even count. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * The cold start of each of `workers` ({ name, js, wasm: bytes or null, compatibilityDate }), in
 * CPU ms per worker beyond an empty worker's: `load` (reading and validating), `start`
 * (evaluating and instantiating) and their `total`. Medians of `rounds`, each worker and the empty one in turn.
 */
export async function coldStarts(workers, { rounds, copies }) {
  const measure = (worker) =>
    inWorkerd(worker, copies, ENTRY, async (fetch, cpu) => {
      const loaded = cpu();
      for (let copy = 0; copy < copies; copy++) await fetch(copy, "http://startup/");
      return { load: loaded, start: cpu() - loaded };
    });
  const all = [{ ...EMPTY, compatibilityDate: workers[0].compatibilityDate }, ...workers];
  const runs = all.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [index, worker] of all.entries()) runs[index].push(await measure(worker));
  }
  const [emptyLoad, emptyStart] = ["load", "start"].map((key) => median(runs[0].map((run) => run[key])));
  return workers.map((worker, index) => {
    const load = (median(runs[index + 1].map((run) => run.load)) - emptyLoad) / copies;
    const start = (median(runs[index + 1].map((run) => run.start)) - emptyStart) / copies;
    return { name: worker.name, load, start, total: load + start };
  });
}

/**
 * The CPU ms of the first and the second request of `route` ({ name, path, method, headers,
 * body, status }) to each of `workers` (as for `coldStarts`, with the `vars` and
 * `queueProducers` they bind), each copy started fresh: medians of `rounds`, as
 * `[{ name, first, second }]`.
 */
export async function firstRequests(workers, route, { rounds, copies }) {
  const init = { method: route.method ?? "GET", headers: route.headers, body: route.body };
  const measure = (worker) =>
    inWorkerd(worker, copies, null, async (fetch, cpu) => {
      const spent = [];
      for (let request = 0; request < 2; request++) {
        const before = cpu();
        for (let copy = 0; copy < copies; copy++) await fetch(copy, `http://bench${route.path}`, init, route.status);
        spent.push((cpu() - before) / copies);
      }
      return spent;
    });
  const runs = workers.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [index, worker] of workers.entries()) runs[index].push(await measure(worker));
  }
  return workers.map((worker, index) => ({
    name: worker.name,
    first: median(runs[index].map(([first]) => first)),
    second: median(runs[index].map(([, second]) => second)),
  }));
}
