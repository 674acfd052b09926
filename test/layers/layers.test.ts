// The layer rules (.dependency-cruiser.cjs) hold on src/, and each rule really
// fires: a fixture tree breaks every one on purpose.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { CHECKOUT as ROOT } from '../support/checkout.js';

const BIN = `${ROOT}node_modules/.bin/depcruise`;

function cruise(cwd: string, config: string) {
  const r = spawnSync(BIN, ['src', '--config', config, '--output-type', 'err'], { cwd, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

t.test("ferry's own src/ keeps every layer rule", async (t) => {
  const r = cruise(ROOT, '.dependency-cruiser.cjs');
  t.equal(r.status, 0, r.out);
});

t.test('a rule broken on purpose is reported, and fails the run', async (t) => {
  const r = cruise(`${ROOT}test/fixtures/layers`, '../../../.dependency-cruiser.cjs');
  t.not(r.status, 0, 'non-zero exit: npm test stops here');
  const expected: [rule: string, where: string][] = [
    ['no-circular', 'src/loop/a.ts'],
    ['nothing-imports-cli', 'src/worker/imports-cli.ts → src/cli/main.ts'],
    ['through-index', 'src/dashboard/deep-import.ts → src/queue/store.ts'],
    ['roles-stand-alone', 'src/webhook/imports-role.ts → src/worker/index.ts'],
    ['lower-layers-know-no-roles', 'src/registry/imports-runtime.ts → src/runtime/index.ts'],
    ['pure-folders-do-no-io', 'src/policy/does-io.ts → fs'],
    ['pure-folders-do-no-io', 'src/policy/imports-queue.ts → src/queue/index.ts'],
  ];
  for (const [rule, where] of expected) t.match(r.out, `error ${rule}: ${where}`, `${rule} fires for ${where}`);
});
