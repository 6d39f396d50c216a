#!/usr/bin/env node
// The wasm a new isolate's first request compiles. V8 compiles a wasm function (with its
// baseline compiler, Liftoff) the first time it runs, whole, so the first request of every
// isolate pays for each function on its path, and for every branch merged into one. workerd
// reports each compilation with `--trace-wasm-compilation-times`; this loads each benchmark
// worker in a new workerd for each route, sends that route's request once, and prints how many
// functions and how many bytes of wasm it compiled: figures that repeat from run to run, where
// the CPU of a first request (run.mjs) varies with the machine.
//
//   node bench/workerd/compiled.mjs            # what `scripts/test.sh` runs, so it keeps working
//   node bench/workerd/compiled.mjs --top N [--route "MCP tools/call get_item"]
//                                              # and the N largest functions of dotdo's, by name,
//                                              # for one route (the first by default)
//
// With `--top`, the wasm is built with its symbols (in its own target directory, as profile.mjs
// builds it), so functions are named; their code is the release build's either way.

import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import workerd from "workerd";
import { inWorkerd } from "./startup.mjs";
import { buildWithSymbols, loadable, routes, workerBuild, workers } from "./workers.mjs";

const option = (name) => {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
};
const top = Number(option("--top") ?? 0);
const topRoute = routes.findIndex((route) => route.name === (option("--route") ?? routes[0].name));
if (topRoute === -1) {
  console.error(`routes: ${routes.map((route) => route.name).join(", ")}`);
  process.exit(2);
}

if (top > 0) buildWithSymbols();
// Miniflare keeps only workerd's structured logs; the compilation trace is plain text on its
// standard output, so workerd runs through a script that appends that output to a file.
const scratch = mkdtempSync(join(tmpdir(), "dotdo-compiled-"));
const trace = join(scratch, "workerd.out");
const wrapper = join(scratch, "workerd");
writeFileSync(wrapper, `#!/bin/sh\nexec "${workerd.default}" "$@" >> "${trace}"\n`);
chmodSync(wrapper, 0o755);
process.env.MINIFLARE_WORKERD_PATH = wrapper;
process.env.MINIFLARE_WORKERD_V8_FLAGS = "--trace-wasm-compilation-times";

/** The names of a module's functions, by index, from its `name` section. */
function functionNames(bytes) {
  let at = 8;
  const leb = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  const text = (length) => bytes.subarray(at, (at += length)).toString();
  const names = new Map();
  while (at < bytes.length) {
    const id = bytes[at++];
    const end = leb() + at;
    if (id === 0 && text(leb()) === "name") {
      while (at < end) {
        const subsection = bytes[at++];
        const subsectionEnd = leb() + at;
        if (subsection === 1) {
          for (let count = leb(); count > 0; count--) names.set(leb(), text(leb()));
        }
        at = subsectionEnd;
      }
    }
    at = end;
  }
  return names;
}

/** The functions compiled by the lines of the trace: `[{ index, bytes }]`. */
function compiled(lines) {
  return [...lines.matchAll(/Compiled function \S+#(\d+) using Liftoff.*? bodysize (\d+) /g)].map(
    ([, index, bytes]) => ({ index: Number(index), bytes: Number(bytes) }),
  );
}

const measured = workers.filter((worker) => worker.wasm);
for (const worker of measured) workerBuild(worker.dir);
const results = measured.map((worker) => {
  const loaded = loadable(worker.name, worker.dir);
  return { worker: loaded, names: functionNames(loaded.wasm), perRoute: [] };
});
try {
  for (const route of routes) {
    for (const result of results) {
      writeFileSync(trace, "");
      await inWorkerd(result.worker, 1, null, async (fetch) => {
        await fetch(0, `http://bench${route.path}`, { method: route.method ?? "GET", headers: route.headers, body: route.body }, route.status);
      });
      const functions = compiled(readFileSync(trace, "utf8"));
      // Every first request runs wasm: an empty trace means workerd did not report, not that
      // nothing was compiled.
      if (functions.length === 0) throw new Error(`${result.worker.name}, ${route.name}: workerd reported no wasm compilation`);
      result.perRoute.push(functions);
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const kib = (functions) => functions.reduce((sum, { bytes }) => sum + bytes, 0) / 1024;
console.log("\n## The wasm a new isolate's first request compiles (functions · KiB of function bodies)\n");
console.log(`| route | ${results.map(({ worker }) => worker.name).join(" | ")} | ${results[0].worker.name}/${results[1].worker.name}, KiB |`);
console.log(`| --- | ${results.map(() => "---").join(" | ")} | --- |`);
routes.forEach((route, index) => {
  const cells = results.map(({ perRoute }) => `${perRoute[index].length} · ${kib(perRoute[index]).toFixed(1)}`);
  const ratio = kib(results[0].perRoute[index]) / kib(results[1].perRoute[index]);
  console.log(`| ${route.name} | ${cells.join(" | ")} | ${ratio.toFixed(2)}× |`);
});
if (top > 0) {
  const [{ worker, names, perRoute }] = results;
  console.log(`\n${worker.name}'s largest, for ${routes[topRoute].name}:\n`);
  for (const { index, bytes } of [...perRoute[topRoute]].sort((a, b) => b.bytes - a.bytes).slice(0, top)) {
    console.log(`${String(bytes).padStart(7)}  ${names.get(index) ?? `function #${index}`}`);
  }
}
