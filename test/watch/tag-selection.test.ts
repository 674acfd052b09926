/**
 * Tag selection as argocd-image-updater (AIU) does it (pure, table driven).
 * The cases restate, with other data, what AIU's registry-scanner tests
 * (pkg/image/version_test.go, options_test.go, matchfunc_test.go,
 * pkg/tag/tag_test.go) and Masterminds/semver v3.4.0 (README,
 * constraints.go, constraints_test.go) establish; docs/tag-selection.md
 * explains each rule.
 */
import t from 'tap';
import { compileRange, compileTagFilter, filterTags, parseTagVersion, selectSemver, selectTag } from '../../src/watch/strategy/index.js';

type Row = [constraint: string, version: string, satisfied: boolean];

/** Does `version` satisfy `constraint` (Masterminds Check, no IncludePrerelease)? */
const rows: Record<string, Row[]> = {
  'a bare version: x.y is ~x.y, x is ~x, x.y.z is =x.y.z': [
    ['1.4', '1.4.0', true], ['1.4', '1.4.11', true], ['1.4', '1.5.0', false], ['1.4', '1.3.9', false],
    ['3', '3.0.0', true], ['3', '3.8.1', true], ['3', '4.0.0', false], ['3', '2.9.9', false],
    ['2.5.1', '2.5.1', true], ['2.5.1', '2.5.2', false], ['=2.5.1', '2.5.1', true], ['=2.5.1', '2.5.0', false],
    ['2.5.1+meta', '2.5.1', true], ['2.5.1', '2.5.1+other', true],
  ],
  'v prefixes in constraints': [['v1.4', '1.4.2', true], ['^v2', '2.3.0', true], ['>= v2.1.0', '2.0.9', false]],
  'wildcards x X *': [
    ['1.4.x', '1.4.7', true], ['1.4.x', '1.5.0', false], ['2.X', '2.9.0', true], ['2.X', '3.0.0', false], ['2.*.*', '2.1.1', true],
    ['*', '0.0.1', true], ['*', '42.0.0', true], ['x', '7.1.0', true], ['>=3.x', '3.0.0', true], ['>=3.x', '2.9.9', false],
    ['<=4.x', '4.99.0', true], ['<=4.x', '5.0.0', false], ['<4.x', '3.9.9', true], ['<4.x', '4.0.0', false],
  ],
  'comparisons, with Masterminds rules for a missing part': [
    ['>2.3.4', '2.3.5', true], ['>2.3.4', '2.3.4', false],
    ['>2.3', '2.3.9', false], ['>2.3', '2.4.0', true], ['>2', '2.9.9', false], ['>2', '3.0.0', true],
    ['<2.3', '2.2.9', true], ['<2.3', '2.3.0', false], ['<=2.3', '2.3.9', true], ['<=2.3', '2.4.0', false], ['<=2.3.4', '2.3.5', false],
    ['>=2.3', '2.3.0', true], ['=>2.3', '2.2.0', false], ['=<2.3.4', '2.3.4', true], ['>= 2.3.4', '2.3.4', true],
  ],
  'tilde ~ and ~>': [
    ['~2.3.4', '2.3.4', true], ['~2.3.4', '2.3.10', true], ['~2.3.4', '2.3.3', false], ['~2.3.4', '2.4.0', false],
    ['~2.3', '2.3.0', true], ['~2.3', '2.4.0', false], ['~2', '2.7.0', true], ['~2', '3.0.0', false], ['~>2.3', '2.3.8', true],
    ['~0', '0.6.0', true], ['~0', '1.0.0', false], ['~*', '5.5.5', true], ['~0.0.0', '8.0.0', true],
  ],
  'caret ^, with the 0.x rules': [
    ['^2.3.4', '2.9.0', true], ['^2.3.4', '3.0.0', false], ['^2.3.4', '2.3.3', false], ['^2.3', '2.3.0', true], ['^2', '2.99.1', true],
    ['^0.4.2', '0.4.9', true], ['^0.4.2', '0.5.0', false], ['^0.4.2', '0.4.1', false], ['^0.4', '0.4.0', true], ['^0.4', '0.5.0', false],
    ['^0.0.6', '0.0.6', true], ['^0.0.6', '0.0.7', false], ['^0.0', '0.0.9', true], ['^0.0', '0.1.0', false],
    ['^0', '0.9.9', true], ['^0', '1.0.0', false],
    // Masterminds' code (not its comment) makes `^*` match 0.0.0 only; `*` is "any".
    ['^*', '0.0.0', true], ['^*', '1.0.0', false],
  ],
  'not equal !=': [
    ['!=2.3.4', '2.3.4', false], ['!=2.3.4', '2.3.5', true], ['!=2.3', '2.3.7', false], ['!=2.3', '2.4.0', true],
    ['!=2.x', '2.8.0', false], ['!=2.x', '3.0.0', true],
  ],
  'AND with comma or space, OR with ||': [
    ['>=1.5, <2', '1.9.9', true], ['>=1.5, <2', '2.0.0', false], ['>=1.5 <2', '1.4.9', false], ['>= 1.5 , < 2', '1.5.0', true],
    ['>=1.0, !=1.3.0', '1.3.0', false], ['>=1.0, !=1.3.0', '1.4.0', true],
    ['~1.5 || ^3', '1.5.3', true], ['~1.5 || ^3', '3.4.0', true], ['~1.5 || ^3', '2.0.0', false],
    ['>=1.5 <1.6 || >=2.0.0', '2.5.0', true], ['1.4 2.0', '1.4.0', false],
  ],
  'hyphen ranges (spaces around the hyphen)': [
    ['1.4 - 1.6.2', '1.4.0', true], ['1.4 - 1.6.2', '1.6.2', true], ['1.4 - 1.6.2', '1.6.3', false], ['1.4 - 1.6.2', '1.3.9', false],
    ['3.1.4 - 5.2', '5.2.9', true], ['3.1.4 - 5.2', '5.3.0', false], ['2 - 3', '3.9.0', true], ['2 - 3', '4.0.0', false],
    // Without spaces it is ONE version, 1.4.0 with prerelease `1.6.2`, read as ~1.4.
    ['1.4-1.6.2', '1.4.5', true], ['1.4-1.6.2', '1.6.2', false],
  ],
  'prereleases: only when the AND group names one': [
    ['>=2.3.4', '2.3.5-rc.1', false], ['*', '3.0.0-beta', false], ['^2', '2.4.0-alpha', false],
    ['>=2.3.4-0', '2.3.5-rc.1', true], ['>=2.3.4-0', '4.0.0-beta.2', true], // npm would accept 2.3.4-x only
    ['*-0', '0.1.0-dev', true], ['^2.3.4-0', '2.8.0-rc.3', true], ['~2.3-0', '2.3.9-pre', true],
    ['>=2.3.4-0, <3', '2.9.0-rc.1', true], ['>=2.3.4-0, <3', '3.0.0-rc.1', true], ['>=2.3.4-0, <3.0.0-0', '3.0.0-rc.1', false], ['<3 || >=4.0.0-0', '2.5.0-rc.1', false], ['<3 || >=4.0.0-0', '4.2.0-rc.1', true],
    ['>=2.3.4-beta', '2.3.4-alpha', false], ['>=2.3.4-BETA', '2.3.4-alpha', true], // ASCII order: upper case first
    ['2.3.4-rc.2', '2.3.4-rc.2', true], ['>2.3.4-rc.2', '2.3.4-rc.10', true], ['>2.3.4-rc.2', '2.3.4', true],
  ],
};

