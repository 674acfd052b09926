/**
 * The error-code registry (fastify's test/internals/errors.test.js habit):
 * the tables, docs/errors.md and src/ agree. Every code is well formed,
 * unique, hinted and documented; every documented code exists; and no code
 * is written as a string outside the tables, so nothing is raised inline.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';
import ts from 'typescript';
import { ALL_ERROR_CODES, ERROR_AREAS, ERROR_TABLES } from '../../src/error-codes.js';
import { defineErrors, FerryError } from '../../src/errors.js';
import { errorRow, readErrorsDoc } from '../support/errors-doc.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const SRC = join(ROOT, 'src');
/** Where codes are made from an area and a kind; the one file allowed to spell the prefix. */
const CODE_MAKER = join(SRC, 'errors.ts');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(p);
    return d.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every string literal and template piece in a file: comments are not strings, so doc comments may name codes. */
function stringsIn(file: string, text = readFileSync(file, 'utf8')): { text: string; line: number }[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: { text: string; line: number }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) {
      out.push({ text: node.text, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
    }
    node.forEachChild(visit);
  };
  visit(source);
  return out;
}

t.test('every code is FERRY_ERR_<AREA>_<WHAT>, unique, with a meaning and a hint', async (t) => {
  t.ok(ALL_ERROR_CODES.length >= 80, `${ALL_ERROR_CODES.length} codes`);
  const seen = new Set<string>();
  for (const e of ALL_ERROR_CODES) {
    t.match(e.area, /^[A-Z][A-Z0-9]*$/, `${e.code}: the area is one upper-case word`);
    t.match(e.kind, /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/, `${e.code}: the kind is UPPER_SNAKE`);
    t.equal(e.code, `FERRY_ERR_${e.area}_${e.kind}`, `${e.code} is FERRY_ERR_<AREA>_<WHAT>`);
    t.notOk(seen.has(e.code), `${e.code} is defined once`);
    seen.add(e.code);
    t.ok(e.meaning.trim().length > 10, `${e.code} says what it means`);
    t.ok(e.hint.trim().length > 10, `${e.code} has a hint`);
    if (e.status !== undefined) t.ok(e.status >= 400 && e.status <= 599, `${e.code}: status ${e.status} is an HTTP error status`);
  }
});

t.test('src/error-codes.ts lists every table defined in src/', async (t) => {
  const calls = sourceFiles(SRC)
    .filter((f) => f !== CODE_MAKER)
    .flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/defineErrors\('([A-Z0-9]+)'/g)].map((m) => `${m[1]} (${relative(ROOT, f)})`));
  t.equal(calls.length, ERROR_TABLES.length, `every defineErrors call is in ERROR_TABLES: ${calls.join(', ')}`);
  t.same(new Set(calls.map((c) => c.split(' ')[0])), new Set(ERROR_AREAS), 'the same areas');
});

t.test('docs/errors.md documents exactly the registry, each code under its area with its meaning and hint', async (t) => {
  const doc = readErrorsDoc(readFileSync(join(ROOT, 'docs/errors.md'), 'utf8'));
  t.same(doc.areas, ERROR_AREAS, 'one "## AREA" section per area, in the order of src/error-codes.ts');
  const documented = new Map<string, (typeof doc.rows)[number]>();
  for (const row of doc.rows) {
    t.notOk(documented.has(row.code), `${row.code} is documented once (line ${row.line})`);
    documented.set(row.code, row);
  }
  for (const e of ALL_ERROR_CODES) {
    const row = documented.get(e.code);
    if (!row) {
      t.fail(`${e.code} is not documented: add this row under "## ${e.area}" in docs/errors.md:\n${errorRow(e)}`);
      continue;
    }
    t.equal(row.area, e.area, `${e.code} is under "## ${e.area}"`);
    const expected = `the row should read (npx tsx test/support/errors-doc.ts prints them all):\n${errorRow(e)}`;
    t.equal(row.meaning, e.meaning, `${e.code}: the meaning is the table's; ${expected}`);
    t.equal(row.hint, e.hint, `${e.code}: "what to do" is the table's hint; ${expected}`);
  }
  const known = new Set(ALL_ERROR_CODES.map((e) => e.code));
  for (const row of doc.rows) t.ok(known.has(row.code), `${row.code} (docs/errors.md:${row.line}) exists in an error table`);
});

