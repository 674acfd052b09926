// `ferry check-config --resources FILE...`: ImageWatch manifests checked by the
// rules the watch role applies, every problem named with its file and document.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, runFerry } from './support/ferry-process.js';

const env = cleanEnv({ NO_COLOR: '1' });

const GOOD = `apiVersion: ferry.io/v1alpha1
kind: ImageWatch
metadata:
  name: nginx
  namespace: team-a
spec:
  image: docker.io/library/nginx
  strategy: semver
  constraint: "~1.27"
  schedule: "*/15 * * * *"
  alias: stable
`;

t.test('valid manifests pass; other kinds and empty documents are skipped', async (t) => {
  const dir = t.testdir({
    'good.yaml': `${GOOD}---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n---\n`,
  });
  const r = await runFerry(['check-config', '--resources', join(dir, 'good.yaml')], env);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, '', 'no config printed');
  t.match(r.stderr, /1 ImageWatch object checked, 1 document of other kinds skipped: all valid/);
});

t.test('every problem, with file and document, and a non-zero exit', async (t) => {
  const dir = t.testdir({});
  const bad = join(dir, 'bad.yaml');
  writeFileSync(
    bad,
    [
      GOOD,
      // document 2: spec problems of several kinds
      `apiVersion: ferry.io/v1alpha1\nkind: ImageWatch\nmetadata: { name: broken, namespace: ops }\nspec:\n  id: mine\n  image: docker.io/library/redis\n  strategy: sometimes\n  schedule: "61 * * * *"\n  colour: blue\n`,
      // document 3: a misspelt kind in ferry's group is not skipped
      `apiVersion: ferry.io/v1alpha1\nkind: ImageWach\nmetadata: { name: typo }\nspec: { image: a.io/b, strategy: digest, schedule: "@daily" }\n`,
      // document 4: no name, no spec
      `apiVersion: ferry.io/v1alpha1\nkind: ImageWatch\nmetadata: {}\n`,
      // document 5: semver range the strategy cannot compile
      `apiVersion: ferry.io/v1alpha1\nkind: ImageWatch\nmetadata: { name: range }\nspec: { image: a.io/b, strategy: semver, constraint: ">>=1 what", schedule: "@hourly" }\n`,
    ].join('---\n'),
  );
  const other = join(dir, 'other.yaml');
  writeFileSync(other, 'a: [unclosed\n');
  const r = await runFerry(['check-config', '-f', bad, '-f', other, '-f', join(dir, 'missing.yaml')], env);
  t.equal(r.code, 1);
  const lines = r.stderr.trim().split('\n');
  const about = (doc: number) => lines.filter((l) => l.startsWith(`${bad}: document ${doc}`));
  t.same(about(1), [], 'the valid document has no problem');
  const two = about(2).join('\n');
  t.match(two, /document 2 \(ImageWatch ops\/broken\): spec\.id is not a field of an ImageWatch: its id is <namespace>\.<name> \("ops\.broken"\)/);
  t.match(two, /spec\.strategy: must be one of digest, semver, newest, alphabetical/);
  t.match(two, /spec: unknown key "colour"/);
  t.match(about(3).join('\n'), /kind must be ImageWatch, got "ImageWach"/);
  t.match(about(4).join('\n'), /metadata\.name is required/);
  t.match(about(4).join('\n'), /spec is required/);
  t.match(about(5).join('\n'), /document 5 \(ImageWatch default\/range\): spec/);
  t.ok(lines.some((l) => l.startsWith(`${other}: document 1: YAML:`)), 'a YAML error names its file and document');
  t.ok(lines.some((l) => l.startsWith(`${join(dir, 'missing.yaml')}: cannot read`)), 'an unreadable file is a problem');
  t.match(lines.at(-1), /5 ImageWatch objects checked: 6 with problems/);
});

t.test('no files is a usage error', async (t) => {
  const r = await runFerry(['check-config', '--resources'], env);
  t.equal(r.code, 2);
  t.match(r.stderr, /takes YAML files/);
});