t.test('constraints (Masterminds semantics)', async (t) => {
  for (const [group, list] of Object.entries(rows)) {
    for (const [c, v, want] of list) {
      const version = parseTagVersion(v)?.version;
      t.ok(version, `${v} parses`);
      t.equal(compileRange(c, false).test(version!), want, `${group}: "${c}" ${want ? 'accepts' : 'rejects'} ${v}`);
    }
  }
});

t.test('prerelease: true (ferry extra) includes prereleases everywhere', async (t) => {
  for (const [c, v, want] of [['^2', '2.4.0-alpha', true], ['*', '9.0.0-rc.1', true], ['~2.3', '2.4.0-rc.1', false], ['2.3.4', '2.3.4-rc.1', false]] as Row[]) {
    t.equal(compileRange(c, true).test(parseTagVersion(v)!.version), want, `"${c}" + prerelease: ${v}`);
  }
});

t.test('constraints that are not constraints', async (t) => {
  for (const bad of ['latest', 'stable', '1.2.3.4', '>>1', '1.2 ||', '|| 1.2', '>=1.2.3<2', '~1.2.3-01', 'v', '1.x-', '>= 1.2 - 2', 'one']) {
    t.throws(() => compileRange(bad, false), { code: 'FERRY_ERR_WATCH_CONSTRAINT' }, JSON.stringify(bad));
  }
  for (const none of [undefined, '', '  ']) t.equal(compileRange(none, false).raw, '*', `${JSON.stringify(none)} means any release`);
});

