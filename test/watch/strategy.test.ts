import t from 'tap';
import {
  compileTagFilter,
  detectChange,
  filterTags,
  parseTagVersion,
  selectAlphabetical,
  selectNewest,
  selectSemver,
  selectTag,
  type SelectInput,
} from '../../src/watch/strategy/index.js';

t.test('semver selection (table)', async (t) => {
  const cases: { name: string; tags: string[]; constraint?: string; prerelease?: boolean; want: string | undefined }[] = [
    { name: 'highest in a caret range', tags: ['1.26.0', '1.27.0', '1.27.3', '1.28.0', '2.0.0'], constraint: '^1.27', want: '1.28.0' },
    { name: 'tilde stays in the minor', tags: ['1.27.0', '1.27.3', '1.28.0'], constraint: '~1.27.0', want: '1.27.3' },
    { name: 'compound range', tags: ['1.2.0', '1.9.9', '2.0.0'], constraint: '>=1.2 <2', want: '1.9.9' },
    { name: 'numeric, not string order', tags: ['1.9.0', '1.10.0', '1.2.0'], constraint: '^1', want: '1.10.0' },
    { name: 'no constraint = any version', tags: ['0.1.0', '3.0.0', 'latest'], want: '3.0.0' },
    { name: 'nothing satisfies', tags: ['1.0.0', '1.1.0'], constraint: '^2', want: undefined },
    { name: 'prereleases excluded by default', tags: ['1.0.0', '1.1.0-rc.1', '2.0.0-beta.1'], constraint: '*', want: '1.0.0' },
    // Masterminds (argocd-image-updater): a constraint naming a prerelease lets prereleases in (npm semver did not here).
    { name: 'a range naming a prerelease includes prereleases', tags: ['1.1.0-rc.1', '1.0.0'], constraint: '>=1.1.0-rc.0', want: '1.1.0-rc.1' },
    { name: 'prerelease: true includes them', tags: ['1.0.0', '1.1.0-rc.1'], constraint: '^1', prerelease: true, want: '1.1.0-rc.1' },
    { name: 'prerelease: true still prefers the release', tags: ['1.1.0', '1.1.0-rc.1'], constraint: '^1', prerelease: true, want: '1.1.0' },
    { name: 'prerelease ordering', tags: ['2.0.0-rc.2', '2.0.0-rc.10', '2.0.0-beta.9'], constraint: '^2.0.0-0', prerelease: true, want: '2.0.0-rc.10' },
    { name: 'v prefix', tags: ['v1.2.3', 'v1.10.0', 'v2.0.0'], constraint: '^1', want: 'v1.10.0' },
    { name: 'mixed v and plain', tags: ['v1.2.3', '1.3.0'], constraint: '^1', want: '1.3.0' },
    { name: '1.2 style is 1.2.0', tags: ['1.2', '1.3', '1.10', '2'], constraint: '^1', want: '1.10' },
    { name: 'single number is N.0.0', tags: ['1', '2', '3'], constraint: '<3', want: '2' },
    { name: '1.2 loses to 1.2.1', tags: ['1.2', '1.2.1'], constraint: '~1.2', want: '1.2.1' },
    { name: 'tie 1.2 / 1.2.0: the later string wins (AIU)', tags: ['1.2', '1.2.0'], constraint: '^1', want: '1.2.0' },
    { name: 'tie 1.2.0 / v1.2.0: the later string wins (AIU)', tags: ['1.2.0', 'v1.2.0'], constraint: '^1', want: 'v1.2.0' },
    { name: 'x.y-variant is a prerelease, latest/stable are not versions', tags: ['1.2-alpine', '1.1', 'latest', 'stable'], constraint: '^1', want: '1.1' },
    { name: 'four parts are not versions', tags: ['1.2.3.4', '1.2.3'], constraint: '^1', want: '1.2.3' },
    { name: 'leading zeros are versions (Masterminds NewVersion)', tags: ['01.2.3', '1.02', '1.0.0'], constraint: '*', want: '01.2.3' },
    { name: 'x.y.z-variant is a prerelease', tags: ['1.2.3-alpine', '1.2.2'], constraint: '^1', want: '1.2.2' },
    { name: 'x.y.z-variant with prerelease: true', tags: ['1.2.3-alpine', '1.2.2'], constraint: '^1', prerelease: true, want: '1.2.3-alpine' },
    { name: 'empty list', tags: [], constraint: '^1', want: undefined },
  ];
  for (const c of cases) {
    const got = selectSemver(c.tags, { constraint: c.constraint, prerelease: c.prerelease });
    t.equal(got.tag, c.want, `${c.name}: ${got.reason}`);
  }
  t.throws(() => selectSemver(['1.0.0'], { constraint: 'not a range' }), { code: 'FERRY_ERR_WATCH_CONSTRAINT' });
});

t.test('parseTagVersion', async (t) => {
  t.match(parseTagVersion('v1.2'), { parts: 2, vPrefix: true, version: { version: '1.2.0' } });
  t.match(parseTagVersion('v3'), { parts: 1, vPrefix: true, version: { version: '3.0.0' } });
  t.match(parseTagVersion('1.2-alpine'), { parts: 2, version: { version: '1.2.0-alpine' } });
  t.match(parseTagVersion('1.2.3-rc.1'), { parts: 3, version: { version: '1.2.3-rc.1' } });
  for (const s of ['latest', 'v', 'vv1.2.3', '1.2.', '.1', 'V3', '1..2', 'x1.2.3', '1.2.3.4']) t.equal(parseTagVersion(s), undefined, s);
});

