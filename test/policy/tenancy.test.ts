/**
 * Tenant isolation in decide(), pure (SPEC "Trust model": a pod is rewritten
 * only to a mirrored image its own namespace could have pulled upstream).
 */
import t from 'tap';
import { resolveConfig, type FerryConfig } from '../../src/config/index.js';
import { compilePolicy, decide, hostTenancy, sharingFor, validatePod, type ImageUse, type PodInput } from '../../src/policy/index.js';
import type { ImageView } from '../../src/image-state/index.js';

const M = '127.0.0.1:5000';
const P = 'ghcr.io/acme/private:1.0';
const PUB = 'docker.io/library/nginx:1.27';
const D = 'sha256:' + 'a'.repeat(64);

function cfg(raw: object = {}): FerryConfig {
  return resolveConfig({ mirror: { registry: M }, ...raw }).config;
}
const view = (extra: Partial<ImageView> = {}): ImageView => ({ state: 'mirrored', digest: D, mirroredAt: '2026-01-01T00:00:00Z', blockedReason: null, ...extra });
const c = (image: string, name = 'app'): ImageUse => ({ list: 'containers', index: 0, name, image });
const pod = (namespace: string, images: string[], extra: Partial<PodInput> = {}): PodInput => ({ namespace, annotations: {}, images: images.map((i, n) => c(i, `c${n}`)), ...extra });
const FROM_PODS = { registries: { 'ghcr.io': { credentialsFromPods: true } } };

function run(raw: object, p: PodInput, states: Record<string, ImageView>) {
  return decide(p, { annotations: {} }, compilePolicy(cfg(raw)), (ref) => states[ref]);
}

t.test('sharingFor: public to all, private to granted and shareWith, unknown by whether ferry could have used credentials', async (t) => {
  const withCreds = hostTenancy(cfg({ registries: { 'ghcr.io': { username: 'u', password: 'p', shareWith: ['team-*'] } } }), 'ghcr.io');
  const bare = hostTenancy(cfg(), 'ghcr.io');
  t.same(sharingFor(view({ access: 'public' }), 'b', withCreds), { shared: true });
  t.same(sharingFor(view({ access: 'private', grantedNamespaces: 'a,c' }), 'a', withCreds), { shared: true }, 'granted');
  t.same(sharingFor(view({ access: 'private', grantedNamespaces: 'a,c' }), 'b', withCreds), { shared: false, why: 'private' });
  t.same(sharingFor(view({ access: 'private', grantedNamespaces: 'ab' }), 'a', withCreds), { shared: false, why: 'private' }, 'whole names only');
  t.same(sharingFor(view({ access: 'private' }), 'team-x', withCreds), { shared: true }, 'shareWith glob');
  t.same(sharingFor(view({ access: null }), 'b', withCreds), { shared: false, why: 'unknown' }, 'unknown, ferry has credentials');
  t.same(sharingFor(undefined, 'b', withCreds), { shared: false, why: 'unknown' }, 'not copied yet');
  t.same(sharingFor(view({ access: null }), 'b', bare), { shared: true }, 'unknown, but every copy of the host was anonymous');
  t.same(sharingFor(view({ access: null, source: 'import' }), 'b', withCreds), { shared: true }, 'imported by the operator');
  const fromPods = hostTenancy(cfg(FROM_PODS), 'ghcr.io');
  t.same(sharingFor(view(), 'b', fromPods), { shared: false, why: 'unknown' }, 'credentialsFromPods: a copy may have used a pod secret');
  const anyFile = hostTenancy(cfg({ registries: { '*': { credentialsFile: '/etc/ferry/config.json' } } }), 'quay.io');
  t.equal(anyFile.ferryCredentials, true, 'the "*" credentials file counts for every host');
  const hub = hostTenancy(cfg({ registries: { 'index.docker.io': { shareWith: ['shop'] } } }), 'docker.io');
  t.ok(hub.shareWith('shop'), "Docker Hub's aliases are one host");
});

