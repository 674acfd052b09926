/**
 * ferry's layers, checked on every `npm test` (README "Development"):
 *
 *   cli  ->  roles (webhook, worker, dashboard, watch, import, agent)  ->  runtime
 *        ->  access, queue, registry, cri, containerd, workloads, nodes, folder-watch, archive, observability, logging, kube, in-use, gc, refresh, notify
 *        ->  policy, config, reference, verify,
 *            image-state, async, errors
 *
 * Data flows one way (webhook -> policy -> queue -> worker -> registry); the
 * pure folders do no I/O, not even through what they import; a folder is
 * entered through its index.ts. A broken rule fails `npm test`.
 */
const ROLES = '(webhook|worker|dashboard|watch|import|agent)';
const PURE = '(reference|policy|image-state|async|verify)';
const IO_BUILTINS = '^(node:)?(fs|fs/promises|net|http|https|http2|tls|dgram|dns|dns/promises|child_process|cluster|worker_threads|readline|inspector)$';

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'circular imports hide the real layering', from: {}, to: { circular: true } },
    {
      name: 'nothing-imports-cli',
      severity: 'error',
      comment: 'cli/ is the composition root: argv -> roles. What roles share lives in runtime/.',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'through-index',
      severity: 'error',
      comment: "enter another folder through its index.ts (its public face); config/types.ts is config's I/O-free face for the pure folders",
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/[^/]+/', pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$', '^src/config/types\\.ts$'] },
    },
    {
      name: 'roles-stand-alone',
      severity: 'error',
      comment: 'a role does not reach into another role; what two roles share belongs below them',
      from: { path: `^src/${ROLES}/` },
      to: { path: `^src/${ROLES}/`, pathNot: '^src/$1/' },
    },
    {
      name: 'runtime-below-roles',
      severity: 'error',
      comment: 'runtime/ is what roles run on; it knows no role',
      from: { path: '^src/runtime/' },
      to: { path: [`^src/${ROLES}/`, '^src/cli/'] },
    },
    {
      name: 'lower-layers-know-no-roles',
      severity: 'error',
      comment: 'queue, registry, cri, containerd, workloads, nodes, folder-watch, archive, access, observability, logging, kube, in-use, gc, refresh, notify, config and the pure folders never import a role or the runtime',
      from: { path: '^src/(queue|registry|cri|containerd|workloads|nodes|folder-watch|archive|access|observability|logging|kube|in-use|gc|refresh|notify|config|reference|policy|image-state|async|verify)/' },
      to: { path: [`^src/${ROLES}/`, '^src/runtime/', '^src/cli/'] },
    },
    {
      name: 'registry-below-queue',
      severity: 'error',
      comment: 'data flows queue -> worker -> registry: the registry client knows no queue, policy or webhook',
      from: { path: '^src/registry/' },
      to: { path: '^src/(queue|policy|access)/' },
    },
    {
      name: 'pure-folders-do-no-io',
      severity: 'error',
      comment: 'reference/, policy/, image-state/, async/ and verify/ are pure: nothing they import, directly or not, does I/O (node:crypto is not I/O)',
      from: { path: `^src/${PURE}/` },
      to: { reachable: true, path: [IO_BUILTINS, '^src/(queue|registry|webhook|worker|dashboard|watch|import|runtime|cli|observability|logging|access|kube|in-use|gc|refresh|notify)/'] },
    },
    {
      name: 'pure-folders-use-no-io-packages',
      severity: 'error',
      comment: 'the pure folders may use only pure npm packages',
      from: { path: `^src/${PURE}/` },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer'], pathNot: '^node_modules/picomatch/' },
    },
    {
      name: 'src-does-not-import-tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
