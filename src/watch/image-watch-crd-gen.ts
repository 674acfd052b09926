/**
 * Writes deploy/crds/imagewatches.ferry.io.yaml from imageWatchCrd()
 * (image-watch-crd.ts), itself built from the config schema's `watch:` entry.
 *
 *   npm run gen:crd     (rewrites the file)
 *
 * test/watch/imagewatch-crd.test.ts fails when the committed file is not
 * what this generates. Not imported at run time (only by that test and the
 * script above).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { imageWatchCrd } from './image-watch-crd.js';

export const CRD_FILE = fileURLToPath(new URL('../../deploy/crds/imagewatches.ferry.io.yaml', import.meta.url));

const HEADER = `# GENERATED from the config schema's watch entry (src/config/schema.ts) by
# src/watch/image-watch-crd-gen.ts: do not edit. Regenerate with \`npm run gen:crd\`;
# test/watch/imagewatch-crd.test.ts fails while this file is out of date.
# The ImageWatch resource: docs/imagewatch.md.
`;

/** The text deploy/crds/imagewatches.ferry.io.yaml must hold. */
export function generateCrdYaml(): string {
  return HEADER + stringify(imageWatchCrd(), { lineWidth: 0 });
}

const invokedDirectly = process.argv[1] && /image-watch-crd-gen\.(ts|js)$/.test(process.argv[1]);
if (invokedDirectly) {
  mkdirSync(dirname(CRD_FILE), { recursive: true });
  writeFileSync(CRD_FILE, generateCrdYaml());
  process.stdout.write(`wrote ${CRD_FILE}\n`);
}
