/**
 * The real CLI as a child process (`node src/cli/main.ts` through tsx, or its
 * precompiled twin: support/process.ts `nodeEntry`), with
 * every byte it writes kept, and a redis-server that wants a password. For
 * tests that assert on what a user sees: exit codes, stdout, stderr, logs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { redisAnswers } from '../../../src/queue/index.js';
import { freePort, nodeEntry, stopChild, waitFor } from '../../support/process.js';

const MAIN = nodeEntry(new URL('../../../src/cli/main.ts', import.meta.url));

/** The test runner's env minus anything that would change what ferry does (FERRY_*, a kubeconfig). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FERRY_') && k !== 'KUBECONFIG') env[k] = v;
  return { ...env, ...extra };
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `ferry ARGS` to completion. */
export function runFerry(args: string[], env: NodeJS.ProcessEnv): Promise<Finished> {
  const child = spawn(process.execPath, [...MAIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface RunningFerry {
  child: ChildProcess;
  /** Everything written so far (stdout then stderr are interleaved per chunk). */
  output(): string;
  /** Parsed JSON log lines so far. */
  logs: Record<string, any>[];
  /** Resolves with the first log line (already seen or to come) that `match` accepts; rejects if ferry exits first. */
  waitForLog(match: (line: Record<string, any>) => boolean, what: string): Promise<Record<string, any>>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts a long-running `ferry ROLE`, collecting its output. */
export function startFerry(args: string[], env: NodeJS.ProcessEnv): RunningFerry {
  const child = spawn(process.execPath, [...MAIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let all = '';
  const logs: Record<string, any>[] = [];
  const waiters: { match: (l: Record<string, any>) => boolean; resolve: (l: Record<string, any>) => void }[] = [];
  child.stdout!.on('data', (d: Buffer) => (all += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (all += d.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let j: Record<string, any>;
    try {
      j = JSON.parse(line);
    } catch {
      return;
    }
    logs.push(j);
    for (const w of [...waiters]) {
      if (w.match(j)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(j);
      }
    }
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    logs,
    output: () => all,
    waitForLog(match, what) {
      const seen = logs.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        void exited.then((code) => reject(new Error(`ferry exited (${code}) before logging ${what}:\n${all.slice(-4000)}`)));
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export interface PasswordRedis {
  port: number;
  stop(): Promise<void>;
}

/** A private redis-server on a free loopback port that refuses clients without `password`. */
export async function startPasswordRedis(password: string): Promise<PasswordRedis> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', password], { stdio: 'ignore' });
  await waitFor(() => redisAnswers(port, password), 'redis-server with requirepass', child);
  return { port, stop: () => stopChild(child) };
}
