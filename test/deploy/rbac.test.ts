// Least-privilege RBAC per role, on every rendered overlay (and the base): each
// ferry role runs under a ServiceAccount of its own, gets exactly the API access
// its features need (docs/deploy.md "RBAC"), and a token only when it has any.
// `rbacProblems` is a pure check over rendered objects; "the checks catch" below
// feeds it broken manifests (one rendered by kustomize from a patched base) to
// prove each check can fail.
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { resolveConfig } from '../../src/config/index.js';
import { ROOT, missing, run, which } from './fixtures/util.js';

import type { BuiltPlugins, Test } from '@tapjs/test';

/** Rendered manifests are untyped YAML; the assertions are the type check. */
type Any = any;
type Tap = Test & BuiltPlugins;
interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: Any;
}

const NAMESPACE = 'ferry-system';
const COMPONENT = resolve(ROOT, 'deploy/components/credentials-from-pods');

/** The ServiceAccount each ferry role runs under. */
const ROLE_ACCOUNT: Record<string, string> = {
  webhook: 'ferry-webhook',
  worker: 'ferry-worker',
  dashboard: 'ferry-dashboard',
  watch: 'ferry-watch',
  import: 'ferry-import',
  agent: 'ferry-agent',
};
const EVENTS = ['/events:create', '/events:patch', 'events.k8s.io/events:create', 'events.k8s.io/events:patch'];
/** Exactly what each account may do (`group/resource:verb`), cluster-wide. */
const GRANTS: Record<string, string[]> = {
  'ferry-webhook': ['/namespaces:get', '/namespaces:list', '/namespaces:watch', ...EVENTS],
  'ferry-watch': [
    '/pods:list',
    '/pods:watch',
    'ferry.io/imagewatches:get',
    'ferry.io/imagewatches:list',
    'ferry.io/imagewatches:watch',
    'ferry.io/imagewatches/status:get',
    'ferry.io/imagewatches/status:patch',
    'ferry.io/imagewatches/status:update',
    ...EVENTS,
  ],
  'ferry-worker': [],
  'ferry-dashboard': [],
  'ferry-import': [],
  // components/agent: its own Node's labels and startup taint.
  'ferry-agent': ['/nodes:get', '/nodes:patch'],
};
/** What components/agent adds to ferry-watch: the workload index behind agent.prepullWorkloads (docs/workloads.md). */
const WORKLOAD_INDEX = ['deployments', 'statefulsets', 'daemonsets'].flatMap((r) => [`apps/${r}:list`, `apps/${r}:watch`]);
/** What components/credentials-from-pods adds to ferry-worker, and nothing else does. */
const PULL_SECRETS = ['/secrets:get'];

const CHECKS = ['accounts', 'tokens', 'rule shape', 'secrets', 'pods', 'nodes', 'exact grants', 'config needs'] as const;
type Check = (typeof CHECKS)[number];
type Problems = Record<Check, string[]>;

const kubectl = which('kubectl');

function render(dir: string): Obj[] {
  const r = run(kubectl!, ['kustomize', dir]);
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed (${r.status}):\n${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => Boolean(o));
}

/** Every local kustomization a directory builds on (resources that are directories, and components). */
function kustomizeTree(dir: string, seen = new Set<string>()): Set<string> {
  const abs = resolve(dir);
  if (seen.has(abs)) return seen;
  seen.add(abs);
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].map((f) => join(abs, f)).find((f) => existsSync(f));
  if (!file) return seen;
  const k = (parseYaml(readFileSync(file, 'utf8')) ?? {}) as Any;
  for (const entry of [...(k.resources ?? []), ...(k.components ?? [])] as string[]) {
    if (/^[a-z]+:\/\/|^github\.com\//.test(entry)) continue; // remote
    const p = resolve(abs, entry);
    if (existsSync(p) && statSync(p).isDirectory()) kustomizeTree(p, seen);
  }
  return seen;
}

