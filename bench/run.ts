/**
 * `npm run bench`: every benchmark, one after another (they would skew each
 * other in parallel on a small machine). Each prints its figures next to its
 * reference and target. `npm run bench -- webhook copy` runs a subset.
 */
import { spawnSync } from 'node:child_process';

const ALL = ['webhook', 'copy', 'referrers', 'pool', 'far-upstream', 'resync', 'cli-start', 'dashboard', 'records', 'import', 'in-use', 'agent/prepull', 'agent/import'];
const wanted = process.argv.slice(2).filter((a) => ALL.includes(a));
let failed = 0;
for (const name of wanted.length ? wanted : ALL) {
  console.log(`\n=== bench/${name} ===`);
  // a folder's run.ts, or (agent/prepull) one script of a folder
  const script = name.includes('/') ? `bench/${name}.ts` : `bench/${name}/run.ts`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`bench/${name} exited with ${r.status}`);
  }
}
process.exit(failed ? 1 : 0);
