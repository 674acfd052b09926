/**
 * The pre-pull loop against a scripted CRI image service (no runtime): what
 * it asks the runtime, how many pulls at once, how it retries. The same loop
 * against a real containerd is in agent.test.ts.
 */
import t from 'tap';
import { pino } from 'pino';
import type { CriImage, CriImageService } from '../../src/cri/index.js';
import { CRI_ERROR_TABLE } from '../../src/cri/index.js';
import { Prepuller } from '../../src/agent/prepuller.js';
import type { PrepullState } from '../../src/nodes/index.js';

const logger = pino({ level: 'silent' });
const digest = (n: number) => 'sha256:' + String(n).padStart(64, '0');

function fakeRuntime(opts: { present?: string[]; failFirst?: Record<string, number>; pullMs?: number } = {}) {
  const images = new Map<string, CriImage>();
  let n = 0;
  const add = (ref: string) => images.set(ref, { id: digest(++n), repoTags: [ref], repoDigests: [`${ref.slice(0, ref.lastIndexOf(':'))}@${digest(1000 + n)}`], size: 1000 + n });
  for (const r of opts.present ?? []) add(r);
  const fails = { ...(opts.failFirst ?? {}) };
  const calls: string[] = [];
  let active = 0;
  let maxActive = 0;
  const cri: CriImageService = {
    async version() {
      return { runtimeName: 'fake', runtimeVersion: '1', runtimeApiVersion: 'v1' };
    },
    async imageStatus(ref) {
      calls.push(`status ${ref}`);
      return images.get(ref);
    },
    async pullImage(ref) {
      calls.push(`pull ${ref}`);
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        await new Promise((r) => setTimeout(r, opts.pullMs ?? 20));
        if ((fails[ref] ?? 0) > 0) {
          fails[ref]!--;
          throw CRI_ERROR_TABLE.create('PULL_FAILED', `${ref}: not found`);
        }
        add(ref);
        return ref;
      } finally {
        active--;
      }
    },
    async listImages() {
      return [...images.values()];
    },
    close() {},
  };
  return { cri, calls, images, maxActive: () => maxActive };
}

const pulls = (refs: string[]) => refs.map((ref) => ({ image: ref, ref, source: 'config' as const }));
const ready = (p: Prepuller) => new Promise<void>((resolve) => (p.allPresent() ? resolve() : p.once('ready', resolve)));

t.test('present images are not pulled; the rest are, pullConcurrency at a time', async (t) => {
  const refs = Array.from({ length: 10 }, (_, i) => `m.local/img${i}:v1`);
  const rt = fakeRuntime({ present: [refs[0]!] });
  const p = new Prepuller({ cri: rt.cri, settings: () => ({ pullConcurrency: 3, backoff: { initialMs: 50, maxMs: 100 }, resyncMs: 60_000 }), authFor: async () => undefined, logger });
  t.teardown(() => p.close());
  p.setPlan(pulls(refs));
  await ready(p);
  t.equal(rt.maxActive(), 3, 'never more than pullConcurrency pulls at once');
  t.notOk(rt.calls.includes(`pull ${refs[0]}`), 'an image already present is not pulled');
  t.equal(rt.calls.filter((c) => c.startsWith('pull ')).length, 9);
  const s = p.states();
  t.ok(s.every((x) => x.status === 'present' && x.digest?.startsWith('sha256:') && x.attempts === 0));
  t.equal(s[1]!.digest, rt.images.get(refs[1]!)!.repoDigests[0]!.split('@')[1]);
});

t.test('a failing image is retried with growing delays while the others complete', async (t) => {
  const bad = 'm.local/late:v1';
  const rt = fakeRuntime({ failFirst: { [bad]: 3 } });
  const p = new Prepuller({ cri: rt.cri, settings: () => ({ pullConcurrency: 4, backoff: { initialMs: 40, maxMs: 1000 }, resyncMs: 60_000 }), authFor: async () => undefined, logger, rand: () => 1 });
  t.teardown(() => p.close());
  const failures: { at: number; s: PrepullState }[] = [];
  p.on('failed', (s) => failures.push({ at: Date.now(), s }));
  p.setPlan(pulls(['m.local/ok:v1', bad]));
  await ready(p);
  t.equal(failures.length, 3);
  t.same(failures.map((f) => f.s.attempts), [1, 2, 3]);
  t.match(failures[0]!.s, { status: 'error', error: /^\[FERRY_ERR_CRI_PULL_FAILED\]/, retryAt: /Z$/ });
  const gap1 = failures[1]!.at - failures[0]!.at;
  const gap2 = failures[2]!.at - failures[1]!.at;
  t.ok(gap1 >= 40 && gap2 >= 80, `delays double (${gap1} ms, then ${gap2} ms)`);
  const okState = p.states().find((x) => x.ref === 'm.local/ok:v1')!;
  t.ok(Date.parse(okState.pulledAt!) < failures[2]!.at, 'the good image was present before the bad one stopped failing');
  t.match(p.states().find((x) => x.ref === bad), { status: 'present', attempts: 0 });
  t.notOk(p.states().find((x) => x.ref === bad)!.error, 'error cleared');
});

t.test('resync re-checks present images and pulls one that went missing; a dropped image is forgotten', async (t) => {
  const rt = fakeRuntime();
  const p = new Prepuller({ cri: rt.cri, settings: () => ({ pullConcurrency: 2, backoff: { initialMs: 40, maxMs: 1000 }, resyncMs: 60_000 }), authFor: async () => undefined, logger });
  t.teardown(() => p.close());
  p.setPlan(pulls(['m.local/a:1', 'm.local/b:1']));
  await ready(p);
  rt.images.delete('m.local/a:1'); // the kubelet's image GC
  const back = new Promise<PrepullState>((r) => p.once('present', r));
  p.resync();
  t.equal((await back).ref, 'm.local/a:1');
  t.equal(rt.calls.filter((c) => c === 'pull m.local/a:1').length, 2);
  t.equal(rt.calls.filter((c) => c === 'pull m.local/b:1').length, 1, 'b was only looked at');
  p.setPlan(pulls(['m.local/b:1']));
  t.same(p.states().map((s) => s.ref), ['m.local/b:1']);
  t.ok(rt.images.has('m.local/a:1'), 'nothing is removed from the node');
});
