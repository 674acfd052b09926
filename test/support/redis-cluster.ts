import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { redisAnswers } from '../../src/queue/index.js';
import { freePort, stopChild, waitFor } from './process.js';

const run = promisify(execFile);

export interface TestRedisCluster {
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3`: every master as a seed node. */
  url: string;
  ports: number[];
  /** `redis-cli -p <port> ARGS` on one node (the first unless told), trimmed stdout. */
  cli(args: string[], port?: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A real Redis Cluster of three masters (no replicas) on free loopback
 * ports, nothing persisted: `redis-server --cluster-enabled yes` x 3, then
 * `redis-cli --cluster create`, ready once every node reports
 * `cluster_state:ok`. Never the machine's 6379.
 */
export async function startRedisCluster(): Promise<TestRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cluster-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  const children: ChildProcess[] = [];
  const cli = async (args: string[], port = ports[0]!) => (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args])).stdout.trim();
  const stop = async () => {
    await Promise.all(children.map((c) => stopChild(c)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      const child = spawn(
        'redis-server',
        [
          '--port', String(port),
          '--bind', '127.0.0.1',
          '--cluster-enabled', 'yes',
          '--cluster-config-file', join(dir, `nodes-${port}.conf`),
          '--dir', dir,
          '--save', '',
          '--appendonly', 'no',
        ],
        { stdio: 'ignore' },
      );
      children.push(child);
      await waitFor(() => redisAnswers(port), `cluster redis-server on ${port}`, child);
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
    for (const port of ports) {
      await waitFor(async () => (await cli(['cluster', 'info'], port)).includes('cluster_state:ok'), `cluster_state:ok on ${port}`);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, ports, cli, stop };
}
