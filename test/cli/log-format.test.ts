// Logs people read: readable lines at a terminal, JSON lines everywhere else,
// and --log-format to choose. Each run logs one line and exits: `ferry import`
// of a file that does not exist.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { cleanEnv, runFerry } from './support/ferry-process.js';
import { nodeEntry } from '../support/process.js';

const MAIN = nodeEntry(new URL('../../src/cli/main.ts', import.meta.url)).join(' ');
const env = cleanEnv({ FERRY_QUEUE_REDIS_URL: 'redis://127.0.0.1:1', NO_COLOR: '1' });
const ARGS = ['import', '/nonexistent/ferry-log-format.tar'];

t.test('not a terminal: one JSON object a line, as before', async (t) => {
  const r = await runFerry(ARGS, env);
  t.equal(r.code, 1);
  const line = JSON.parse(r.stdout.trim().split('\n').pop()!);
  t.match(line, { level: 50, msg: 'import: cannot read file', file: '/nonexistent/ferry-log-format.tar' });
});

t.test('--log-format pretty: readable lines, not JSON', async (t) => {
  const r = await runFerry([...ARGS, '--log-format', 'pretty'], env);
  t.equal(r.code, 1);
  const out = r.stdout.trim();
  t.throws(() => JSON.parse(out.split('\n')[0]!), 'not JSON');
  t.match(out, /ERROR.*import: cannot read file/);
  t.match(out, /file: "\/nonexistent\/ferry-log-format\.tar"/);
});

t.test('a terminal gets readable lines by default; --log-format json keeps JSON there', { skip: spawnSync('script', ['--version']).status === 0 ? false : 'util-linux script(1) not installed' }, async (t) => {
  // script(1) runs ferry on a pseudo-terminal, as `npm start` in a shell does.
  const run = (extra: string) =>
    spawnSync('script', ['-qec', `${process.execPath} ${MAIN} ${ARGS.join(' ')} ${extra}`, '/dev/null'], { env, encoding: 'utf8' }).stdout;
  const tty = run('');
  t.match(tty, /ERROR.*import: cannot read file/);
  t.notMatch(tty, /"msg":/, 'no JSON at a terminal');
  t.match(run('--log-format json'), /"msg":"import: cannot read file"/);
});

t.test('an unknown format is refused before anything starts', async (t) => {
  const r = await runFerry([...ARGS, '--log-format', 'xml'], env);
  t.equal(r.code, 2);
  t.match(r.stderr, /--log-format must be json or pretty, got "xml"/);
});
