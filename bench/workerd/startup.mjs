// Cold start on workerd: the CPU that workerd spends to load a worker (compile its wasm, set up
// its isolate) and to start it (evaluate its modules, instantiate the wasm), beyond what an
// empty JavaScript worker costs. The worker is started as `wrangler check startup` starts it:
// a small entry imports its main module on the first request, so nothing needs its bindings.
//
// One workerd loads several copies of the worker, each in its own isolate and each wasm made
// unique so V8 compiles every one. A worker's share is then several times larger than the few
// milliseconds by which workerd's own start varies from run to run.

import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { cpuSeconds, workerdDescendants } from "./proc.mjs";

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

/** CPU ms workerd spent on `copies` copies of `worker`: loading them, then starting each. */
async function measure(worker, copies) {
  const options = Array.from({ length: copies }, (_, copy) =>
    convertV4MiniflareOptions({
      name: `copy-${copy}`,
      compatibilityDate: worker.compatibilityDate,
      modulesRoot: ROOT,
      modules: [
        { type: "ESModule", path: `${ROOT}/entry.mjs`, contents: ENTRY },
        { type: "ESModule", path: `${ROOT}/index.js`, contents: worker.js },
        ...(worker.wasm ? [{ type: "CompiledWasm", path: `${ROOT}/index_bg.wasm`, contents: unique(worker.wasm) }] : []),
      ],
    }),
  );
  const running = new Set(workerdDescendants(process.pid));
  const miniflare = new Miniflare({ ...options[0], workers: options.map((each) => each.workers[0]) });
  try {
    await miniflare.ready;
    const started = workerdDescendants(process.pid).filter((pid) => !running.has(pid));
    if (started.length !== 1) throw new Error(`expected one new workerd process, found ${started.length}`);
    const [pid] = started;
    const loaded = cpuSeconds(pid);
    for (let copy = 0; copy < copies; copy++) {
      const response = await (await miniflare.getWorker(`copy-${copy}`)).fetch("http://startup/");
      const text = await response.text();
      if (response.status !== 200) throw new Error(`${worker.name} did not start: ${response.status} ${text}`);
    }
    return { load: loaded * 1000, start: (cpuSeconds(pid) - loaded) * 1000 };
  } finally {
    await miniflare.dispose();
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * The cold start of each of `workers` ({ name, js, wasm: bytes or null, compatibilityDate }), in
 * CPU ms per worker beyond an empty worker's: `load` (compiling), `start` (evaluating and
 * instantiating) and their `total`. Medians of `rounds`, each worker and the empty one in turn.
 */
export async function coldStarts(workers, { rounds, copies }) {
  const all = [{ ...EMPTY, compatibilityDate: workers[0].compatibilityDate }, ...workers];
  const runs = all.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [index, worker] of all.entries()) runs[index].push(await measure(worker, copies));
  }
  const [emptyLoad, emptyStart] = ["load", "start"].map((key) => median(runs[0].map((run) => run[key])));
  return workers.map((worker, index) => {
    const load = (median(runs[index + 1].map((run) => run.load)) - emptyLoad) / copies;
    const start = (median(runs[index + 1].map((run) => run.start)) - emptyStart) / copies;
    return { name: worker.name, load, start, total: load + start };
  });
}