t.test('no FERRY_ERR_ string in src/ outside the tables: codes come from a table, never inline', async (t) => {
  const inline = sourceFiles(SRC)
    .filter((f) => f !== CODE_MAKER)
    .flatMap((f) => stringsIn(f).filter((s) => s.text.includes('FERRY_ERR_')).map((s) => `${relative(ROOT, f)}:${s.line}: "${s.text}"`));
  t.same(inline, [], 'use the area table instead: TABLE.create(kind, ...), TABLE.codes.KIND, or add the code to the area\'s errors.ts');
  // the scan itself: it sees strings and template pieces, not comments
  const probe = [
    '// FERRY_ERR_PROBE_COMMENT',
    '/** FERRY_ERR_PROBE_DOC */',
    'const kind = "X";',
    "throw new FerryError('FERRY_ERR_PROBE_QUOTED', `FERRY_ERR_PROBE_TEMPLATE`);",
    'const code = `FERRY_ERR_PROBE_${kind}`;',
    "type Code = 'FERRY_ERR_PROBE_TYPE';",
  ].join('\n');
  t.same(
    stringsIn('probe.ts', probe).filter((s) => s.text.includes('FERRY_ERR_')).map((s) => s.line),
    [4, 4, 5, 6],
    'a quoted string, a template, a template head and a literal type are found; comments are not',
  );
});

t.test('defineErrors: typed codes, table defaults and per-raise overrides', async (t) => {
  const table = defineErrors('PROBE', {
    DOWN: { status: 503, transient: true, meaning: 'the probe is down', hint: 'wait for it' },
    ODD: { meaning: 'the probe is odd', hint: 'look at it' },
  });
  const code: 'FERRY_ERR_PROBE_DOWN' = table.codes.DOWN;
  t.equal(code, 'FERRY_ERR_PROBE_DOWN');
  t.equal(table.code('ODD'), 'FERRY_ERR_PROBE_ODD');
  t.equal(table.kindOf('FERRY_ERR_PROBE_ODD'), 'ODD');
  t.equal(table.kindOf('FERRY_ERR_OTHER_ODD'), undefined);
  t.same(table.list.map((e) => e.code), ['FERRY_ERR_PROBE_DOWN', 'FERRY_ERR_PROBE_ODD']);

  const down = table.create('DOWN', 'probe at https://u:pw@h is down', { details: { n: 1 } });
  t.ok(down instanceof FerryError);
  t.match(down, { code: 'FERRY_ERR_PROBE_DOWN', message: 'probe at https://u:***@h is down', hint: 'wait for it', status: 503, transient: true, details: { n: 1 } });
  const odd = table.create('ODD', 'odd', { hint: 'this one: turn it over', status: 409, cause: down });
  t.match(odd, { hint: 'this one: turn it over', status: 409, transient: false });
  t.equal(odd.cause, down);
  t.equal(table.create('ODD', 'odd').status, 500, 'no status in the table: FerryError\'s 500');
  t.equal(table.create('DOWN', 'x', { transient: false }).transient, false, 'the raiser may know better');

  t.ok(table.is(down) && table.is(down, 'DOWN'));
  t.notOk(table.is(down, 'ODD'));
  t.notOk(table.is(new FerryError('FERRY_ERR_PROBE_GONE', 'x')), 'a code outside the table');
  t.notOk(table.is(new Error('FERRY_ERR_PROBE_DOWN')));
});