function id(o: Obj): string {
  return `${o.kind}/${o.metadata.namespace ? o.metadata.namespace + '/' : ''}${o.metadata.name}`;
}

function podSpecOf(o: Obj): Any | undefined {
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(o.kind)) return o.spec?.template?.spec;
  if (o.kind === 'CronJob') return o.spec?.jobTemplate?.spec?.template?.spec;
  if (o.kind === 'Pod') return o.spec;
  return undefined;
}

function ferryContainer(pod: Any): Any | undefined {
  return (pod?.containers ?? []).find((c: Any) => {
    const repo = String(c.image).replace(/@.*$/, '').replace(/:[^/:]+$/, '');
    return repo.split('/').pop() === 'ferry';
  });
}

/** `group/resource:verb` for every grant of the rules. */
function grantsOf(rules: Any[]): string[] {
  const out: string[] = [];
  for (const r of rules ?? []) {
    for (const g of r.apiGroups ?? []) for (const res of r.resources ?? []) for (const v of r.verbs ?? []) out.push(`${g}/${res}:${v}`);
  }
  return out;
}

/** What each ServiceAccount (`namespace/name`) may do, through every binding rendered. */
function effectiveGrants(objs: Obj[]): Map<string, Set<string>> {
  const roles = new Map<string, Obj>();
  for (const o of objs) if (o.kind === 'ClusterRole' || o.kind === 'Role') roles.set(`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o);
  const out = new Map<string, Set<string>>();
  for (const b of objs.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')) {
    const ns = b.kind === 'RoleBinding' && b.roleRef?.kind === 'Role' ? (b.metadata.namespace ?? '') : '';
    const role = roles.get(`${b.roleRef?.kind}/${ns}/${b.roleRef?.name}`);
    for (const s of b.subjects ?? []) {
      if (s.kind !== 'ServiceAccount') continue;
      const key = `${s.namespace ?? b.metadata.namespace ?? ''}/${s.name}`;
      const set = out.get(key) ?? new Set<string>();
      for (const g of grantsOf(role?.rules ?? [])) set.add(g);
      out.set(key, set);
    }
  }
  return out;
}

/** Literal `env` values of a container (valueFrom ones are unknown here). */
function literalEnv(c: Any): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const e of c?.env ?? []) if (typeof e.value === 'string') env[e.name] = e.value;
  return env;
}

/**
 * Every way `objs` breaks ferry's RBAC policy, by check. `credentialsFromPods`:
 * whether the manifests include components/credentials-from-pods.
 */
function rbacProblems(objs: Obj[], opts: { credentialsFromPods: boolean }): Problems {
  const p = Object.fromEntries(CHECKS.map((c) => [c, [] as string[]])) as Problems;
  const find = (kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);
  const grants = effectiveGrants(objs);
  const of = (account: string) => grants.get(`${NAMESPACE}/${account}`) ?? new Set<string>();
  const withAgent = Boolean(find('ServiceAccount', 'ferry-agent'));
  const expected = (account: string) =>
    [
      ...(GRANTS[account] ?? []),
      ...(account === 'ferry-worker' && opts.credentialsFromPods ? PULL_SECRETS : []),
      ...(account === 'ferry-watch' && withAgent ? WORKLOAD_INDEX : []),
    ].sort();

  // accounts: one ServiceAccount per role, each workload under its role's.
  const workloads = objs.filter((o) => podSpecOf(o));
  const accountRole = new Map<string, string>();
  for (const o of workloads) {
    const pod = podSpecOf(o);
    const c = ferryContainer(pod);
    const sa = pod.serviceAccountName;
    if (!c) {
      if (sa && Object.values(ROLE_ACCOUNT).includes(sa)) p.accounts.push(`${id(o)} (not ferry) runs under ferry's ${sa}`);
      if (pod.automountServiceAccountToken !== false) p.tokens.push(`${id(o)} (not ferry) mounts an API token`);
      continue;
    }
    const role = c.args?.[0];
    const want = ROLE_ACCOUNT[role];
    if (!want) {
      p.accounts.push(`${id(o)} runs role ${role}, which has no ServiceAccount of its own`);
      continue;
    }
    if (sa !== want) p.accounts.push(`${id(o)} (${role}) runs under ${sa ?? 'default'}, not ${want}`);
    const other = accountRole.get(sa);
    if (other && other !== role) p.accounts.push(`${sa} is shared by roles ${other} and ${role}`);
    accountRole.set(sa, role);
    const account = find('ServiceAccount', sa);
    if (!account) p.accounts.push(`${id(o)}: ServiceAccount ${sa} is not rendered`);
    else if (account.automountServiceAccountToken !== false) p.tokens.push(`ServiceAccount ${sa} does not set automountServiceAccountToken: false`);

    // tokens: explicit in the pod spec, true exactly when the account can do something.
    const needs = of(sa).size > 0;
    if (pod.automountServiceAccountToken !== needs) {
      p.tokens.push(`${id(o)} (${role}): automountServiceAccountToken is ${pod.automountServiceAccountToken}, want ${needs} (${sa} has ${of(sa).size} grants)`);
    }

    // config needs: what the role's effective config makes it do through the API, it may do.
    const cm = (pod.volumes ?? []).find((v: Any) => v.configMap)?.configMap?.name;
    const raw = find('ConfigMap', cm)?.data?.['config.yaml'];
    let config: Any;
    try {
      config = resolveConfig(parseYaml(raw ?? ''), literalEnv(c), `${id(o)} config`).config;
    } catch (e) {
      p['config needs'].push(`${id(o)}: config does not resolve: ${(e as Error).message}`);
      continue;
    }
    const has = (...gs: string[]) => gs.every((g) => of(sa).has(g));
    if (config.kubernetes.namespaceInformer !== 'off' && !has('/namespaces:list', '/namespaces:watch')) {
      p['config needs'].push(`${id(o)} (${role}) starts the namespace informer, but ${sa} may not list/watch namespaces`);
    }
    if (config.kubernetes.podInformer !== 'off' && !has('/pods:list', '/pods:watch')) {
      p['config needs'].push(`${id(o)} (${role}) starts the pod informer, but ${sa} may not list/watch pods`);
    }
    if ((role === 'watch' || role === 'all') && config.kubernetes.imageWatches !== 'off' && !has('ferry.io/imagewatches:list', 'ferry.io/imagewatches:watch', 'ferry.io/imagewatches/status:patch')) {
      p['config needs'].push(`${id(o)} (${role}) follows ImageWatch objects and writes their status, but ${sa} may not list/watch imagewatches or patch imagewatches/status`);
    }
    if (config.kubernetes.events && !(has('/events:create') || has('events.k8s.io/events:create'))) {
      p['config needs'].push(`${id(o)} (${role}) writes Events, but ${sa} may not create them`);
    }
    const fromPods = Object.entries(config.registries ?? {}).filter(([, r]) => (r as Any)?.credentialsFromPods).map(([h]) => h);
    if (role === 'worker' && fromPods.length && !has('/secrets:get')) {
      p['config needs'].push(`${id(o)}: credentialsFromPods for ${fromPods.join(', ')}, but ${sa} may not get secrets (add components/credentials-from-pods)`);
    }
    if (role === 'agent' && !has('/nodes:get')) {
      p['config needs'].push(`${id(o)}: the agent reads its Node (labels for agent.prepull nodeSelectors), but ${sa} may not get nodes`);
    }
    if (role === 'agent' && config.agent.startupTaint && !has('/nodes:patch')) {
      p['config needs'].push(`${id(o)}: agent.startupTaint ${config.agent.startupTaint} is removed by the agent, but ${sa} may not patch nodes`);
    }
    if (role === 'worker' && !fromPods.length && of(sa).has('/secrets:get')) {
      p['config needs'].push(`${id(o)}: ${sa} may get secrets, but no registry sets credentialsFromPods: the grant is there only where enabled`);
    }
  }
  for (const sa of objs.filter((o) => o.kind === 'ServiceAccount')) {
    if (!accountRole.has(sa.metadata.name)) p.accounts.push(`ServiceAccount ${sa.metadata.name} is used by no ferry role (left over?)`);
  }

  // rule shape: cluster-wide roles only, no wildcards, bindings only to rendered roles and ferry's accounts.
  for (const o of objs.filter((x) => x.kind === 'Role' || x.kind === 'RoleBinding')) p['rule shape'].push(`${id(o)}: ferry renders no namespaced RBAC`);
  for (const r of objs.filter((x) => x.kind === 'ClusterRole')) {
    if (r.aggregationRule) p['rule shape'].push(`${id(r)}: aggregationRule`);
    for (const rule of r.rules ?? []) {
      for (const field of ['apiGroups', 'resources', 'verbs']) {
        if ((rule[field] ?? []).some((v: string) => v.includes('*'))) p['rule shape'].push(`${id(r)}: wildcard in ${field}`);
      }
      if (rule.resourceNames || rule.nonResourceURLs) p['rule shape'].push(`${id(r)}: resourceNames / nonResourceURLs`);
    }
  }
  for (const b of objs.filter((x) => x.kind === 'ClusterRoleBinding')) {
    if (b.roleRef?.kind !== 'ClusterRole' || !find('ClusterRole', b.roleRef?.name)) {
      p['rule shape'].push(`${id(b)}: binds ${b.roleRef?.kind}/${b.roleRef?.name}, which ferry does not render (a built-in like view or cluster-admin?)`);
    }
    for (const s of b.subjects ?? []) {
      if (s.kind !== 'ServiceAccount' || s.namespace !== NAMESPACE || !Object.values(ROLE_ACCOUNT).includes(s.name)) {
        p['rule shape'].push(`${id(b)}: subject ${s.kind} ${s.namespace ?? ''}/${s.name} is not a ferry role's ServiceAccount`);
      }
    }
  }

  // secrets: nothing lists or watches them; only the worker gets them, and only with the component.
  for (const r of objs.filter((x) => x.kind === 'ClusterRole' || x.kind === 'Role')) {
    for (const g of grantsOf(r.rules ?? [])) {
      if (/^\/secrets:/.test(g) && g !== '/secrets:get') p.secrets.push(`${id(r)}: ${g} (secrets are get only, never list/watch/write)`);
    }
  }
  for (const [account, set] of grants) {
    const secrets = [...set].filter((g) => g.startsWith('/secrets:'));
    if (!secrets.length) continue;
    if (account !== `${NAMESPACE}/ferry-worker`) p.secrets.push(`${account} has ${secrets.join(', ')}`);
    else if (!opts.credentialsFromPods) p.secrets.push(`${account} has ${secrets.join(', ')} without components/credentials-from-pods`);
  }
  if (opts.credentialsFromPods && !of('ferry-worker').has('/secrets:get')) p.secrets.push('components/credentials-from-pods is included, but ferry-worker cannot get secrets');

  // pods: reading them is the watch role's; nobody writes them.
  for (const [account, set] of grants) {
    const pods = [...set].filter((g) => /^\/pods(\/|:)/.test(g));
    if (pods.length && account !== `${NAMESPACE}/ferry-watch`) p.pods.push(`${account} has ${pods.join(', ')}`);
    const writes = pods.filter((g) => !/:(get|list|watch)$/.test(g));
    if (writes.length) p.pods.push(`${account} may change pods: ${writes.join(', ')}`);
  }

  // nodes: the agent's (its own Node), nobody else's.
  for (const [account, set] of grants) {
    const nodes = [...set].filter((g) => /^\/nodes(\/|:)/.test(g));
    if (nodes.length && account !== `${NAMESPACE}/ferry-agent`) p.nodes.push(`${account} has ${nodes.join(', ')}`);
    const extra = nodes.filter((g) => !['/nodes:get', '/nodes:patch'].includes(g));
    if (extra.length) p.nodes.push(`${account} may do more than get and patch nodes: ${extra.join(', ')}`);
  }

  // exact grants: each account has what docs/deploy.md's table says, nothing more or less.
  const accounts = new Set([...Object.keys(GRANTS).filter((a) => find('ServiceAccount', a)), ...[...grants.keys()].map((k) => k.split('/')[1]!)]);
  for (const account of accounts) {
    const got = [...of(account)].sort();
    const want = expected(account);
    if (JSON.stringify(got) !== JSON.stringify(want)) p['exact grants'].push(`${account}: has [${got.join(' ')}], want [${want.join(' ')}]`);
  }
  return p;
}

