import { spawn } from 'node:child_process';
import { redisAnswers } from '../../src/queue/index.js';
import { freePort, stopChild, waitFor } from './process.js';

export interface TestRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Kill -9 (simulate an outage); `start()` brings it back on the same port. */
  kill(): Promise<void>;
  start(): Promise<void>;
}

/** A private redis-server on a free loopback port, nothing persisted. Never the machine's 6379. */
export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  let child: ReturnType<typeof spawn> | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    await waitFor(() => redisAnswers(port), 'redis-server', child);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    async kill() {
      if (child) await stopChild(child, 'SIGKILL');
    },
    async stop() {
      if (child) await stopChild(child);
    },
  };
}
