/**
 * The YAML block under "## Config reference" in README.md is the documented
 * set of defaults: it must be DEFAULTS (src/config/defaults.ts), every key
 * and value, so neither can change without the other.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse as parseYaml } from 'yaml';
import { DEFAULTS } from '../../src/config/defaults.js';

/** The first ```yaml block after the heading `## <heading>`. */
function yamlBlockUnder(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section`);
  const block = /\n```yaml\n([\s\S]*?)\n```\n/.exec(markdown.slice(start));
  if (!block) throw new Error(`no yaml block under "## ${heading}"`);
  return block[1]!;
}

t.test('README "Config reference" block = DEFAULTS, keys and values', async (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const documented: unknown = parseYaml(yamlBlockUnder(readme, 'Config reference'));
  t.strictSame(documented, DEFAULTS, 'edit src/config/defaults.ts and the README block together');
});