function none(): Problems {
  return Object.fromEntries(CHECKS.map((c) => [c, [] as string[]])) as Problems;
}

t.test('RBAC per role', { skip: kubectl ? false : missing('kubectl') }, async (t) => {
  const overlaysDir = join(ROOT, 'deploy/overlays');
  const overlays = readdirSync(overlaysDir).filter((d) => statSync(join(overlaysDir, d)).isDirectory()).sort();
  t.ok(overlays.includes('credentials-from-pods'), 'an overlay uses components/credentials-from-pods');
  const targets: [string, string][] = [['base', join(ROOT, 'deploy/base')], ...overlays.map((o): [string, string] => [`overlay ${o}`, join(overlaysDir, o)])];

  for (const [name, dir] of targets) {
    t.test(name, async (t) => {
      const objs = render(dir);
      const credentialsFromPods = kustomizeTree(dir).has(COMPONENT);
      const problems = rbacProblems(objs, { credentialsFromPods });
      const what: Record<Check, string> = {
        accounts: 'one ServiceAccount per role; every Deployment runs under its role\'s',
        tokens: 'an API token only in pods whose account has grants (set in the pod spec; every account says false)',
        'rule shape': 'ClusterRoles only, no wildcard verbs/resources/groups, bindings only to ferry\'s roles and accounts',
        secrets: credentialsFromPods
          ? 'get only, for ferry-worker only (components/credentials-from-pods); nothing lists or watches them'
          : 'no role gets, lists or watches them',
        pods: 'pods list/watch belongs to ferry-watch only; nobody writes pods',
        nodes: 'nodes get/patch belongs to ferry-agent only (components/agent), nothing more',
        'exact grants': 'each account has exactly the permissions docs/deploy.md lists',
        'config needs': 'informers, Events and credentialsFromPods each role\'s config turns on are granted, and secrets only where enabled',
      };
      for (const c of CHECKS) t.same(problems[c], [], `${c}: ${what[c]}`);

      const find = (kind: string, n: string) => objs.find((o) => o.kind === kind && o.metadata.name === n);
      for (const role of ['webhook', 'worker', 'dashboard', 'watch']) {
        const dep = find('Deployment', `ferry-${role}`);
        t.equal(dep?.spec.template.spec.serviceAccountName, ROLE_ACCOUNT[role], `Deployment ferry-${role} runs under ServiceAccount ${ROLE_ACCOUNT[role]}`);
      }
      t.notOk(find('ServiceAccount', 'ferry'), 'the shared ServiceAccount ferry is gone');
      t.equal(find('Deployment', 'ferry-worker')?.spec.template.spec.automountServiceAccountToken, credentialsFromPods, `worker token mounted: ${credentialsFromPods}`);
    });
  }

  t.test('the checks catch', async (t) => {
    const base = render(join(ROOT, 'deploy/base'));
    t.same(rbacProblems(base, { credentialsFromPods: false }), none(), 'the base is clean (the starting point of every case)');
    const mutate = (fn: (objs: Obj[]) => void): Obj[] => {
      const copy = structuredClone(base);
      fn(copy);
      return copy;
    };
    const get = (objs: Obj[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name)!;
    const flagged = (t: Tap, objs: Obj[], check: Check, pattern: RegExp, msg: string, credentialsFromPods = false) => {
      const got = rbacProblems(objs, { credentialsFromPods })[check];
      t.ok(got.some((s) => pattern.test(s)), `${msg} (${check}: ${got.join('; ') || 'nothing'})`);
    };

    t.test('a secrets rule added to the base by a kustomize patch', async (t) => {
      const tmp = mkdtempSync(join(tmpdir(), 'ferry-rbac-'));
      t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
      writeFileSync(
        join(tmp, 'kustomization.yaml'),
        [
          'apiVersion: kustomize.config.k8s.io/v1beta1',
          'kind: Kustomization',
          'resources:',
          `  - ${relative(tmp, join(ROOT, 'deploy/base'))}`, // kustomize refuses absolute paths
          'patches:',
          '  - target: { kind: ClusterRole, name: ferry-watch }',
          '    patch: |-',
          '      - op: add',
          '        path: /rules/-',
          '        value: { apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"] }',
          '',
        ].join('\n'),
      );
      const objs = render(tmp);
      const p = rbacProblems(objs, { credentialsFromPods: kustomizeTree(tmp).has(COMPONENT) });
      t.ok(p.secrets.some((s) => /ferry-watch.*secrets:get/.test(s)), `secrets: ferry-watch getting secrets is caught (${p.secrets.join('; ')})`);
      t.ok(p.secrets.some((s) => /secrets:list/.test(s)), 'secrets: list on secrets is caught');
      t.ok(p['exact grants'].some((s) => s.startsWith('ferry-watch:')), 'exact grants: ferry-watch differs from the table');
    });

    t.test('in-memory breakages', async (t) => {
      flagged(
        t,
        mutate((o) => get(o, 'ClusterRole', 'ferry-webhook').rules.push({ apiGroups: [''], resources: ['secrets'], verbs: ['get'] })),
        'secrets',
        /ferry-webhook has \/secrets:get/,
        'the webhook getting secrets',
      );
      flagged(
        t,
        mutate((o) => get(o, 'ClusterRole', 'ferry-webhook').rules.push({ apiGroups: [''], resources: ['secrets'], verbs: ['get'] })),
        'secrets',
        /ferry-webhook/,
        'the webhook getting secrets, even with the component',
        true,
      );
      flagged(
        t,
        mutate((o) => get(o, 'ClusterRole', 'ferry-watch').rules.push({ apiGroups: [''], resources: ['secrets'], verbs: ['watch'] })),
        'secrets',
        /secrets:watch/,
        'watch on secrets',
      );
      flagged(
        t,
        mutate((o) => (get(o, 'ClusterRole', 'ferry-watch').rules[0].verbs = ['*'])),
        'rule shape',
        /wildcard in verbs/,
        'a * verb',
      );
      flagged(
        t,
        mutate((o) => (get(o, 'ClusterRole', 'ferry-watch').rules[0].resources = ['*'])),
        'rule shape',
        /wildcard in resources/,
        'a * resource',
      );
      flagged(
        t,
        mutate((o) => {
          const role = get(o, 'ClusterRole', 'ferry-watch');
          role.rules = role.rules.filter((r: Any) => !r.apiGroups.includes('ferry.io'));
        }),
        'config needs',
        /follows ImageWatch objects and writes their status, but ferry-watch may not/,
        'the watch role without imagewatches access',
      );
      flagged(
        t,
        mutate((o) => get(o, 'ClusterRole', 'ferry-webhook').rules.push({ apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] })),
        'pods',
        /ferry-webhook has \/pods:list/,
        'pods list/watch outside the watch role',
      );
      flagged(
        t,
        mutate((o) => get(o, 'ClusterRole', 'ferry-watch').rules.push({ apiGroups: [''], resources: ['pods'], verbs: ['patch'] })),
        'pods',
        /may change pods/,
        'the watch role writing pods',
      );
      flagged(
        t,
        mutate((o) => (get(o, 'Deployment', 'ferry-worker').spec.template.spec.serviceAccountName = 'ferry-watch')),
        'accounts',
        /ferry-worker \(worker\) runs under ferry-watch/,
        'a Deployment under another role\'s ServiceAccount',
      );
      flagged(
        t,
        mutate((o) => (get(o, 'Deployment', 'ferry-dashboard').spec.template.spec.automountServiceAccountToken = true)),
        'tokens',
        /ferry-dashboard.*want false/,
        'a token in a pod whose account has no grants',
      );
      flagged(
        t,
        mutate((o) => o.push({
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name: 'ferry-dashboard-view' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
          subjects: [{ kind: 'ServiceAccount', name: 'ferry-dashboard', namespace: NAMESPACE }],
        })),
        'rule shape',
        /ClusterRole\/view, which ferry does not render/,
        'a binding to a built-in ClusterRole',
      );
      flagged(
        t,
        mutate((o) => {
          const cm = o.find((x) => x.kind === 'ConfigMap')!;
          cm.data['config.yaml'] += '\nregistries:\n  ghcr.io:\n    credentialsFromPods: true\n';
        }),
        'config needs',
        /credentialsFromPods for ghcr\.io, but ferry-worker may not get secrets/,
        'credentialsFromPods without the component',
      );
      flagged(
        t,
        mutate((o) => {
          const env = ferryContainer(get(o, 'Deployment', 'ferry-worker').spec.template.spec).env as Any[];
          env.splice(env.findIndex((e) => e.name === 'FERRY_KUBERNETES_POD_INFORMER'), 1);
        }),
        'config needs',
        /ferry-worker \(worker\) starts the pod informer/,
        'a role starting an informer its account may not run',
      );
    });

    t.test('the agent: nodes beyond get/patch, a missing patch grant, nodes elsewhere', async (t) => {
      const agent = render(join(ROOT, 'deploy/overlays/agent'));
      t.same(rbacProblems(agent, { credentialsFromPods: false }), none(), 'overlays/agent is clean');
      const on = (fn: (objs: Obj[]) => void): Obj[] => {
        const copy = structuredClone(agent);
        fn(copy);
        return copy;
      };
      const flaggedIn = (objs: Obj[], check: Check, pattern: RegExp, msg: string) => {
        const got = rbacProblems(objs, { credentialsFromPods: false })[check];
        t.ok(got.some((s) => pattern.test(s)), `${msg} (${check}: ${got.join('; ') || 'nothing'})`);
      };
      flaggedIn(on((o) => get(o, 'ClusterRole', 'ferry-agent').rules[0].verbs.push('list', 'update')), 'nodes', /more than get and patch nodes: \/nodes:list, \/nodes:update/, 'the agent listing and updating nodes');
      flaggedIn(on((o) => (get(o, 'ClusterRole', 'ferry-agent').rules[0].verbs = ['get'])), 'config needs', /agent\.startupTaint .* may not patch nodes/, 'a startup taint the agent may not remove');
      flaggedIn(on((o) => get(o, 'ClusterRole', 'ferry-watch').rules.push({ apiGroups: [''], resources: ['nodes'], verbs: ['get'] })), 'nodes', /ferry-watch has \/nodes:get/, 'nodes access outside the agent');
    });

    t.test('the component without a config that enables it', async (t) => {
      const withComponent = render(join(ROOT, 'deploy/overlays/credentials-from-pods'));
      const baseConfig = base.find((o) => o.kind === 'ConfigMap')!.data['config.yaml'];
      const objs = structuredClone(withComponent);
      objs.find((o) => o.kind === 'ConfigMap')!.data['config.yaml'] = baseConfig;
      const p = rbacProblems(objs, { credentialsFromPods: true });
      t.ok(p['config needs'].some((s) => /no registry sets credentialsFromPods/.test(s)), `config needs: secrets get granted where nothing uses it (${p['config needs'].join('; ')})`);
    });
  });
});