t.test('which tags are versions (Masterminds NewVersion, non-strict)', async (t) => {
  const versions: [string, string][] = [
    ['v3.1.4', '3.1.4'], ['3.1', '3.1.0'], ['3', '3.0.0'], ['v3', '3.0.0'], ['3.1.4-rc.1', '3.1.4-rc.1'], ['3.1.4+build.9', '3.1.4'],
    ['3.1-alpine', '3.1.0-alpine'], ['3-slim', '3.0.0-slim'], ['03.01.04', '3.1.4'], ['2025.06', '2025.6.0'], ['1.0.0-0a', '1.0.0-0a'],
  ];
  for (const [tag, want] of versions) t.equal(parseTagVersion(tag)?.version.version, want, `${tag} is ${want}`);
  for (const tag of ['3.1.4.1', 'V3.1.4', 'latest', 'stable', 'v', 'vv3', '3.1.', '.3', '3..1', 'x3.1.4', '3.1.4-01', '3.1.4-', '3.1.4+', '3.1.4-a..b', 'sha-3f2a', '3.1.4_1', '99999999999999999999']) {
    t.equal(parseTagVersion(tag), undefined, `${tag} is not a version`);
  }
});

t.test('selection (AIU GetNewestVersionFromTags)', async (t) => {
  const list = ['0.2', '0.6.1', '0.8', '3.0', '3.0.4', '3.2.1', '4.1.0', 'latest'];
  const cases: { name: string; tags: string[]; constraint?: string; prerelease?: boolean; want: string | undefined }[] = [
    { name: 'no constraint: the highest version', tags: list, want: '4.1.0' },
    { name: 'caret on the major', tags: list, constraint: '^3.0', want: '3.2.1' },
    { name: 'tilde on the minor', tags: list, constraint: '~3.0', want: '3.0.4' },
    { name: 'bare x.y is tilde', tags: list, constraint: '3.0', want: '3.0.4' },
    { name: 'bare x is the major', tags: list, constraint: '3', want: '3.2.1' },
    { name: 'bare x.y.z is exact, and the tag 3.0 is 3.0.0', tags: list, constraint: '3.0.0', want: '3.0' },
    { name: 'nothing matches', tags: ['0.2', '0.6.1', '4.1.0'], constraint: '~3.0', want: undefined },
    { name: 'no version tags at all', tags: ['zz', 'bb', 'latest'], want: undefined },
    { name: 'empty list', tags: [], constraint: '^1', want: undefined },
    { name: 'no constraint leaves out prereleases', tags: ['v3.1.0', 'v3.2.0-rc.0.7.gabc1234-arm64'], want: 'v3.1.0' },
    { name: '-0 opts into prereleases of any later version', tags: ['1.4.0', '2.0.0-rc.1'], constraint: '>=1.2.3-0', want: '2.0.0-rc.1' },
    { name: 'a release beats its prerelease', tags: ['2.1.0-rc.1', '2.1.0'], constraint: '>=2.0.0-0', want: '2.1.0' },
    { name: 'prerelease order is numeric per part', tags: ['5.0.0-rc.2', '5.0.0-rc.10', '5.0.0-beta.11'], constraint: '^5.0.0-0', want: '5.0.0-rc.10' },
    { name: 'numeric, not string, order', tags: ['1.9.0', '1.10.0', '1.2.0'], want: '1.10.0' },
    { name: 'x.y-variant is a prerelease, left out', tags: ['1.3-alpine', '1.2'], constraint: '^1', want: '1.2' },
    { name: 'x.y-variant with -0', tags: ['1.3-alpine', '1.2'], constraint: '>=1.0.0-0', want: '1.3-alpine' },
    { name: 'x.y-variant with prerelease: true', tags: ['1.3-alpine', '1.2'], constraint: '^1', prerelease: true, want: '1.3-alpine' },
    { name: 'four parts never', tags: ['7.0.0.1', '6.5.0'], want: '6.5.0' },
    { name: 'four parts alone: nothing', tags: ['7.0.0.1'], want: undefined },
    { name: 'leading zeros are versions', tags: ['010.0.0', '9.9.9'], want: '010.0.0' },
    { name: 'mixed v and plain: by version', tags: ['v2.3.1', '2.4.0', 'v2.3.9'], constraint: '~2.3', want: 'v2.3.9' },
    // Ties: equal versions are ordered by the tag string, the last one wins.
    { name: 'tie: v3.1.0 > 3.1.0 > 3.1', tags: ['3.1', '3.1.0', 'v3.1.0', 'v3.1'], want: 'v3.1.0' },
    { name: 'tie: 3.1.0 > 3.1', tags: ['3.1.0', '3.1'], want: '3.1.0' },
    { name: 'tie: build metadata is ignored, the later string wins', tags: ['3.1.0+b2', '3.1.0+b10', '3.1.0'], want: '3.1.0+b2' },
    { name: 'tie: 3.1.0 > 03.1.0', tags: ['3.1.0', '03.1.0'], want: '3.1.0' },
  ];
  for (const c of cases) {
    const got = selectSemver(c.tags, { constraint: c.constraint, prerelease: c.prerelease });
    t.equal(got.tag, c.want, `${c.name}: ${got.reason}`);
  }
  t.throws(() => selectSemver(['1.0.0'], { constraint: 'latest' }), { code: 'FERRY_ERR_WATCH_CONSTRAINT' }, 'an invalid constraint is an error, not "nothing"');
  // AIU's sort test, other data: ascending order through the tie rule.
  const sorted = ['v4.0.2', 'v3.1', 'v4.0.0', 'v3.1.1', 'v4.0.3', 'v4.0'].map((s) => parseTagVersion(s)!);
  const { compareTagVersions } = await import('../../src/watch/strategy/index.js');
  t.same(sorted.sort(compareTagVersions).map((v) => v.tag), ['v3.1', 'v3.1.1', 'v4.0', 'v4.0.0', 'v4.0.2', 'v4.0.3']);
});

