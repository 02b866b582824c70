// What the kernel says about a process: CPU time, memory, parent. The supervisor's own numbers come from here
// (/proc/<pid>/stat and /proc/<pid>/status), never from the supervisor itself.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let tck;
/** Clock ticks per second of utime/stime (CLK_TCK, nearly always 100). */
export function clockTicks() {
  if (tck === undefined) {
    try {
      tck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      tck = 100;
    }
  }
  return tck;
}

/** Parsed /proc/<pid>/stat, or undefined when the process is gone. */
export function stat(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  const close = text.lastIndexOf(')');
  const f = text.slice(close + 2).split(' '); // f[0] is field 3 (state)
  return {
    pid,
    comm: text.slice(text.indexOf('(') + 1, close),
    state: f[0],
    ppid: Number(f[1]),
    utime: Number(f[11]),
    stime: Number(f[12]),
    startTime: Number(f[19]),
  };
}

/** utime + stime of every pid, in milliseconds (processes already gone count 0). */
export function cpuMs(pids) {
  let ticks = 0;
  for (const pid of pids) {
    const s = stat(pid);
    if (s) ticks += s.utime + s.stime;
  }
  return (ticks * 1000) / clockTicks();
}

/**
 * Sums over pids, in KiB: VmRSS and VmHWM (peak RSS) from /proc/<pid>/status, and Pss from
 * /proc/<pid>/smaps_rollup (shared pages split between the processes that map them).
 */
export function memoryKiB(pids) {
  let rss = 0;
  let hwm = 0;
  let pss = 0;
  for (const pid of pids) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'latin1');
      rss += Number(status.match(/^VmRSS:\s+(\d+) kB/m)?.[1] ?? 0);
      hwm += Number(status.match(/^VmHWM:\s+(\d+) kB/m)?.[1] ?? 0);
    } catch {}
    try {
      const m = readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1').match(/^Pss:\s+(\d+) kB/m);
      if (m) pss += Number(m[1]);
    } catch {}
  }
  return { rss, hwm, pss };
}

/** Every pid in /proc. */
export function allPids() {
  return readdirSync('/proc')
    .filter((n) => n.charCodeAt(0) >= 48 && n.charCodeAt(0) <= 57)
    .map(Number);
}

/** pid → stat of every live process (one snapshot). */
export function snapshot() {
  const out = new Map();
  for (const pid of allPids()) {
    const s = stat(pid);
    if (s) out.set(pid, s);
  }
  return out;
}

/** Descendants of root (not root itself) in a snapshot. */
export function descendants(root, snap = snapshot()) {
  const kids = new Map();
  for (const s of snap.values()) {
    if (!kids.has(s.ppid)) kids.set(s.ppid, []);
    kids.get(s.ppid).push(s);
  }
  const out = [];
  const todo = [root];
  while (todo.length > 0) {
    for (const k of kids.get(todo.pop()) ?? []) {
      out.push(k);
      todo.push(k.pid);
    }
  }
  return out;
}

/** pids whose environment holds `NAME=value` exactly (how every process of one bench run is found). */
export function pidsWithEnv(name, value) {
  const needle = Buffer.from(`\0${name}=${value}\0`);
  const first = Buffer.from(`${name}=${value}\0`);
  const out = [];
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    let env;
    try {
      env = readFileSync(`/proc/${pid}/environ`);
    } catch {
      continue;
    }
    if (env.includes(needle) || env.subarray(0, first.length).equals(first)) out.push(pid);
  }
  return out;
}

/** Context switches (voluntary + involuntary) of pids and their threads: how often they woke up. */
export function contextSwitches(pids) {
  let n = 0;
  for (const pid of [].concat(pids)) {
    let tasks = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    n += switchesOf(pid, tasks);
  }
  return n;
}

function switchesOf(pid, tasks) {
  let n = 0;
  for (const t of tasks) {
    try {
      const s = readFileSync(`/proc/${pid}/task/${t}/status`, 'latin1');
      n += Number(s.match(/^voluntary_ctxt_switches:\s+(\d+)/m)?.[1] ?? 0);
      n += Number(s.match(/^nonvoluntary_ctxt_switches:\s+(\d+)/m)?.[1] ?? 0);
    } catch {}
  }
  return n;
}
