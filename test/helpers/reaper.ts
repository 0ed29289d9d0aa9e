// Makes sure what a test starts (nginx, ffmpeg, temp dirs) goes away with the
// test process, even when it dies by a signal that skips every JS hook.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { Socket } from 'node:net';

// A detached shell holding the read end of a pipe from us: our death (any
// kind) closes the pipe, `read` sees EOF and it kills the registered pids and
// removes the registered dirs. Pure shell so bookkeeping needs no forks.
const WATCHDOG = `
pids=" "
dirs=""
while read -r op arg; do
  case "$op" in
    +) pids="$pids$arg " ;;
    -) kept=" "; for p in $pids; do [ "$p" = "$arg" ] || kept="$kept$p "; done; pids=$kept ;;
    d) dirs="$dirs$arg
" ;;
  esac
done
[ "$pids" = " " ] || kill -KILL $pids 2>/dev/null
printf '%s' "$dirs" | while IFS= read -r d; do rm -rf -- "$d"; done
exit 0
`;

let watchdog: ChildProcess | undefined;
const live = new Set<ChildProcess>();
const dirs = new Set<string>();

function tell(line: string): void {
  if (!watchdog) {
    watchdog = spawn('sh', ['-c', WATCHDOG], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    watchdog.unref();
    // The pipe must not keep the event loop alive on its own.
    (watchdog.stdin as Socket).unref();
    watchdog.stdin!.on('error', () => {});
    // A normal exit still runs JS: clean up synchronously rather than leave a
    // window where things outlive us until the watchdog acts.
    process.once('exit', () => {
      for (const child of live) child.kill('SIGKILL');
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });
  }
  watchdog.stdin!.write(`${line}\n`);
}

/** Kills `child` (SIGKILL) if this process exits while it is still running, however this process exits. */
export function reapOnExit(child: ChildProcess): void {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  live.add(child);
  tell(`+ ${pid}`);
  child.once('exit', () => {
    live.delete(child);
    tell(`- ${pid}`);
  });
}

/** Removes directory `dir` (recursively) when this process exits, however it exits; removing it earlier is fine. */
export function removeOnExit(dir: string): void {
  if (dir.includes('\n')) throw new Error(`unsupported path: ${JSON.stringify(dir)}`);
  dirs.add(dir);
  tell(`d ${dir}`);
}
