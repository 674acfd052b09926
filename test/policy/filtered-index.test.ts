/**
 * A platform-filtered index pushed under a new digest (`copy.platformMode:
 * strip`): the record keeps `digest` (what the mirror serves) and
 * `sourceDigest` (the upstream's). SPEC "Supply chain": a digest-pinned pod
 * is always rewritten to a reference the mirror serves; block rules naming
 * either digest stop both.
 */
import t from 'tap';
import { resolveConfig, type FerryConfig } from '../../src/config/index.js';
import { compilePolicy, decide, validatePod, type DigestAliasLookup, type ImageUse, type PodInput } from '../../src/policy/index.js';
import type { ImageView } from '../../src/image-state/index.js';
import { DigestAliases } from '../../src/queue/digest-aliases.js';
import { handleAdmission } from '../../src/webhook/handle.js';

const M = '127.0.0.1:5000';
const UP = 'sha256:' + 'a'.repeat(64);
const NEW = 'sha256:' + 'b'.repeat(64);
const OTHER = 'sha256:' + 'c'.repeat(64);
const NGINX = 'docker.io/library/nginx';

function cfg(raw: object = {}): FerryConfig {
  return resolveConfig({ mirror: { registry: M }, ...raw }).config;
}
const STRIP = { copy: { platforms: ['linux/amd64'], platformMode: 'strip' } };
const filtered = (extra: Partial<ImageView> = {}): ImageView => ({ state: 'mirrored', digest: NEW, sourceDigest: UP, mirroredAt: '2026-01-01T00:00:00Z', blockedReason: null, ...extra });
const c = (image: string, name = 'app'): ImageUse => ({ list: 'containers', index: 0, name, image });
const pod = (images: string[], extra: Partial<PodInput> = {}): PodInput => ({ namespace: 'shop', annotations: {}, images: images.map((i, n) => c(i, `c${n}`)), ...extra });
/** What a DigestAliases built from `records` answers: what the webhook's StateView hands decide(). */
function aliasesOf(records: Record<string, ImageView>): DigestAliasLookup {
  const a = new DigestAliases();
  a.reset(Object.values(records));
  return (d) => a.of(d);
}

t.test('a digest reference mirrored as a filtered index is rewritten to the digest the mirror serves', async (t) => {
  const rows: [label: string, raw: object, image: string, records: Record<string, ImageView>, expected: string | undefined][] = [
    ['repo@UP, stripped', { ...STRIP, rewrite: { mode: 'always' } }, `nginx@${UP}`, { [`${NGINX}@${UP}`]: filtered() }, `${M}/${NGINX}@${NEW}`],
    ['repo:tag@UP, stripped', { ...STRIP, rewrite: { mode: 'always' } }, `nginx:1.27@${UP}`, { [`${NGINX}:1.27@${UP}`]: filtered() }, `${M}/${NGINX}:1.27@${NEW}`],
    ['mode mirrored, stripped', { ...STRIP, rewrite: { mode: 'mirrored' } }, `nginx@${UP}`, { [`${NGINX}@${UP}`]: filtered() }, `${M}/${NGINX}@${NEW}`],
    ['mode enforce, stripped', { ...STRIP, rewrite: { mode: 'enforce' } }, `nginx@${UP}`, { [`${NGINX}@${UP}`]: filtered() }, `${M}/${NGINX}@${NEW}`],
    ['a re-copy running: the mirror still serves the last copy', { ...STRIP, rewrite: { mode: 'always' } }, `nginx@${UP}`, { [`${NGINX}@${UP}`]: filtered({ state: 'copying' }) }, `${M}/${NGINX}@${NEW}`],
    ['digest kept (full, sparse)', { rewrite: { mode: 'always' } }, `nginx@${UP}`, { [`${NGINX}@${UP}`]: filtered({ digest: UP }) }, `${M}/${NGINX}@${UP}`],
    ['not copied yet, digest kept whatever happens', { rewrite: { mode: 'always' } }, `nginx@${UP}`, {}, `${M}/${NGINX}@${UP}`],
    ['not copied yet under strip: the digest is not known, left upstream', { ...STRIP, rewrite: { mode: 'always' } }, `nginx@${UP}`, {}, undefined],
    ['copying for the first time under strip: left upstream', { ...STRIP, rewrite: { mode: 'always' } }, `nginx@${UP}`, { [`${NGINX}@${UP}`]: filtered({ state: 'copying', digest: null, mirroredAt: null }) }, undefined],
    ['strip with every platform filters nothing', { copy: { platforms: [], platformMode: 'strip' }, rewrite: { mode: 'always' } }, `nginx@${UP}`, {}, `${M}/${NGINX}@${UP}`],
    ['a tag is never pinned without pinDigest', { ...STRIP, rewrite: { mode: 'always' } }, 'nginx:1.27', { [`${NGINX}:1.27`]: filtered() }, `${M}/${NGINX}:1.27`],
  ];
  for (const [label, raw, image, records, expected] of rows) {
    const d = decide(pod([image]), { annotations: {} }, compilePolicy(cfg(raw)), (ref) => records[ref]);
    t.equal(d.images[0]!.image, expected, label);
    t.same(d.denials, [], `${label}: not denied`);
    if (expected === undefined) t.match(d.warnings, [/left on the upstream until it is mirrored/], `${label}: says why`);
  }
});

t.test('pinDigest pins the digest the mirror serves, not the upstream one, for a filtered index', async (t) => {
  const records: Record<string, ImageView> = { [`${NGINX}:1.27`]: filtered() };
  const d = decide(pod(['nginx:1.27']), { annotations: {} }, compilePolicy(cfg({ ...STRIP, rewrite: { mode: 'always', pinDigest: true } })), (ref) => records[ref]);
  t.equal(d.images[0]!.image, `${M}/${NGINX}:1.27@${NEW}`);
  t.notMatch(d.images[0]!.image!, UP, 'the mirror does not hold the upstream index');
});

