/**
 * Generates validate-config.gen.ts, the config file's validator, from
 * CONFIG_SCHEMA (schema.ts) with ajv's standalone code generation: the same
 * code `new Ajv(AJV_OPTIONS).compile(CONFIG_SCHEMA)` builds at run time, built
 * once and committed, so loading the config neither loads ajv (~30 ms) nor
 * compiles the schema (~60 ms) in every process.
 *
 *   npm run gen:config-validator     (rewrites the file)
 *
 * schema.ts stays the one source of truth: test/config/validator-gen.test.ts
 * fails when the committed file is not what this generates from it. Not
 * imported at run time (only by that test and the script above).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type Options } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { CONFIG_SCHEMA } from './schema.js';

/** What load.ts compiled with before (`allErrors`: every problem at once); `code` changes only the output's form. */
export const AJV_OPTIONS: Options = { allErrors: true, strict: false };

export const GENERATED_FILE = fileURLToPath(new URL('./validate-config.gen.ts', import.meta.url)).replace(/([\\/])dist([\\/]config[\\/])/, '$1src$2');

const HEADER = `// GENERATED from CONFIG_SCHEMA (schema.ts) by validator-gen.ts: do not edit.
// Regenerate with \`npm run gen:config-validator\`; test/config/validator-gen.test.ts
// fails while this file is out of date with the schema.
// @ts-nocheck
/* eslint-disable */
import { createRequire } from 'node:module';
// ajv's runtime helpers (e.g. ajv/dist/runtime/ucs2length for minLength) are
// required by the generated code; they are small files, not ajv itself.
const require = createRequire(import.meta.url);
`;

/** The module text validate-config.gen.ts must hold. */
export function generateValidatorSource(): string {
  const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true, esm: true, lines: true } });
  const validate = ajv.compile(CONFIG_SCHEMA);
  // the CommonJS module.exports is the function, and also carries it as .default (what the types declare)
  return `${HEADER}${standaloneCode.default(ajv, validate)}\n`;
}

const invokedDirectly = process.argv[1] && /validator-gen\.(ts|js)$/.test(process.argv[1]);
if (invokedDirectly) {
  writeFileSync(GENERATED_FILE, generateValidatorSource());
  process.stdout.write(`wrote ${GENERATED_FILE}\n`);
}
