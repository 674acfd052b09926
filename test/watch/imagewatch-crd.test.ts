// The ImageWatch CRD: generated from the config schema's watch entry (one source
// of truth), committed in deploy/crds/, and structural as the API server wants it.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { CONFIG_SCHEMA } from '../../src/config/index.js';
import { CRD_FILE, generateCrdYaml } from '../../src/watch/image-watch-crd-gen.js';
import { imageWatchCrd } from '../../src/watch/image-watch-crd.js';

type Any = any;

t.test('the committed CRD is what the generator builds (else: npm run gen:crd)', async (t) => {
  t.ok(readFileSync(CRD_FILE, 'utf8') === generateCrdYaml(), 'deploy/crds/imagewatches.ferry.io.yaml is out of date with src/config/schema.ts: run `npm run gen:crd` and commit the result');
});

t.test('the spec has every field of a watch entry but id, with the same rules', async (t) => {
  const entry = (CONFIG_SCHEMA as Any).properties.watch.items;
  const crd = parse(generateCrdYaml()) as Any;
  const version = crd.spec.versions[0];
  const spec = version.schema.openAPIV3Schema.properties.spec;
  t.same(Object.keys(spec.properties).sort(), Object.keys(entry.properties).filter((k: string) => k !== 'id').sort());
  t.same(spec.required, entry.required);
  t.same(spec.properties.strategy.enum, entry.properties.strategy.enum);
  t.equal(spec.properties.alias.pattern, entry.properties.alias.pattern);
  t.equal(spec.properties.keep.minimum, entry.properties.keep.minimum);
  t.same(version.subresources, { status: {} }, 'status subresource');
  t.match(crd.spec.names, { kind: 'ImageWatch', plural: 'imagewatches', shortNames: ['iw'], categories: ['ferry'] });
  t.equal(crd.spec.scope, 'Namespaced');
  t.same(
    version.additionalPrinterColumns.map((c: Any) => c.name),
    ['Image', 'Strategy', 'Selected', 'Digest', 'Last Poll', 'Ready', 'Age'],
  );
});

t.test('structural: every node typed, no additionalProperties beside properties', async (t) => {
  const problems: string[] = [];
  const walk = (n: Any, at: string): void => {
    if (n['x-kubernetes-preserve-unknown-fields'] !== true && !n.type) problems.push(`${at}: no type`);
    if (n.properties && 'additionalProperties' in n) problems.push(`${at}: additionalProperties beside properties`);
    for (const [k, v] of Object.entries(n.properties ?? {})) walk(v, `${at}.${k}`);
    if (n.items) walk(n.items, `${at}[]`);
  };
  walk((imageWatchCrd() as Any).spec.versions[0].schema.openAPIV3Schema, '');
  t.same(problems, []);
});
