/** copy.platformMode decisions (src/registry/sparse-index.ts): pure, no processes. */
import t from 'tap';
import { FerryError } from '../../src/errors.js';
import { choosePlatformMode, refusesSparseIndex, registryError } from '../../src/registry/index.js';

t.test('choosePlatformMode: what a copy tries first and falls back to', async (t) => {
  // [mode, pinned, mirror accepts sparse?, first, if refused]
  const table: [string, boolean, boolean | undefined, string, string][] = [
    ['full', false, undefined, 'full', 'full'],
    ['full', true, true, 'full', 'full'],
    ['strip', true, undefined, 'strip', 'strip'],
    ['strip', false, true, 'strip', 'strip'],
    ['sparse', false, undefined, 'sparse', 'full'],
    ['sparse', false, true, 'sparse', 'full'],
    ['sparse', false, false, 'full', 'full'],
    ['auto', false, undefined, 'sparse', 'strip'],
    ['auto', true, undefined, 'sparse', 'full'],
    ['auto', false, true, 'sparse', 'strip'],
    ['auto', false, false, 'strip', 'strip'],
    ['auto', true, false, 'full', 'full'],
  ];
  for (const [mode, pinned, accepts, first, ifRefused] of table) {
    const c = choosePlatformMode(mode as 'auto', pinned, accepts);
    t.same({ first: c.first, ifRefused: c.ifRefused }, { first, ifRefused }, `${mode}, ${pinned ? 'digest' : 'tag'}, accepts=${accepts}`);
    t.equal(c.accepts, accepts);
  }
});

t.test('refusesSparseIndex: only a permanent refusal of the index itself', async (t) => {
  const http = (status: number, codes: string[]) => registryError('MANIFEST_INVALID', 'refused', { host: 'm', details: { status, registryCodes: codes } });
  t.ok(refusesSparseIndex(http(400, ['MANIFEST_BLOB_UNKNOWN'])), 'docker-registry 2.8');
  t.ok(refusesSparseIndex(http(404, ['MANIFEST_UNKNOWN'])));
  t.ok(refusesSparseIndex(http(400, [])), 'a 400 without codes');
  t.notOk(refusesSparseIndex(http(400, ['DENIED'])), 'another reason');
  t.notOk(refusesSparseIndex(http(401, ['UNAUTHORIZED'])));
  t.notOk(refusesSparseIndex(registryError('SERVER', 'boom', { host: 'm', details: { status: 400 } })), 'transient errors are retried, not remembered');
  t.notOk(refusesSparseIndex(new Error('plain')));
  t.notOk(refusesSparseIndex(new FerryError('X', 'no details')));
});
