/**
 * docs/errors.md as data: how a code's row is written, and how the page is
 * read back, so test/errors/codes.test.ts can compare it with the tables.
 * `npx tsx test/support/errors-doc.ts` prints every row as it should be.
 */
import type { DefinedError } from '../../src/errors.js';

const PUNCTUATION = /\\([!-/:-@[-`{-~])/g;

/**
 * Table-cell text from plain text. Outside `code spans`, characters markdown
 * would read as markup (`<host>` as an HTML tag, `*` or a `_` that is not
 * inside a word as emphasis) are backslash-escaped; `|` is escaped
 * everywhere, as GitHub tables need.
 */
export function escapeCell(text: string): string {
  const markup = /[\\|<>*]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g;
  return text
    .split('`')
    .map((part, i) => (i % 2 === 1 ? part.replace(/\|/g, '\\|') : part.replace(markup, (c) => `\\${c}`)))
    .join('`');
}

/** The plain text of a cell: every backslash escape undone. */
export function unescapeCell(cell: string): string {
  return cell.trim().replace(PUNCTUATION, '$1');
}

export function errorRow(e: DefinedError): string {
  return `| \`${e.code}\` | ${escapeCell(e.meaning)} | ${escapeCell(e.hint)} |`;
}

export interface DocumentedError {
  area: string;
  code: string;
  meaning: string;
  hint: string;
  /** 1-based line in the page. */
  line: number;
}

/** Every code row of the page (`| \`FERRY_ERR_...\` | meaning | what to do |`), with the `## AREA` heading above it. */
export function readErrorsDoc(markdown: string): { areas: string[]; rows: DocumentedError[] } {
  const areas: string[] = [];
  const rows: DocumentedError[] = [];
  let area = '';
  markdown.split('\n').forEach((text, i) => {
    const heading = /^## (\S+)\s*$/.exec(text);
    if (heading) {
      area = heading[1]!;
      areas.push(area);
      return;
    }
    const row = /^\|\s*`(FERRY_ERR_[A-Z0-9_]+)`\s*\|(.*)\|\s*$/.exec(text);
    if (!row) return;
    const cells = row[2]!.split(/(?<!\\)\|/);
    rows.push({ area, code: row[1]!, meaning: unescapeCell(cells[0] ?? ''), hint: unescapeCell(cells.slice(1).join('|')), line: i + 1 });
  });
  return { areas, rows };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { ALL_ERROR_CODES, ERROR_AREAS } = await import('../../src/error-codes.js');
  for (const area of ERROR_AREAS) {
    console.log(`## ${area}\n\n| Code | Meaning | What to do |\n| --- | --- | --- |`);
    for (const e of ALL_ERROR_CODES.filter((x) => x.area === area)) console.log(errorRow(e));
    console.log();
  }
}
