// The CPU of workerd processes, from Linux's /proc: shared by the benchmark's figures per
// request, per queue message and per cold start.

import { existsSync, readFileSync, readdirSync } from "node:fs";

/** Whether this system has Linux's /proc, which every reader below needs. */
export const hasProc = existsSync("/proc/self/task");

/** The workerd processes among `pid`'s descendants (children, their children, …). */
export function workerdDescendants(pid) {
  const children = (parent) =>
    readFileSync(`/proc/${parent}/task/${parent}/children`, "utf8").split(" ").filter(Boolean).map(Number);
  const found = [];
  for (let pending = children(pid); pending.length; ) {
    const next = pending.pop();
    try {
      if (readFileSync(`/proc/${next}/comm`, "utf8").trim() === "workerd") found.push(next);
      pending.push(...children(next));
    } catch {
      // It ended between the listing and the read.
    }
  }
  return found;
}

/** CPU seconds `pid` has used so far, all its threads. */
export function cpuSeconds(pid) {
  // The scheduler's nanosecond counters of each thread: `/proc/<pid>/stat` counts 10 ms ticks,
  // too coarse for a queue round of a quarter of a second. (A thread that ended takes its share
  // with it; workerd's threads live as long as the process.)
  let nanoseconds = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      nanoseconds += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return nanoseconds / 1e9;
}
