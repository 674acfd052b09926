/** The agent's import state backend: one JSON file, rewritten whole through temp + rename. */
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStateStore, jsonFileStates, type FileState } from '../../src/folder-watch/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-state-file-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const st = (size: number): FileState => ({ size, mtimeMs: 1, ino: size, dev: 1, result: 'imported', digests: ['sha256:' + 'a'.repeat(64)], refs: ['docker.io/x/y:1'], at: '2026-01-01T00:00:00.000Z' });

t.test('a restart reads back what was written; forgotten paths are gone; no temp file left', async (t) => {
  const file = join(dir, 'sub', '.state.json');
  const a = new FileStateStore(jsonFileStates(file));
  await a.load();
  t.equal(a.map.size, 0, 'no file yet: empty');
  await Promise.all([a.set('/i/a.tar', st(1)), a.set('/i/b.tar', st(2)), a.set('/i/c.tar', st(3))]);
  await a.delete('/i/b.tar');
  const b = new FileStateStore(jsonFileStates(file));
  await b.load();
  t.same([...b.map.keys()].sort(), ['/i/a.tar', '/i/c.tar']);
  t.same(b.get('/i/c.tar'), st(3));
  t.same(readdirSync(join(dir, 'sub')), ['.state.json'], 'only the state file: the temp file was renamed');
  t.same(Object.keys(JSON.parse(readFileSync(file, 'utf8')).files).sort(), ['/i/a.tar', '/i/c.tar']);
});

t.test('an unreadable state file is an empty state, and says so', async (t) => {
  const file = join(dir, 'bad.json');
  writeFileSync(file, '{"files": [garbage');
  const why: string[] = [];
  const s = new FileStateStore(jsonFileStates(file, (w) => why.push(w)));
  await s.load();
  t.equal(s.map.size, 0);
  t.match(why, [/bad\.json is not a state file ferry wrote/]);
  await s.set('/i/a.tar', st(1));
  t.equal(JSON.parse(readFileSync(file, 'utf8')).version, 1, 'rewritten on the next change');
});