t.test('allowTags: any, regexp:, and the JavaScript form', async (t) => {
  const tags = ['citrus', '2718', 'v1.0.0', 'v1.1.0-rc1', '1.2.0', 'LTS-2', 'lts-3'];
  const rowsAllow: [allowTags: string, kept: string[]][] = [
    ['any', tags],
    ['ANY', tags],
    ['regexp:[a-z]+', ['citrus', 'v1.0.0', 'v1.1.0-rc1', 'lts-3']],
    ['RegExp:^v\\d', ['v1.0.0', 'v1.1.0-rc1']],
    ['regexp:rc', ['v1.1.0-rc1']], // unanchored, like Go's MatchString
    ['regexp:^\\d+\\.\\d+\\.\\d+$', ['1.2.0']],
    ['regexp:(?i)^lts-', ['LTS-2', 'lts-3']], // an RE2 flag group
    ['^v1\\.', ['v1.0.0', 'v1.1.0-rc1']], // no prefix: ferry's JavaScript regular expression
  ];
  for (const [allowTags, kept] of rowsAllow) t.same(filterTags(tags, { allowTags }), kept, `allowTags ${allowTags}`);
  for (const bad of ['regexp:[a-z', '(', 'regexp:(?i)(']) t.throws(() => compileTagFilter({ allowTags: bad }), { code: 'FERRY_ERR_WATCH_ALLOW_TAGS' }, bad);
});

t.test('ignoreTags: globs over the whole tag (Go filepath.Match agrees on these)', async (t) => {
  const rowsIgnore: [glob: string, tag: string, ignored: boolean][] = [
    ['nightly', 'nightly', true], ['nightly', 'nightly-2', false], ['night', 'nightly', false],
    ['build?', 'build7', true], ['build?', 'build17', false], ['build?', 'build', false],
    ['*-rc*', '1.0.0-rc1', true], ['*-rc*', '1.0.0', false], ['*', 'anything.at-all', true], ['*', '.hidden', true],
    ['[0-9]*', '7-slim', true], ['[0-9]*', 'v7', false], ['[^0-9]*', 'v7', true], ['[^0-9]*', '7', false],
    ['1.2.*', '1.2.9', true], ['1.2.*', '1.20.0', false], ['sha-????', 'sha-3f2a', true], ['sha-????', 'sha-3f2ab', false],
    ['\\[x\\]', '[x]', true], ['[!0-9]*', '7', true], ['[!0-9]*', 'v7', false], // `!` is no negation, as in Go
  ];
  for (const [glob, tag, ignored] of rowsIgnore) t.equal(compileTagFilter({ ignoreTags: [glob] })(tag), !ignored, `${glob} ${ignored ? 'drops' : 'keeps'} ${tag}`);
  t.equal(compileTagFilter({ ignoreTags: ['x', 'y?'] })('y1'), false, 'a tag matching any glob is dropped');
});

t.test('filters, then the strategy', async (t) => {
  const tags = ['1.0.0', '1.1.0', '1.2.0-alpine', '1.2.0', '2.0.0', 'latest', 'sha-abc'];
  t.equal(selectTag({ strategy: 'semver', tags, allowTags: 'regexp:^1\\.' }).tag, '1.2.0');
  t.equal(selectTag({ strategy: 'semver', tags, ignoreTags: ['2.*', '1.2.0'], constraint: '>=1.0.0-0' }).tag, '1.2.0-alpine');
  t.equal(selectTag({ strategy: 'semver', tags, allowTags: 'any', constraint: '1.1' }).tag, '1.1.0');
  t.equal(selectTag({ strategy: 'digest', tag: 'latest', allowTags: 'any' }).tag, 'latest');
  t.equal(selectTag({ strategy: 'digest', tag: 'latest', allowTags: 'regexp:^\\d' }).tag, undefined);
  t.equal(selectTag({ strategy: 'alphabetical', tags, allowTags: 'regexp:^sha-|^latest$' }).tag, 'sha-abc');
});
