// A TLS front for a plain TCP service, so tests can reach nginx-rtmp over rtmps://: stunnel
// accepts TLS on a free 127.0.0.1 port with a self-signed certificate made at test time and
// forwards the clear bytes to the target port.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { canConnect, freePort } from './ports.js';
import { reapOnExit, removeOnExit } from './reaper.js';

const run = promisify(execFile);
const STUNNEL = existsSync('/usr/bin/stunnel4') ? '/usr/bin/stunnel4' : 'stunnel';
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/** A running TLS terminator. */
export interface TlsTerminator {
  /** The 127.0.0.1 port accepting TLS. */
  port: number;
  /** The self-signed certificate (PEM file) it presents, CN and SAN 127.0.0.1. */
  certFile: string;
  /** Stops stunnel and removes its temp dir. */
  close(): Promise<void>;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await gone;
  clearTimeout(timer);
}

/** Starts stunnel accepting TLS on a free 127.0.0.1 port and forwarding to 127.0.0.1:targetPort. */
export async function startTlsTerminator(targetPort: number): Promise<TlsTerminator> {
  const dir = await mkdtemp(join(tmpdir(), 'tls-terminator-'));
  removeOnExit(dir);
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const confPath = join(dir, 'stunnel.conf');
  try {
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  // A port freed by freePort() can be taken before stunnel binds it: pick another and retry.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    await writeFile(
      confPath,
      `foreground = yes
pid = ${join(dir, 'stunnel.pid')}
debug = notice

[rtmps]
accept = 127.0.0.1:${port}
connect = 127.0.0.1:${targetPort}
cert = ${certFile}
key = ${keyFile}
`,
    );
    const child = spawn(STUNNEL, [confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    reapOnExit(child);
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let exited: string | undefined;
    const exitedEarly = new Promise<void>((resolve) => {
      child.once('error', (err) => {
        exited = `failed to spawn: ${err.message}`;
        resolve();
      });
      child.once('exit', (code, signal) => {
        exited = `exited (code ${code}, signal ${signal})`;
        resolve();
      });
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let ready = false;
    while (!exited) {
      if (await canConnect(port)) {
        ready = true;
        break;
      }
      if (Date.now() > deadline) break;
      await Promise.race([exitedEarly, new Promise((r) => setTimeout(r, 20))]);
    }
    if (ready) {
      return {
        port,
        certFile,
        async close() {
          await stopChild(child);
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    await stopChild(child);
    const inUse = /Address already in use/i.test(stderr);
    if (!inUse || attempt >= 5) {
      await rm(dir, { recursive: true, force: true });
      const why = exited ?? `did not listen within ${READY_TIMEOUT_MS} ms`;
      throw new Error(`stunnel ${why} on 127.0.0.1:${port}: ${stderr.trim()}`);
    }
  }
}