t.test("the rewrite of a stripped digest reference is ferry's copy the namespace may pull", async (t) => {
  const GH = 'ghcr.io/acme/private';
  const raw = { ...STRIP, rewrite: { mode: 'enforce' }, registries: { 'ghcr.io': { credentialsFromPods: true } } };
  const records = { [`${GH}@${UP}`]: filtered({ access: 'private', grantedNamespaces: 'shop' }) };
  const policy = compilePolicy(cfg(raw));
  const lookup = (ref: string) => records[ref as keyof typeof records];
  const aliases = aliasesOf(records);
  const rewritten = decide(pod([`${GH}@${UP}`]), { annotations: {} }, policy, lookup, aliases).images[0]!.image!;
  t.equal(rewritten, `${M}/${GH}@${NEW}`);
  t.same(validatePod(pod([rewritten]), { annotations: {} }, policy, lookup, aliases).denials, [], 'the validating webhook admits it for the granted namespace');
  const other = validatePod(pod([rewritten], { namespace: 'team-b' }), { annotations: {} }, policy, lookup, aliases);
  t.match(other.denials, [new RegExp(`ferry's copy of ${GH}@${NEW}: ferry's copy needed credentials.*name ${GH}@${UP} instead`)], 'another namespace is not, and is told the upstream name');
  t.same(
    validatePod(pod([rewritten], { namespace: 'team-b', pullSecrets: ['regcred'] }), { annotations: {} }, policy, lookup, aliases).enqueue,
    [{ ref: `${GH}@${UP}`, mirrorRef: `${M}/${GH}@${UP}`, verify: true, requester: { namespace: 'team-b', pullSecrets: ['regcred'] } }],
    "the record checked is the upstream digest's",
  );
  t.match(validatePod(pod([rewritten]), { annotations: {} }, policy, lookup).denials, [/no record of ferry's says/], 'without the alias index no record vouches for it');
  const moved = { [`${GH}@${UP}`]: filtered({ digest: OTHER, access: 'private', grantedNamespaces: 'shop' }) };
  t.equal(
    validatePod(pod([rewritten]), { annotations: {} }, policy, (ref) => moved[ref as keyof typeof moved], aliases).denials.length,
    1,
    'a record that no longer serves that digest does not vouch for it',
  );
});

t.test('block rules match the mirror digest and the upstream digest of a filtered index', async (t) => {
  const byKey = { [`${NGINX}@${UP}`]: filtered(), [`${NGINX}:1.27`]: filtered() };
  const aliases = aliasesOf(byKey);
  const rows: [label: string, image: string, rule: string, blocked: boolean, withAliases?: boolean][] = [
    ['upstream digest reference, rule names UP', `nginx@${UP}`, UP, true],
    ['upstream digest reference, rule names NEW', `nginx@${UP}`, NEW, true],
    ['tag, rule names the upstream digest', 'nginx:1.27', UP, true],
    ['tag, rule names the mirror digest', 'nginx:1.27', NEW, true],
    ['mirror named by NEW (no record under that key), rule names UP', `${M}/${NGINX}@${NEW}`, UP, true],
    ['mirror named by tag and NEW, rule names UP', `${M}/${NGINX}:2@${NEW}`, UP, true],
    ['mirror named by UP, rule names NEW', `${M}/${NGINX}@${UP}`, NEW, true],
    ['upstream named by NEW, rule names UP', `nginx@${NEW}`, UP, true],
    ['an unrelated digest', `nginx@${OTHER}`, UP, false],
    ['a rule naming another digest', `${M}/${NGINX}@${NEW}`, OTHER, false],
    ['mirror named by NEW without the alias index', `${M}/${NGINX}@${NEW}`, UP, false, false],
  ];
  for (const [label, image, digest, blocked, withAliases = true] of rows) {
    for (const mode of ['off', 'always']) {
      const policy = compilePolicy(cfg({ rewrite: { mode }, block: [{ digest, reason: 'tampered' }] }));
      const d = decide(pod([image], { annotations: { 'ferry.io/skip': 'true' } }), { annotations: {} }, policy, (ref) => byKey[ref], withAliases ? aliases : undefined);
      t.equal(d.denials.length, blocked ? 1 : 0, `${label} (${mode}, skipped)`);
      if (blocked) t.match(d.denials[0], /is blocked: tampered/);
    }
  }
});

t.test('the webhook hands the alias index to both judges', async (t) => {
  const records = { [`${NGINX}@${UP}`]: filtered() };
  const policy = compilePolicy(cfg({ rewrite: { mode: 'always' }, block: [{ digest: UP, reason: 'tampered' }] }));
  const req = (image: string) => ({ uid: 'u', operation: 'CREATE', namespace: 'shop', object: { metadata: { name: 'p' }, spec: { containers: [{ name: 'app', image }] } } });
  for (const kind of ['mutate', 'validate'] as const) {
    const deps = { policy, namespace: () => ({ annotations: {} }), lookup: (ref: string) => records[ref as keyof typeof records], aliases: aliasesOf(records) };
    const r = handleAdmission(req(`${M}/${NGINX}@${NEW}`), deps, kind);
    t.equal(r.outcome, 'denied', `${kind}: the mirror digest of a blocked upstream digest`);
    t.match(r.response.status?.message, /is blocked: tampered/);
    const { aliases: _none, ...without } = deps;
    t.not(handleAdmission(req(`${M}/${NGINX}@${NEW}`), without, kind).outcome, 'denied', `${kind}: without the index nothing names it`);
  }
});