t.test('allowTags regex and ignoreTags globs (every strategy)', async (t) => {
  const tags = ['1.0.0', '1.1.0', '1.2.0-alpine', '1.2.0', 'latest', 'sha-abc123', '2.0.0'];
  t.same(filterTags(tags, { allowTags: '^\\d+\\.\\d+\\.\\d+$' }), ['1.0.0', '1.1.0', '1.2.0', '2.0.0']);
  t.same(filterTags(tags, { ignoreTags: ['sha-*', 'latest', '*-alpine'] }), ['1.0.0', '1.1.0', '1.2.0', '2.0.0']);
  t.same(filterTags(tags, { allowTags: '^1\\.', ignoreTags: ['1.2.*'] }), ['1.0.0', '1.1.0']);
  t.same(filterTags(tags, { allowTags: 'alpine' }), ['1.2.0-alpine'], 'unanchored: a match anywhere in the tag');
  t.throws(() => compileTagFilter({ allowTags: '(' }), { code: 'FERRY_ERR_WATCH_ALLOW_TAGS' });

  const rows: { name: string; input: SelectInput; want: string | undefined }[] = [
    { name: 'semver + ignore', input: { strategy: 'semver', constraint: '*', tags: ['1.0.0', '2.0.0'], ignoreTags: ['2.*'] }, want: '1.0.0' },
    { name: 'semver + allow', input: { strategy: 'semver', constraint: '*', tags: ['1.0.0', '2.0.0-alpine', '2.0.0'], allowTags: '^1' }, want: '1.0.0' },
    { name: 'alphabetical + allow', input: { strategy: 'alphabetical', tags: ['2024-01-01', '2024-06-01', 'zzz'], allowTags: '^\\d{4}-' }, want: '2024-06-01' },
    { name: 'alphabetical + ignore', input: { strategy: 'alphabetical', tags: ['a', 'b', 'c'], ignoreTags: ['c'] }, want: 'b' },
    {
      name: 'newest + ignore',
      input: { strategy: 'newest', created: [{ tag: 'a', created: '2024-01-01T00:00:00Z' }, { tag: 'nightly', created: '2025-01-01T00:00:00Z' }], ignoreTags: ['nightly'] },
      want: 'a',
    },
    { name: 'digest: the followed tag', input: { strategy: 'digest', tag: 'stable' }, want: 'stable' },
    { name: 'digest: default latest', input: { strategy: 'digest' }, want: 'latest' },
    { name: 'digest: tag filtered out', input: { strategy: 'digest', tag: 'latest', ignoreTags: ['latest'] }, want: undefined },
    { name: 'digest: allowTags must match', input: { strategy: 'digest', tag: 'main', allowTags: '^v' }, want: undefined },
  ];
  for (const r of rows) t.equal(selectTag(r.input).tag, r.want, r.name);
});

t.test('newest', async (t) => {
  const rows: { name: string; items: { tag: string; created?: string }[]; want: string | undefined }[] = [
    { name: 'latest created wins', items: [{ tag: 'a', created: '2024-01-01T00:00:00Z' }, { tag: 'b', created: '2024-03-01T00:00:00Z' }, { tag: 'c', created: '2024-02-01T00:00:00Z' }], want: 'b' },
    { name: 'time zones compared as instants', items: [{ tag: 'utc', created: '2024-01-01T10:00:00Z' }, { tag: 'plus2', created: '2024-01-01T11:00:00+02:00' }], want: 'utc' },
    { name: 'fractional seconds', items: [{ tag: 'x', created: '2024-01-01T00:00:00.100Z' }, { tag: 'y', created: '2024-01-01T00:00:00.200000000Z' }], want: 'y' },
    { name: 'undated and unparsable are skipped', items: [{ tag: 'none' }, { tag: 'bad', created: 'yesterday' }, { tag: 'ok', created: '2020-01-01T00:00:00Z' }], want: 'ok' },
    { name: 'tie: the tag that sorts last', items: [{ tag: '1.0', created: '2024-01-01T00:00:00Z' }, { tag: 'latest', created: '2024-01-01T00:00:00Z' }], want: 'latest' },
    { name: 'nothing dated', items: [{ tag: 'x' }], want: undefined },
  ];
  for (const r of rows) t.equal(selectNewest(r.items).tag, r.want, r.name);
});

t.test('alphabetical', async (t) => {
  t.equal(selectAlphabetical(['2024-01-02', '2024-01-10', '2023-12-31']).tag, '2024-01-10');
  t.equal(selectAlphabetical(['9', '10']).tag, '9', 'code-unit order, not natural order');
  t.equal(selectAlphabetical(['B', 'a']).tag, 'a', 'lowercase sorts after uppercase');
  t.equal(selectAlphabetical([]).tag, undefined);
});

t.test('change detection', async (t) => {
  const d1 = 'sha256:' + '1'.repeat(64);
  const d2 = 'sha256:' + '2'.repeat(64);
  t.equal(detectChange(undefined, { tag: 'a', digest: d1 }), 'initial');
  t.equal(detectChange(null, { tag: 'a', digest: d1 }), 'initial');
  t.equal(detectChange({ tag: 'a', digest: d1 }, { tag: 'a', digest: d1 }), 'unchanged');
  t.equal(detectChange({ tag: 'a', digest: d1 }, { tag: 'a', digest: d2 }), 'moved');
  t.equal(detectChange({ tag: 'a', digest: d1 }, { tag: 'b', digest: d1 }), 'new-tag');
});
