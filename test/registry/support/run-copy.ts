/**
 * `node --import tsx run-copy.ts ARGS...`: runCopy with test defaults (what `ferry copy`
 * does after loading config). Without arguments (tap scanning the folder) it is a no-op.
 */
const args = process.argv.slice(2);
if (args.length === 0) {
  process.stdout.write('1..0 # SKIP support script, not a test\n');
} else {
  const { runCopy } = await import('../../../src/cli/copy.js');
  const { testConfig } = await import('./fixtures.js');
  process.exitCode = await runCopy(args, testConfig());
}
