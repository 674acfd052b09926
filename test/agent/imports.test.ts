/**
 * `ferry agent`'s import folder into a real containerd (namespace k8s.io,
 * overlayfs): docker-archive and OCI archive imported and unpacked with the
 * mirror registry stopped, a rewritten file imported again, a `.part` file
 * waiting for its rename, a corrupt file reported in NodeState without
 * stopping the agent, and a restart re-importing nothing unchanged.
 */
import t from 'tap';
import { copyFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectCri } from '../../src/cri/index.js';
import type { NodeState } from '../../src/nodes/index.js';
import { containerdUnavailable } from '../support/containerd.js';
import { startRegistry } from '../support/registry.js';
import { ctrImages, layoutWith, runAgent, skopeo, startAgentEnv, type AgentEnv } from './fixtures/env.js';

const skip = await containerdUnavailable();
let env: AgentEnv;
if (!skip) {
  env = await startAgentEnv();
  t.teardown(() => env.close());
}

const fileState = (s: NodeState, file: string) => s.imports.find((i) => i.file === file);

/** An archive of a fresh image at `dst` (written elsewhere, renamed into place unless `inPlace`). */
async function archive(format: 'docker' | 'oci', name: string, dst: string, inPlace = false): Promise<{ digest: string }> {
  const l = layoutWith(env, 'v', [8192, 4096]);
  const out = inPlace ? dst : join(env.tmp, `${Math.random().toString(36).slice(2)}.tar`);
  await skopeo([`oci:${l.dir}:v`, `${format === 'docker' ? 'docker-archive' : 'oci-archive'}:${out}:${name}`]);
  if (!inPlace) renameSync(out, dst);
  return { digest: l.image.digest };
}

/** The image is unpacked: its config carries the overlayfs snapshot label and that snapshot is committed. */
async function unpacked(name: string): Promise<boolean> {
  const cri = connectCri(env.containerd.socket);
  try {
    const img = await cri.imageStatus(name);
    if (!img) return false;
    const content = await env.containerd.ctr(['content', 'ls']);
    const line = content.split('\n').find((l) => l.startsWith(img.id));
    const chain = /containerd\.io\/gc\.ref\.snapshot\.overlayfs=(sha256:[0-9a-f]{64})/.exec(line ?? '')?.[1];
    if (!chain) return false;
    const info = await env.containerd.ctr(['snapshots', '--snapshotter', 'overlayfs', 'info', chain]);
    return /"Kind": "Committed"/.test(info);
  } finally {
    cri.close();
  }
}

