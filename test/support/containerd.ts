/**
 * A private containerd (Debian's 1.6 package) with its CRI plugin and the
 * overlayfs snapshotter, on temp --root/--state/--address, for the agent's
 * tests. Registries are configured the way a node's are: a `certs.d` folder
 * (CRI `config_path`) with one `hosts.toml` per host, here plain HTTP on
 * loopback. No CNI, no sandbox image: only the image service is exercised.
 *
 * containerdSkipReason() says why it cannot run here (not root, binary
 * missing, CRI plugin did not load); tests pass that to `t.skip`/`{ skip }`
 * so a skipped run says so and never passes silently.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stopChild, waitFor } from './process.js';

const run = promisify(execFile);

export interface TestContainerd {
  /** The gRPC socket (CRI and containerd's own services), a unix path. */
  socket: string;
  root: string;
  /** The CRI registry config_path: one folder per host with a hosts.toml. */
  certsDir: string;
  /** Point `host` (e.g. `127.0.0.1:5000`) at a plain-HTTP endpoint (default: itself). Read on each pull: no restart. */
  addPlainHttpHost(host: string, endpoint?: string): Promise<void>;
  /** `ctr --address <socket> -n <namespace> ...args`, stdout. */
  ctr(args: string[], namespace?: string): Promise<string>;
  /** Names of the images in `k8s.io`, as `ctr images ls -q` prints them. */
  imageNames(namespace?: string): Promise<string[]>;
  /** containerd's log so far (for assertion messages). */
  log(): Promise<string>;
  stop(): Promise<void>;
}

/** Why containerd cannot run here, or undefined when it can (checked once per process). */
export function containerdSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'containerd tests need Linux';
  if (process.getuid?.() !== 0) return 'containerd tests need root (containerd runs as root with overlayfs)';
  for (const bin of ['/usr/bin/containerd', '/usr/bin/ctr']) {
    if (!existsSync(bin)) return `${bin} is missing: apt-get install -y containerd`;
  }
  return undefined;
}

function configToml(dir: string, socket: string, certsDir: string): string {
  return `version = 2
root = "${dir}/root"
state = "${dir}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]
[grpc]
  address = "${socket}"
[ttrpc]
  address = "${socket}.ttrpc"
[debug]
  address = "${dir}/debug.sock"
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  sandbox_image = "127.0.0.1:1/pause:none"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "${certsDir}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${dir}/cni-bin"
    conf_dir = "${dir}/cni-conf"
`;
}

let probe: Promise<string | undefined> | undefined;

/**
 * containerdSkipReason(), and if that has none, whether containerd and its
 * CRI plugin really start here (once per process: a start and a stop, ~1 s).
 * Some environments run containerd but not its CRI plugin (no overlayfs, a
 * kernel or sandbox without the mounts it needs): the tests then skip with
 * what containerd said, never pass silently.
 */
export function containerdUnavailable(): Promise<string | undefined> {
  probe ??= (async () => {
    const reason = containerdSkipReason();
    if (reason) return reason;
    try {
      const c = await startContainerd();
      await c.stop();
      return undefined;
    } catch (e) {
      const lines = (e as Error).message.split('\n');
      const why = lines.find((l) => /level=(error|fatal)/.test(l)) ?? lines[0];
      return `containerd or its CRI plugin does not start here: ${why}`;
    }
  })();
  return probe;
}

/** Starts containerd and waits until its CRI plugin answers. Throws (with the log) if it cannot. */
export async function startContainerd(): Promise<TestContainerd> {
  const reason = containerdSkipReason();
  if (reason) throw new Error(reason);
  // Short path: unix socket paths are limited to 107 bytes.
  const dir = await mkdtemp(join(tmpdir(), 'ctd-'));
  const socket = join(dir, 'c.sock');
  const certsDir = join(dir, 'certs.d');
  await mkdir(certsDir, { recursive: true });
  await writeFile(join(dir, 'config.toml'), configToml(dir, socket, certsDir));
  const logFile = join(dir, 'containerd.log');
  const { openSync, closeSync } = await import('node:fs');
  const fd = openSync(logFile, 'a');
  const child: ChildProcess = spawn('/usr/bin/containerd', ['--config', join(dir, 'config.toml'), '--log-level', 'info'], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const ctr = async (args: string[], namespace = 'k8s.io') =>
    (await run('/usr/bin/ctr', ['--address', socket, '-n', namespace, ...args], { maxBuffer: 64 * 1024 * 1024 })).stdout;
  const log = () => readFile(logFile, 'utf8').catch(() => '');
  try {
    await waitFor(async () => (await ctr(['plugins', 'ls'])).split('\n').some((l) => /io\.containerd\.grpc\.v1\s+cri\s+\S+\s+ok/.test(l)), 'containerd CRI plugin', child, 20_000);
  } catch (e) {
    await stopChild(child);
    const text = await log();
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${(e as Error).message}\n--- containerd log ---\n${text.slice(-4000)}`);
  }
  return {
    socket,
    root: join(dir, 'root'),
    certsDir,
    async addPlainHttpHost(host, endpoint = host) {
      await mkdir(join(certsDir, host), { recursive: true });
      await writeFile(join(certsDir, host, 'hosts.toml'), `server = "http://${endpoint}"\n\n[host."http://${endpoint}"]\n  capabilities = ["pull", "resolve"]\n`);
    },
    ctr,
    async imageNames(namespace = 'k8s.io') {
      return (await ctr(['images', 'ls', '-q'], namespace)).split('\n').filter(Boolean).sort();
    },
    log,
    async stop() {
      await stopChild(child);
      // Snapshots are overlay/bind mounts only while containers run; none do here, so the tree removes.
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}
