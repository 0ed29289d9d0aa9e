// Finds processes descending from this test process by reading /proc, so a
// test can prove the code under test left no child (e.g. ffmpeg) behind.
import { readdirSync, readFileSync } from 'node:fs';
import { eventually } from './eventually.js';

interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
}

function readStat(pid: string): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited between readdir and read
  }
  // comm may itself contain spaces or ')', so split around the last ')'.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' ');
  return {
    pid: Number(pid),
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '',
    ppid: Number(rest[1]),
  };
}

function snapshot(): Map<number, ProcStat> {
  const procs = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (stat) procs.set(stat.pid, stat);
  }
  return procs;
}

/** Pids of running (not zombie) processes named `name` (kernel comm, max 15 chars) descending from this process. */
export function childProcesses(name: string): number[] {
  const procs = snapshot();
  const found: number[] = [];
  for (const p of procs.values()) {
    if (p.comm !== name || p.state === 'Z' || p.state === 'X') continue;
    for (let up = procs.get(p.ppid); up; up = procs.get(up.ppid)) {
      if (up.pid === process.pid) {
        found.push(p.pid);
        break;
      }
      if (up.pid <= 1) break;
    }
  }
  return found.sort((a, b) => a - b);
}

/** Resolves once no process named `name` descends from this process; rejects with the survivors' pids after `timeoutMs`. */
export async function waitForNoChildren(name: string, timeoutMs = 5000): Promise<void> {
  const survivors = () => childProcesses(name);
  await eventually(
    () => survivors().length === 0,
    timeoutMs,
    () => `every '${name}' process exits; still running after ${timeoutMs} ms: ${survivors().join(', ')}`,
    25,
  );
}