t.test('archives dropped into importDir land in containerd, unpacked, with the mirror down; changes, .part, corrupt files; restart', { skip }, async (t) => {
  // the mirror this agent is configured with is stopped: imports must not need it
  const mirror = await startRegistry();
  await mirror.stop();
  const importDir = join(env.tmp, 'images');
  const setup = { mirror: mirror.host, agent: { importDir, stableMs: 200 } };
  const a = await runAgent(env, setup);
  let closed = false;
  t.teardown(() => (closed ? undefined : a.close()));

  await archive('docker', 'demo/dock:v1', join(importDir, 'dock.tar'));
  const oci = await archive('oci', 'docker.io/demo/oci:v1', join(importDir, 'oci.tar'));
  let s = await a.published((st) => fileState(st, 'dock.tar')?.status === 'imported' && fileState(st, 'oci.tar')?.status === 'imported');
  t.match(fileState(s, 'dock.tar'), { status: 'imported', images: ['docker.io/demo/dock:v1'], size: readFileSync(join(importDir, 'dock.tar')).length });
  t.match(fileState(s, 'oci.tar'), { status: 'imported', images: ['docker.io/demo/oci:v1'], digests: [oci.digest] });
  const listed = await ctrImages(env.containerd);
  t.ok(listed.some((i) => i.ref === 'docker.io/demo/dock:v1'), 'docker-archive image in k8s.io');
  t.ok(listed.some((i) => i.ref === 'docker.io/demo/oci:v1' && i.digest === oci.digest), 'OCI archive image in k8s.io with its manifest digest');
  t.ok(await unpacked('docker.io/demo/dock:v1'), 'docker-archive image unpacked into overlayfs');
  t.ok(await unpacked('docker.io/demo/oci:v1'), 'OCI archive image unpacked into overlayfs');
  t.ok(existsSync(join(importDir, '.ferry-agent-state.json')), 'state file written next to the images');

  // rewritten in place: imported again, new digest
  const before = fileState(s, 'oci.tar')!.digests[0];
  const oci2 = await archive('oci', 'docker.io/demo/oci:v1', join(env.tmp, 'oci2.tar'), true);
  copyFileSync(join(env.tmp, 'oci2.tar'), join(importDir, 'oci.tar'));
  s = await a.published((st) => fileState(st, 'oci.tar')?.status === 'imported' && fileState(st, 'oci.tar')?.digests[0] === oci2.digest);
  t.not(oci2.digest, before);
  t.ok((await ctrImages(env.containerd)).some((i) => i.ref === 'docker.io/demo/oci:v1' && i.digest === oci2.digest), 'containerd has the new image under the name');

  // written as .part: nothing until renamed
  const part = join(importDir, 'slow.tar.part');
  const slow = await archive('oci', 'docker.io/demo/slow:v1', part, true);
  // two full rescans (500 ms apart, stableMs 200): the watcher had every chance to pick it up
  for (let i = 0; i < 2; i++) await new Promise<void>((r) => a.role.imports!.watcher.once('scan', () => r()));
  t.notOk(a.role.state().imports.some((i) => i.file.startsWith('slow')), 'a .part file is not imported');
  t.notOk((await ctrImages(env.containerd)).some((i) => i.ref === 'docker.io/demo/slow:v1'));
  renameSync(part, join(importDir, 'slow.tar'));
  s = await a.published((st) => fileState(st, 'slow.tar')?.status === 'imported');
  t.same(fileState(s, 'slow.tar')!.digests, [slow.digest]);

  // corrupt: reported with its code, the agent keeps going, the next good file imports
  writeFileSync(join(env.tmp, 'bad.tar'), Buffer.alloc(20_000, 7));
  renameSync(join(env.tmp, 'bad.tar'), join(importDir, 'bad.tar'));
  s = await a.published((st) => fileState(st, 'bad.tar')?.status === 'error');
  t.match(fileState(s, 'bad.tar'), { status: 'error', error: /^\[FERRY_ERR_CONTAINERD_BAD_ARCHIVE\]/, images: [] });
  t.ok(a.role.state().runtime, 'the agent is still running');
  await archive('docker', 'demo/good:v1', join(importDir, 'good.tar'));
  s = await a.published((st) => fileState(st, 'good.tar')?.status === 'imported');
  t.ok((await ctrImages(env.containerd)).some((i) => i.ref === 'docker.io/demo/good:v1'), 'the next good file still imports');

  // removed: dropped from the state; the image stays in containerd
  rmSync(join(importDir, 'good.tar'));
  s = await a.published((st) => !fileState(st, 'good.tar'));
  t.ok((await ctrImages(env.containerd)).some((i) => i.ref === 'docker.io/demo/good:v1'), 'the image stays in containerd (as with k3s)');

  // restart: nothing unchanged imported again
  await a.close();
  closed = true;
  const b = await runAgent(env, { ...setup, prefix: a.prefix });
  t.teardown(() => b.close());
  const starts: string[] = [];
  b.role.imports!.watcher.on('start', (e) => starts.push(e.file));
  await new Promise<void>((r) => b.role.imports!.watcher.once('scan', () => r()));
  await new Promise<void>((r) => b.role.imports!.watcher.once('scan', () => r())); // a full rescan after start too
  t.same(starts, [], 'no file imported again after the restart');
  t.notOk(b.logs.some((l) => l.msg === 'agent import: importing'), 'no import logged');
  const after = b.role.state().imports.map((i) => [i.file, i.status]);
  t.same(after, [['bad.tar', 'error'], ['dock.tar', 'imported'], ['oci.tar', 'imported'], ['slow.tar', 'imported']], 'state restored from the state file');
});