t.test('mirrored: a private image stays upstream for a namespace without credentials, with a warning and a verification', async (t) => {
  const states = { [P]: view({ access: 'private', grantedNamespaces: 'team-a' }) };
  const a = run(FROM_PODS, pod('team-a', [P]), states);
  t.equal(a.images[0]!.image, `${M}/ghcr.io/acme/private:1.0`, 'the granted namespace is rewritten');
  t.same(a.enqueue, [], 'and asks for nothing');

  const b = run(FROM_PODS, pod('team-b', [P], { pullSecrets: ['regcred'] }), states);
  t.equal(b.images[0]!.image, undefined, 'team-b stays on the upstream');
  t.same(b.denials, []);
  t.match(b.warnings, [/container "c0": "ghcr\.io\/acme\/private:1\.0" left on the upstream: .*credentials for ghcr\.io.*"team-b".*add an imagePullSecret with credentials for ghcr\.io.*checking the pod's imagePullSecrets \(regcred\)/]);
  t.same(b.enqueue, [{ ref: P, mirrorRef: `${M}/ghcr.io/acme/private:1.0`, verify: true, requester: { namespace: 'team-b', pullSecrets: ['regcred'] } }]);

  const none = run(FROM_PODS, pod('team-b', [P, P]), states);
  t.same(none.enqueue, [], 'no pull secret: nothing a worker could check');
  t.equal(none.warnings.length, 2, 'each container is told');

  const off = run({}, pod('team-b', [P], { pullSecrets: ['regcred'] }), states);
  t.same(off.enqueue, [], 'credentialsFromPods off: ferry may not read the secret');
  t.match(off.warnings, [/registries\.ghcr\.io\.shareWith.*registries\.ghcr\.io\.credentialsFromPods/]);
});

t.test('an image still being copied: a waiting namespace is checked once there is a digest', async (t) => {
  const copying = { [P]: { state: 'copying' as const, digest: null, mirroredAt: null, blockedReason: null, grantedNamespaces: null } };
  const b = run(FROM_PODS, pod('team-b', [P], { pullSecrets: ['regcred'] }), copying);
  t.same(b.enqueue, [{ ref: P, mirrorRef: `${M}/ghcr.io/acme/private:1.0`, verify: true, requester: { namespace: 'team-b', pullSecrets: ['regcred'] } }]);
  t.same(b.warnings, [], 'mirrored mode: not rewritten anyway, nothing to explain');
  t.same(run({ ...FROM_PODS, rewrite: { mode: 'off' } }, pod('team-b', [P], { pullSecrets: ['regcred'] }), copying).enqueue, [], 'mode off: nothing to verify for');
});

t.test('enforce: denied with what to do', async (t) => {
  const states = { [P]: view({ access: 'private', grantedNamespaces: 'team-a' }) };
  const raw = { ...FROM_PODS, rewrite: { mode: 'enforce' } };
  const b = run(raw, pod('team-b', [P], { pullSecrets: ['regcred'] }), states);
  t.equal(b.denials.length, 1);
  t.match(b.denials[0], /image "ghcr\.io\/acme\/private:1\.0" \(container "c0"\) is not given to this namespace: .*add an imagePullSecret with credentials for ghcr\.io/);
  t.equal(b.enqueue.length, 1, 'and a worker checks its secret meanwhile');
  const v = validatePod(pod('team-b', [P]), { annotations: {} }, compilePolicy(cfg(raw)), (ref) => states[ref as keyof typeof states]);
  t.equal(v.denials.length, 1, 'the validating webhook says the same');
  t.same(run(raw, pod('team-a', [P]), states).denials, [], 'the granted namespace is admitted');
  const shared = run({ rewrite: { mode: 'enforce' }, registries: { 'ghcr.io': { shareWith: ['team-*'] } } }, pod('team-b', [P]), states);
  t.same(shared.denials, [], 'shareWith admits');
  t.equal(shared.images[0]!.image, `${M}/ghcr.io/acme/private:1.0`);
});

t.test('public images are everyone\'s; unknown access is checked first where ferry has credentials', async (t) => {
  const creds = { registries: { 'docker.io': { username: 'u', password: 'p' } } };
  const pub = run(creds, pod('anyone', [PUB]), { [PUB]: view({ access: 'public' }) });
  t.equal(pub.images[0]!.image, `${M}/docker.io/library/nginx:1.27`);
  const old = run(creds, pod('anyone', [PUB]), { [PUB]: view() });
  t.equal(old.images[0]!.image, undefined, 'a record from before ferry checked: not handed out yet');
  t.match(old.warnings, [/not yet checked whether docker\.io serves it without credentials; ferry is checking now/]);
  t.same(old.enqueue, [{ ref: PUB, mirrorRef: `${M}/docker.io/library/nginx:1.27`, verify: true }], 'an anonymous probe is asked for');
  const enforce = run({ ...creds, rewrite: { mode: 'enforce' } }, pod('anyone', [PUB]), { [PUB]: view() });
  t.match(enforce.denials, [/try again in a moment/]);
  const plain = run({}, pod('anyone', [PUB]), { [PUB]: view() });
  t.equal(plain.images[0]!.image, `${M}/docker.io/library/nginx:1.27`, 'no credentials anywhere: unknown is public, as before');
});

t.test('copy requests carry the pod\'s pull secrets only where the host reads them', async (t) => {
  const first = run(FROM_PODS, pod('team-a', [P], { pullSecrets: ['regcred', 'other'] }), {});
  t.same(first.enqueue, [{ ref: P, mirrorRef: `${M}/ghcr.io/acme/private:1.0`, requester: { namespace: 'team-a', pullSecrets: ['regcred', 'other'] } }]);
  const docker = run(FROM_PODS, pod('team-a', [PUB], { pullSecrets: ['regcred'] }), {});
  t.same(docker.enqueue, [{ ref: PUB, mirrorRef: `${M}/docker.io/library/nginx:1.27` }], 'another host: no requester');
  const always = run({ ...FROM_PODS, rewrite: { mode: 'always' } }, pod('team-a', [P], { pullSecrets: ['regcred'] }), {});
  t.equal(always.images[0]!.image, undefined, 'always: not rewritten before ferry knows whether the image is private');
  t.match(always.warnings, [/ferry checks once the image is copied/]);
});

t.test("naming ferry's copy directly does not walk around isolation, whatever the mode or skip", async (t) => {
  const states = { [P]: view({ access: 'private', grantedNamespaces: 'team-a' }) };
  const copy = `${M}/ghcr.io/acme/private:1.0`;
  for (const annotations of [{}, { 'ferry.io/mode': 'off' }, { 'ferry.io/skip': 'true' }] as Record<string, string>[]) {
    const b = run(FROM_PODS, pod('team-b', [copy], { annotations, pullSecrets: ['regcred'] }), states);
    t.match(b.denials, [/is ferry's copy of ghcr\.io\/acme\/private:1\.0: .*name ghcr\.io\/acme\/private:1\.0 instead/], `denied with ${JSON.stringify(annotations)}`);
    t.equal(b.enqueue[0]?.verify, true, 'its secret is checked meanwhile');
  }
  t.same(run(FROM_PODS, pod('team-a', [copy]), states).denials, [], 'the granted namespace may name it');
  const unknown = run(FROM_PODS, pod('team-b', [copy]), { [P]: view() });
  t.match(unknown.denials, [/is ferry's copy of ghcr\.io\/acme\/private:1\.0: ferry has not yet checked whether ghcr\.io serves it without credentials; .*try again in a moment/], 'unknown access where ferry could have used credentials: not handed out unchecked either');
  t.same(unknown.enqueue, [{ ref: P, mirrorRef: copy, verify: true }], 'and the anonymous probe is asked for');
  t.same(run({}, pod('team-b', [copy]), { [P]: view() }).denials, [], 'unknown access, no credentials anywhere: every copy was anonymous');
});

t.test("ferry's copy named by digest, by tag and digest, or by a tag no record names is judged too", async (t) => {
  const states = { [P]: view({ access: 'private', grantedNamespaces: 'team-a' }) };
  const repo = `${M}/ghcr.io/acme/private`;
  const E = 'sha256:' + 'e'.repeat(64);
  for (const image of [`${repo}@${D}`, `${repo}:1.0@${D}`, `${repo}:other`, `${repo}:1.0@${E}`]) {
    for (const annotations of [{}, { 'ferry.io/skip': 'true' }] as Record<string, string>[]) {
      const b = run(FROM_PODS, pod('team-b', [image], { annotations }), states);
      t.match(b.denials, [/is ferry's copy of ghcr\.io\/acme\/private[:@].*name ghcr\.io\/acme\/private[:@]\S* instead/], `${image.slice(M.length)} ${JSON.stringify(annotations)}: denied for team-b`);
    }
  }
  const volume: ImageUse = { list: 'volumes', index: 0, name: 'data', image: `${repo}@${D}` };
  t.match(run(FROM_PODS, { namespace: 'team-b', annotations: {}, images: [volume] }, states).denials, [/image volume "data"\) is ferry's copy/], 'an image volume too');
  const pinned = run(FROM_PODS, pod('team-b', [`${repo}:1.0@${D}`], { pullSecrets: ['regcred'] }), states);
  t.same(pinned.enqueue, [{ ref: P, mirrorRef: `${repo}:1.0`, verify: true, requester: { namespace: 'team-b', pullSecrets: ['regcred'] } }], "the tag's record is the one checked");
  t.same(run(FROM_PODS, pod('team-a', [`${repo}:1.0@${D}`]), states).denials, [], 'the granted namespace: its pinned copy');
  t.equal(run(FROM_PODS, pod('team-a', [`${repo}:1.0@${E}`]), states).denials.length, 1, 'but not another digest under that tag');
  const pin = { ...FROM_PODS, rewrite: { pinDigest: true } };
  const rewritten = run(pin, pod('team-a', [P]), states).images[0]!.image!;
  t.equal(rewritten, `${repo}:1.0@${D}`);
  t.same(validatePod(pod('team-a', [rewritten]), { annotations: {} }, compilePolicy(cfg(pin)), (ref) => states[ref as keyof typeof states]).denials, [], 'the validating webhook admits the pinned rewrite');
  t.same(run({ ...FROM_PODS, registries: { 'ghcr.io': { credentialsFromPods: true, shareWith: ['team-*'] } } }, pod('team-b', [`${repo}@${D}`]), states).denials, [], 'shareWith admits');
  t.same(run({}, pod('team-b', [`${repo}@${D}`]), {}).denials, [], 'a host ferry never had credentials for: every copy was anonymous, left alone');
  const digestRecord = { [`ghcr.io/acme/private@${D}`]: view({ access: 'public' }) };
  t.same(run(FROM_PODS, pod('team-b', [`${repo}@${D}`]), digestRecord).denials, [], "a digest's own record decides");
});

t.test('the upstream host in another case is the same host, record and mirror path', async (t) => {
  const states = { [P]: view({ access: 'private', grantedNamespaces: 'team-a' }) };
  for (const image of ['GHCR.IO/acme/private:1.0', 'Ghcr.io/acme/private:1.0']) {
    for (const mode of ['always', 'mirrored', 'enforce']) {
      const b = run({ ...FROM_PODS, rewrite: { mode } }, pod('team-b', [image]), states);
      t.equal(b.images[0]!.image, undefined, `${image}, ${mode}: team-b is not rewritten to ferry's copy of ${P}`);
      t.equal(b.images[0]!.ref, P, 'judged as the record it shares a mirror path with');
    }
    t.equal(run({ ...FROM_PODS, rewrite: { mode: 'always' } }, pod('team-a', [image]), states).images[0]!.image, `${M}/ghcr.io/acme/private:1.0`, 'team-a is');
  }
  const fresh = run({ ...FROM_PODS, rewrite: { mode: 'always' } }, pod('team-b', ['GHCR.IO/acme/new:1']), {});
  t.equal(fresh.images[0]!.image, undefined, "ghcr.io's settings apply: not rewritten before ferry knows whether it is private");
  t.same(fresh.enqueue, [{ ref: 'ghcr.io/acme/new:1', mirrorRef: `${M}/ghcr.io/acme/new:1` }], 'queued under the one name');
});
