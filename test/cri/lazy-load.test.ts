/**
 * Loading src/cri costs the roles that never talk to a runtime nothing: @grpc/grpc-js and
 * @grpc/proto-loader (~120-160 ms together) are imported on a client's first call, not with the module.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

const probe = `
import { createRequire } from 'node:module';
const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/@grpc/'));
const t0 = performance.now();
const { connectCri } = await import('./src/cri/index.ts');
const importMs = performance.now() - t0;
const before = loaded();
const cri = connectCri('/nonexistent/ferry-lazy.sock');
const afterConnect = loaded();
const t1 = performance.now();
await cri.version().catch(() => undefined);
const firstCallMs = performance.now() - t1;
cri.close();
console.log(JSON.stringify({ before, afterConnect, after: loaded(), importMs, firstCallMs }));
`;

t.test('grpc-js is loaded by the first call, not by importing src/cri or connectCri', async (t) => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { cwd: new URL('../..', import.meta.url).pathname });
  const r = JSON.parse(stdout.trim().split('\n').pop()!);
  t.equal(r.before, false, 'not loaded by the import');
  t.equal(r.afterConnect, false, 'not loaded by connectCri');
  t.equal(r.after, true, 'loaded by the first call');
  t.comment(`import ${r.importMs.toFixed(0)} ms, first call (load + connect + fail) ${r.firstCallMs.toFixed(0)} ms`);
});
