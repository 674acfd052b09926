// Renders every kustomize overlay offline, schema-validates every object with
// kubernetes-models, and asserts the safety properties ferry's install relies on.
import t from 'tap';
import { readdirSync, statSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { envOverrideNames, resolveConfig } from '../../src/config/index.js';
import { ROOT, missing, run, which } from './fixtures/util.js';

import type { BuiltPlugins, Test } from '@tapjs/test';

type Tap = Test & BuiltPlugins;
/** Rendered manifests are untyped YAML; the assertions are the type check. */
type Any = any;
interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [k: string]: Any;
}

const NAMESPACE = 'ferry-system';
const ROLES = new Set(['all', 'webhook', 'worker', 'dashboard', 'watch', 'import', 'agent']);
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
]);
const EXPECTED_OVERLAYS = ['agent', 'cert-manager', 'credentials-from-pods', 'dev', 'fail-closed', 'manual-certs'];
/** The one workload allowed on the host (components/agent): these host paths, as root, nothing else. */
const AGENT = 'ferry-agent';
const AGENT_HOST_PATHS = [
  { path: '/run/containerd/containerd.sock', type: 'Socket' },
  { path: '/var/lib/ferry/images', type: 'DirectoryOrCreate' },
];
const WEBHOOK_SANS = [
  'ferry-webhook',
  'ferry-webhook.ferry-system',
  'ferry-webhook.ferry-system.svc',
  'ferry-webhook.ferry-system.svc.cluster.local',
];
/** Exec probe of the non-webhook roles: node and the healthcheck script as the Dockerfile installs them. */
const HEALTHCHECK = ['/nodejs/bin/node', '/usr/local/lib/ferry/healthcheck.mjs'];
/** Secrets the manifests may reference without rendering them (made by cert-manager, by hand, or optional). */
const EXTERNAL_SECRETS = new Set(['ferry-webhook-tls', 'ferry-redis', 'ferry-dashboard', 'ferry-hooks']);

const kubectl = which('kubectl');

function render(dir: string): Obj[] {
  const r = run(kubectl!, ['kustomize', dir]);
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed (${r.status}):\n${r.stderr}`);
  const docs = parseAllDocuments(r.stdout);
  const out: Obj[] = [];
  for (const doc of docs) {
    if (doc.errors.length) throw new Error(`${dir}: YAML error: ${doc.errors[0]!.message}`);
    const obj = doc.toJS() as Obj | null;
    if (obj) out.push(obj);
  }
  return out;
}

const modelCache = new Map<string, Any>();
/** The kubernetes-models class for apiVersion/kind, or undefined for kinds it does not ship (CRDs). */
async function modelFor(apiVersion: string, kind: string): Promise<Any> {
  const key = `${apiVersion}/${kind}`;
  if (modelCache.has(key)) return modelCache.get(key);
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const spec = group ? `kubernetes-models/${group}/${version}/${kind}` : `kubernetes-models/${version}/${kind}`;
  let model: Any;
  try {
    model = ((await import(spec)) as Record<string, Any>)[kind];
  } catch {
    model = undefined;
  }
  modelCache.set(key, model);
  return model;
}

function id(o: Obj): string {
  return `${o.kind}/${o.metadata.namespace ? o.metadata.namespace + '/' : ''}${o.metadata.name}`;
}

function podSpecOf(o: Obj): Any | undefined {
  switch (o.kind) {
    case 'Pod':
      return o.spec;
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      return o.spec?.template?.spec;
    case 'CronJob':
      return o.spec?.jobTemplate?.spec?.template?.spec;
    default:
      return undefined;
  }
}

function containersOf(pod: Any): Any[] {
  return [...(pod.initContainers ?? []), ...(pod.containers ?? []), ...(pod.ephemeralContainers ?? [])];
}

function isFerry(container: Any): boolean {
  const repo = String(container.image).replace(/@.*$/, '').replace(/:[^/:]+$/, '');
  return repo.split('/').pop() === 'ferry';
}

function portNumber(container: Any, port: number | string): number | undefined {
  if (typeof port === 'number') return port;
  return (container.ports ?? []).find((p: Any) => p.name === port)?.containerPort;
}

function matches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** `group/resource:verb` for every grant, so RBAC compares as one set. */
function grants(rules: Any[]): string[] {
  const out: string[] = [];
  for (const r of rules) {
    for (const g of r.apiGroups ?? []) for (const res of r.resources ?? []) for (const v of r.verbs ?? []) out.push(`${g}/${res}:${v}`);
  }
  return out.sort();
}

async function checkOverlay(t: Tap, name: string, dir: string, objs: Obj[]): Promise<void> {
  const byKind = (kind: string) => objs.filter((o) => o.kind === kind);
  const find = (kind: string, n: string) => objs.find((o) => o.kind === kind && o.metadata.name === n);

  t.test('every object validates against the Kubernetes schema', async (t) => {
    const seen = new Set<string>();
    for (const o of objs) {
      t.ok(o.apiVersion && o.kind && o.metadata?.name, `${id(o)} has apiVersion, kind, metadata.name`);
      t.notOk(seen.has(id(o)), `${id(o)} appears once`);
      seen.add(id(o));
      const Model = await modelFor(o.apiVersion, o.kind);
      if (!Model) {
        // cert-manager CRDs: kubernetes-models ships no schema for them; checked structurally below.
        t.equal(o.apiVersion, 'cert-manager.io/v1', `${id(o)}: only cert-manager kinds lack a schema`);
        continue;
      }
      try {
        new Model(o).validate();
        t.pass(`${id(o)} is valid ${o.apiVersion} ${o.kind}`);
      } catch (e) {
        t.fail(`${id(o)} does not validate: ${(e as Error).message}`);
      }
    }
  });

  t.test(`everything namespaced lives in ${NAMESPACE}`, async (t) => {
    const ns = byKind('Namespace');
    t.same(
      ns.map((n) => n.metadata.name),
      [NAMESPACE],
      'renders exactly the ferry namespace',
    );
    const labels = ns[0]?.metadata.labels ?? {};
    if (find('DaemonSet', AGENT)) {
      // components/agent: its pod needs host paths and root, which no standard but "privileged" admits.
      t.equal(labels['pod-security.kubernetes.io/enforce'], 'privileged', 'with the agent: enforce privileged (its hostPath socket and root)');
      t.equal(labels['pod-security.kubernetes.io/warn'], 'restricted', 'and every pod still checked against restricted: warn');
      t.equal(labels['pod-security.kubernetes.io/audit'], 'restricted', 'and audit');
    } else {
      t.equal(labels['pod-security.kubernetes.io/enforce'], 'restricted', 'namespace enforces the restricted Pod Security Standard');
    }
    t.equal(labels['ferry.io/skip'], 'true', 'namespace carries ferry.io/skip: its pods are never rewritten, should it be renamed');
    for (const o of objs) {
      if (CLUSTER_SCOPED.has(o.kind)) t.notOk(o.metadata.namespace, `${id(o)} is cluster-scoped`);
      else t.equal(o.metadata.namespace, NAMESPACE, `${id(o)} namespace`);
    }
  });

  t.test('webhook configurations: fail-safe, and nothing a pod author can opt out of', async (t) => {
    const mwcs = byKind('MutatingWebhookConfiguration');
    const vwcs = byKind('ValidatingWebhookConfiguration');
    t.equal(mwcs.length, 1, 'one MutatingWebhookConfiguration');
    t.equal(vwcs.length, 1, 'one ValidatingWebhookConfiguration (runs after every mutation, sidecar injectors included)');
    const entries = [...mwcs, ...vwcs].flatMap((cfg) => ((cfg.webhooks ?? []) as Any[]).map((w) => ({ kind: cfg.kind as string, w })));
    t.ok(entries.length >= 2, 'has webhooks');
    const failClosedNamespaces = (w: Any) => (w.namespaceSelector?.matchExpressions ?? []).some((e: Any) => e.key === 'ferry.io/fail-closed' && e.operator === 'In');
    const hasFailClosed = entries.some(({ w }) => failClosedNamespaces(w));
    for (const { kind, w } of entries) {
      const mutating = kind === 'MutatingWebhookConfiguration';
      const at = `${kind} webhook ${w.name}`;
      if (failClosedNamespaces(w)) {
        t.notOk(mutating, `${at}: only the validating webhook fails closed`);
        t.equal(w.failurePolicy, 'Fail', `${at}: failurePolicy Fail for the namespaces that chose it`);
      } else {
        t.equal(w.failurePolicy, 'Ignore', `${at}: failurePolicy Ignore`);
      }
      t.equal(w.sideEffects, 'NoneOnDryRun', `${at}: sideEffects NoneOnDryRun`);
      t.type(w.timeoutSeconds, 'number', `${at}: timeoutSeconds set`);
      t.ok(w.timeoutSeconds >= 1 && w.timeoutSeconds <= 10, `${at}: timeoutSeconds ${w.timeoutSeconds} <= 10`);
      if (mutating) t.equal(w.reinvocationPolicy, 'IfNeeded', `${at}: reinvocationPolicy IfNeeded`);
      t.same(w.admissionReviewVersions, ['v1'], `${at}: admissionReviewVersions [v1]`);

      const nsExprs: Any[] = w.namespaceSelector?.matchExpressions ?? [];
      const byName = nsExprs.find((e) => e.key === 'kubernetes.io/metadata.name');
      t.equal(byName?.operator, 'NotIn', `${at}: namespaceSelector excludes by kubernetes.io/metadata.name`);
      for (const ns of [NAMESPACE, 'kube-system']) {
        t.ok(byName?.values?.includes(ns), `${at}: namespaceSelector excludes ${ns}`);
      }
      t.notOk(w.namespaceSelector?.matchLabels, `${at}: no matchLabels that could widen/narrow the selector unexpectedly`);
      t.notOk(nsExprs.some((e) => e.key === 'ferry.io/skip'), `${at}: ferry.io/skip is judged by ferry, never used to skip the webhook`);
      t.notOk(w.objectSelector, `${at}: no objectSelector: a pod's own labels cannot take it out of ferry's sight`);
      if (hasFailClosed && !failClosedNamespaces(w) && !mutating) {
        t.ok(
          nsExprs.some((e) => e.key === 'ferry.io/fail-closed' && e.operator === 'NotIn'),
          `${at}: leaves the fail-closed namespaces to the fail-closed entry (each namespace is judged once)`,
        );
      }

      const rules = (w.rules as Any[]).map((r) => ({
        ops: [...r.operations].sort().join(','),
        groups: r.apiGroups.join(','),
        versions: r.apiVersions.join(','),
        resources: [...r.resources].sort().join(','),
      }));
      t.same(
        rules.sort((a, b) => a.resources.localeCompare(b.resources)),
        [
          { ops: 'CREATE,UPDATE', groups: '', versions: 'v1', resources: 'pods' },
          { ops: 'UPDATE', groups: '', versions: 'v1', resources: 'pods/ephemeralcontainers' },
        ],
        `${at}: rules are exactly pods CREATE and UPDATE, and pods/ephemeralcontainers UPDATE`,
      );

      // clientConfig -> Service -> webhook pods -> container port 8443
      const svcRef = w.clientConfig?.service;
      t.notOk(w.clientConfig?.url, `${at}: uses a Service, not a URL`);
      t.equal(svcRef?.namespace, NAMESPACE, `${at}: service namespace`);
      t.equal(svcRef?.path, mutating ? '/mutate' : '/validate', `${at}: path ${mutating ? '/mutate' : '/validate'}`);
      const svc = find('Service', svcRef?.name);
      t.ok(svc, `${at}: Service ${svcRef?.name} is rendered`);
      if (!svc) continue;
      const svcPort = (svc.spec.ports as Any[]).find((p) => p.port === (svcRef.port ?? 443));
      t.ok(svcPort, `${at}: Service exposes port ${svcRef.port ?? 443}`);
      const backends = objs.filter((o) => podSpecOf(o) && matches(svc.spec.selector, o.spec.template?.metadata?.labels));
      t.equal(backends.length, 1, `${at}: the Service selects one workload`);
      const c = (podSpecOf(backends[0]!)?.containers ?? []).find(isFerry);
      t.equal(c?.args?.[0], 'webhook', `${at}: which runs \`ferry webhook\``);
      t.equal(portNumber(c, svcPort?.targetPort ?? svcPort?.port), 8443, `${at}: Service targets container port 8443`);
    }
  });

  t.test('every container is non-root, read-only, capability-free and bounded', async (t) => {
    const workloads = objs.filter((o) => podSpecOf(o));
    t.ok(workloads.length > 0, 'has workloads');
    for (const o of workloads) {
      const pod = podSpecOf(o);
      const at = id(o);
      const agent = o.kind === 'DaemonSet' && o.metadata.name === AGENT;
      t.notOk(pod.hostNetwork || pod.hostPID || pod.hostIPC, `${at}: no host namespaces`);
      const hostPaths = (pod.volumes ?? []).filter((v: Any) => v.hostPath).map((v: Any) => v.hostPath);
      if (agent) t.same(hostPaths, AGENT_HOST_PATHS, `${at}: the runtime socket and the import folder are its only host paths`);
      else t.same(hostPaths, [], `${at}: no hostPath volumes`);
      t.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${at}: seccompProfile RuntimeDefault`);
      for (const c of containersOf(pod)) {
        const sc = c.securityContext ?? {};
        const cat = `${at} container ${c.name}`;
        const uid = sc.runAsUser ?? pod.securityContext?.runAsUser;
        if (agent) {
          // containerd's socket is root:root 0660: root, said explicitly (the image's user is 65532).
          t.equal(sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot, false, `${cat}: runAsNonRoot false, explicitly`);
          t.equal(uid, 0, `${cat}: runAsUser 0, explicitly`);
        } else {
          t.ok((sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot) === true, `${cat}: runAsNonRoot`);
          t.ok(typeof uid === 'number' && uid > 0, `${cat}: numeric non-zero runAsUser (${uid})`);
        }
        t.equal(sc.readOnlyRootFilesystem, true, `${cat}: readOnlyRootFilesystem`);
        t.equal(sc.allowPrivilegeEscalation, false, `${cat}: allowPrivilegeEscalation false`);
        t.notOk(sc.privileged, `${cat}: not privileged`);
        t.same(sc.capabilities?.drop, ['ALL'], `${cat}: drops ALL capabilities`);
        t.notOk(sc.capabilities?.add?.length, `${cat}: adds no capabilities`);
        for (const kind of ['requests', 'limits'] as const) {
          for (const res of ['cpu', 'memory']) {
            t.ok(c.resources?.[kind]?.[res], `${cat}: resources.${kind}.${res}`);
          }
        }
        t.ok(c.readinessProbe && c.livenessProbe, `${cat}: readiness and liveness probes`);
        for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe].filter(Boolean)) {
          const hits = ['httpGet', 'exec', 'tcpSocket', 'grpc'].filter((k) => probe[k]);
          t.equal(hits.length, 1, `${cat}: each probe has one handler`);
        }
        t.match(String(c.image), /:[\w.-]+$/, `${cat}: image has a tag`);
        t.notMatch(String(c.image), /:latest$/, `${cat}: image tag is not latest`);
      }
    }
  });

  t.test('ferry containers: roles, config, probes, env', async (t) => {
    const known = envOverrideNames();
    const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('ferry-config'));
    t.ok(cm?.data?.['config.yaml'], 'ferry-config ConfigMap holds config.yaml');
    t.doesNotThrow(() => resolveConfig(parseYaml(cm?.data?.['config.yaml'] ?? ''), {}, `${name} config.yaml`), 'config.yaml passes ferry\'s own config validation');

    const roles = new Set<string>();
    const images = new Set<string>();
    for (const o of objs.filter((x) => podSpecOf(x))) {
      const pod = podSpecOf(o);
      for (const c of containersOf(pod).filter(isFerry)) {
        const at = `${id(o)} ${c.name}`;
        images.add(c.image);
        t.notOk(c.command, `${at}: keeps the image's ENTRYPOINT (ferry)`);
        const role = c.args?.[0];
        t.ok(ROLES.has(role), `${at}: runs a ferry role (${role})`);
        roles.add(role);
        t.same(c.args.slice(1), ['--config', '/etc/ferry/config.yaml'], `${at}: --config /etc/ferry/config.yaml`);
        const mount = (c.volumeMounts ?? []).find((m: Any) => m.mountPath === '/etc/ferry');
        const vol = (pod.volumes ?? []).find((v: Any) => v.name === mount?.name);
        t.equal(vol?.configMap?.name, cm?.metadata.name, `${at}: mounts the rendered ferry-config at /etc/ferry`);
        t.ok((c.volumeMounts ?? []).some((m: Any) => m.mountPath === '/tmp'), `${at}: writable /tmp mounted`);

        const env = new Map<string, Any>((c.env ?? []).map((e: Any) => [e.name, e]));
        for (const e of env.keys()) {
          if (e.startsWith('FERRY_')) t.ok(known.has(e), `${at}: ${e} is a config override ferry understands`);
        }
        const https = role === 'webhook';
        if (!https) t.equal(env.get('FERRY_DASHBOARD_HOST')?.value, '0.0.0.0', `${at}: port 8080 may listen beyond loopback`);
        for (const [probe, path] of [
          ['startupProbe', '/healthz'],
          ['readinessProbe', '/readyz'],
          ['livenessProbe', '/healthz'],
        ] as const) {
          if (https) {
            // The webhook listens on webhook.host (0.0.0.0): the kubelet probes it over HTTPS.
            const g = c[probe]?.httpGet;
            t.equal(g?.path, path, `${at}: ${probe} GET ${path}`);
            t.equal(g?.scheme, 'HTTPS', `${at}: ${probe} over HTTPS`);
            t.equal(portNumber(c, g?.port), 8443, `${at}: ${probe} port 8443`);
          } else {
            // Port 8080 is loopback-only without dashboard.token: probed from inside the container.
            t.same(c[probe]?.exec?.command, [...HEALTHCHECK, `http://127.0.0.1:8080${path}`], `${at}: ${probe} runs the image's healthcheck on ${path}`);
            t.ok(c[probe]?.timeoutSeconds >= 5, `${at}: ${probe} allows a node start (timeoutSeconds >= 5)`);
          }
        }
        for (const e of env.values()) {
          const ref = e.valueFrom?.secretKeyRef;
          if (ref && ref.name !== 'ferry-webhook-tls') t.equal(ref.optional, true, `${at}: Secret ${ref.name} is optional`);
        }
        if (role === 'webhook') {
          const tlsVol = (pod.volumes ?? []).find((v: Any) => v.secret?.secretName === 'ferry-webhook-tls');
          const tlsMount = (c.volumeMounts ?? []).find((m: Any) => m.name === tlsVol?.name);
          t.ok(tlsMount, `${at}: mounts Secret ferry-webhook-tls`);
          t.equal(env.get('FERRY_WEBHOOK_CERT_FILE')?.value, `${tlsMount?.mountPath}/tls.crt`, `${at}: cert file in the Secret`);
          t.equal(env.get('FERRY_WEBHOOK_KEY_FILE')?.value, `${tlsMount?.mountPath}/tls.key`, `${at}: key file in the Secret`);
        }
      }
    }
    t.equal(images.size, 1, `all ferry containers run one image (${[...images].join(', ')})`);
    for (const role of ['webhook', 'worker', 'dashboard', 'watch']) t.ok(roles.has(role), `runs the ${role} role`);
    t.notOk(roles.has('all'), 'no all-in-one pod in a cluster');
  });

  t.test('registry notifications reach the watch role in-cluster', async (t) => {
    const svc = find('Service', 'ferry-watch');
    t.ok(svc, 'Service ferry-watch');
    const dep = find('Deployment', 'ferry-watch');
    t.ok(dep && matches(svc?.spec.selector ?? {}, dep.spec.template.metadata.labels), 'selects the watch Deployment');
    const c = (podSpecOf(dep!)?.containers ?? []).find(isFerry);
    t.equal(portNumber(c, svc?.spec.ports?.[0]?.targetPort), 8080, 'targets the shared HTTP port (POST /hooks/registry)');
    const env = new Map<string, Any>((c?.env ?? []).map((e: Any) => [e.name, e]));
    t.match(env.get('FERRY_HOOKS_SECRET')?.valueFrom?.secretKeyRef, { name: 'ferry-hooks', key: 'secret', optional: true }, 'hooks.secret from Secret ferry-hooks');
  });

  t.test('webhook availability: replicas, anti-affinity, disruption budget', async (t) => {
    const dep = find('Deployment', 'ferry-webhook');
    t.ok(dep, 'ferry-webhook Deployment');
    if (!dep) return;
    t.ok(dep.spec.replicas >= 2, 'at least 2 replicas');
    const anti = dep.spec.template.spec.affinity?.podAntiAffinity;
    const terms: Any[] = [
      ...(anti?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
      ...(anti?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((p: Any) => p.podAffinityTerm),
    ];
    t.ok(
      terms.some((term) => term.topologyKey === 'kubernetes.io/hostname' && matches(term.labelSelector?.matchLabels ?? {}, dep.spec.template.metadata.labels)),
      'podAntiAffinity spreads replicas over nodes',
    );
    const pdb = byKind('PodDisruptionBudget').find((p) => matches(p.spec.selector.matchLabels, dep.spec.template.metadata.labels));
    t.ok(pdb, 'a PodDisruptionBudget covers the webhook pods');
    t.ok(pdb && (pdb.spec.minAvailable >= 1 || pdb.spec.maxUnavailable !== undefined), 'PDB keeps a replica up');
  });

  t.test('references resolve', async (t) => {
    for (const o of objs.filter((x) => podSpecOf(x))) {
      const pod = podSpecOf(o);
      if (pod.serviceAccountName) t.ok(find('ServiceAccount', pod.serviceAccountName), `${id(o)}: ServiceAccount ${pod.serviceAccountName} rendered`);
      t.ok(
        !['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind) ? true : matches(o.spec.selector.matchLabels, o.spec.template.metadata.labels),
        `${id(o)}: selector matches its template`,
      );
      for (const v of pod.volumes ?? []) {
        if (v.configMap) t.ok(find('ConfigMap', v.configMap.name), `${id(o)}: ConfigMap ${v.configMap.name} rendered`);
        if (v.persistentVolumeClaim) t.ok(find('PersistentVolumeClaim', v.persistentVolumeClaim.claimName), `${id(o)}: PVC ${v.persistentVolumeClaim.claimName} rendered`);
        if (v.secret) t.ok(find('Secret', v.secret.secretName) || EXTERNAL_SECRETS.has(v.secret.secretName), `${id(o)}: Secret ${v.secret.secretName} known`);
      }
    }
    for (const svc of byKind('Service')) {
      t.ok(
        objs.some((o) => podSpecOf(o) && matches(svc.spec.selector, o.spec.template?.metadata?.labels)),
        `${id(svc)} selects a workload`,
      );
    }
  });

  t.test('the ImageWatch CRD is installed, exactly as generated', async (t) => {
    const crd = find('CustomResourceDefinition', 'imagewatches.ferry.io');
    t.ok(crd, 'CustomResourceDefinition imagewatches.ferry.io');
    const generated = parseYaml(readFileSync(join(ROOT, 'deploy/crds/imagewatches.ferry.io.yaml'), 'utf8')) as Obj;
    t.same(crd?.spec, generated.spec, 'spec as generated (kustomize adds only labels)');
    t.notOk(crd?.metadata.namespace, 'cluster-scoped: no namespace');
    t.same(crd?.spec.versions.map((v: Any) => v.subresources), [{ status: {} }], 'status subresource');
  });

  // RBAC (one ServiceAccount per role, exact grants, tokens, secrets) is test/deploy/rbac.test.ts.

  t.test('Services are named for the role that serves them', async (t) => {
    // ferry-dashboard: the page and JSON API (images, in-use pods, GET /api/gc);
    // ferry-watch: POST /hooks/registry and the watch API. Both on the shared port 8080.
    for (const role of ['dashboard', 'watch']) {
      const svc = find('Service', `ferry-${role}`);
      t.ok(svc, `Service ferry-${role}`);
      const backends = objs.filter((o) => podSpecOf(o) && matches(svc?.spec.selector ?? {}, o.spec.template?.metadata?.labels));
      t.same(backends.map(id), [`Deployment/${NAMESPACE}/ferry-${role}`], `ferry-${role} selects the ferry-${role} Deployment only`);
      const c = (podSpecOf(backends[0] ?? ({} as Obj))?.containers ?? []).find(isFerry);
      t.equal(c?.args?.[0], role, `which runs \`ferry ${role}\``);
      t.equal(portNumber(c, svc?.spec.ports?.[0]?.targetPort), 8080, `ferry-${role} targets port 8080`);
    }
    for (const svc of byKind('Service').filter((x) => x.metadata.name.startsWith('ferry-'))) {
      const role = svc.metadata.name.slice('ferry-'.length);
      for (const o of objs.filter((x) => podSpecOf(x) && matches(svc.spec.selector, x.spec.template?.metadata?.labels))) {
        const c = (podSpecOf(o)?.containers ?? []).find(isFerry);
        if (c) t.equal(c.args?.[0], role, `${id(svc)} reaches only \`ferry ${role}\` pods (${id(o)})`);
      }
    }
  });

  // Overlay-specific checks
  if (name === 'cert-manager') {
    t.test('cert-manager issues the serving certificate and injects the CA', async (t) => {
      const issuer = byKind('Issuer')[0];
      const cert = byKind('Certificate')[0];
      t.ok(issuer?.spec?.selfSigned !== undefined, 'self-signed Issuer');
      t.equal(cert?.spec?.issuerRef?.name, issuer?.metadata.name, 'Certificate uses that Issuer');
      t.equal(cert?.spec?.secretName, 'ferry-webhook-tls', 'into the Secret the webhook mounts');
      t.same([...(cert?.spec?.dnsNames ?? [])].sort(), [...WEBHOOK_SANS].sort(), 'dnsNames cover the webhook Service');
      for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
        const wc = byKind(kind)[0];
        t.equal(
          wc?.metadata.annotations?.['cert-manager.io/inject-ca-from'],
          `${NAMESPACE}/${cert?.metadata.name}`,
          `${kind}: cert-manager.io/inject-ca-from names the Certificate`,
        );
        t.notOk((wc?.webhooks ?? []).some((w: Any) => w.clientConfig?.caBundle), `${kind}: caBundle left to the CA injector`);
      }
    });
  }

  if (name === 'fail-closed') {
    t.test('fail-closed: labelled namespaces get a validating entry that refuses what it cannot check', async (t) => {
      const hooks: Any[] = byKind('ValidatingWebhookConfiguration')[0]?.webhooks ?? [];
      const closed = hooks.filter((w) => w.failurePolicy === 'Fail');
      t.equal(closed.length, 1, 'one fail-closed entry');
      t.match(closed[0]?.namespaceSelector?.matchExpressions, [
        { key: 'kubernetes.io/metadata.name', operator: 'NotIn' },
        { key: 'ferry.io/fail-closed', operator: 'In', values: ['true'] },
      ]);
      t.ok(
        byKind('MutatingWebhookConfiguration').every((m) => (m.webhooks as Any[]).every((w) => w.failurePolicy === 'Ignore')),
        'the mutating webhook stays fail-open (the validating one is the gate)',
      );
    });
  }

  if (name === 'credentials-from-pods') {
    t.test('credentials-from-pods: the worker may get (only get) secrets, and the config uses it', async (t) => {
      const role = find('ClusterRole', 'ferry-worker-pull-secrets');
      t.same(grants(role?.rules ?? []), ['/secrets:get'], 'ClusterRole ferry-worker-pull-secrets: secrets get, nothing else');
      const binding = find('ClusterRoleBinding', 'ferry-worker-pull-secrets');
      t.match(binding, { roleRef: { kind: 'ClusterRole', name: 'ferry-worker-pull-secrets' } }, 'bound');
      t.same(binding?.subjects, [{ kind: 'ServiceAccount', name: 'ferry-worker', namespace: NAMESPACE }], 'to ferry-worker only');
      t.equal(find('Deployment', 'ferry-worker')?.spec.template.spec.automountServiceAccountToken, true, 'the worker pods get an API token');
      const config = parseYaml(objs.find((o) => o.kind === 'ConfigMap')!.data['config.yaml']) as Any;
      const hosts = Object.entries(config.registries ?? {}).filter(([, r]) => (r as Any).credentialsFromPods === true);
      t.ok(hosts.length > 0, `config.yaml sets credentialsFromPods: true for ${hosts.map(([h]) => h).join(', ')}`);
      const component = readFileSync(join(ROOT, 'deploy/components/credentials-from-pods/kustomization.yaml'), 'utf8');
      t.match(component, /EVERY namespace/, 'the component says the grant reaches every namespace');
      t.match(component, /no list and no watch/, 'and why it is bounded');
    });
  }

  if (name === 'agent') {
    t.test('agent: a DaemonSet on every node, its socket and folder mounted where the config says', async (t) => {
      const ds = find('DaemonSet', AGENT);
      t.ok(ds, 'DaemonSet ferry-agent');
      if (!ds) return;
      const pod = ds.spec.template.spec;
      const c = (pod.containers as Any[]).find(isFerry);
      t.same(c?.args, ['agent', '--config', '/etc/ferry/config.yaml'], 'runs `ferry agent`');
      const env = new Map<string, Any>((c?.env ?? []).map((e: Any) => [e.name, e]));
      t.equal(env.get('NODE_NAME')?.valueFrom?.fieldRef?.fieldPath, 'spec.nodeName', 'NODE_NAME from the downward API');
      const volumeAt = (mountPath: string) => {
        const m = (c?.volumeMounts ?? []).find((x: Any) => x.mountPath === mountPath);
        return (pod.volumes ?? []).find((v: Any) => v.name === m?.name);
      };
      const config = resolveConfig(parseYaml(objs.find((o) => o.kind === 'ConfigMap')!.data['config.yaml']), Object.fromEntries([...env].filter(([, e]) => typeof e.value === 'string').map(([k, e]) => [k, e.value])), 'agent config').config;
      t.match(volumeAt(config.agent.criSocket)?.hostPath, { type: 'Socket' }, `agent.criSocket (${config.agent.criSocket}) is the host's socket, type Socket`);
      t.match(volumeAt(config.agent.importDir)?.hostPath, { path: '/var/lib/ferry/images', type: 'DirectoryOrCreate' }, 'agent.importDir is the host folder /var/lib/ferry/images');
      t.ok(config.agent.startupTaint, 'the example config sets a startup taint');
      const tolerates = (pod.tolerations ?? []).some((tol: Any) => (tol.operator === 'Exists' && (!tol.key || tol.key === config.agent.startupTaint)) && (!tol.effect || tol.effect === 'NoSchedule'));
      t.ok(tolerates, `tolerates the startup taint ${config.agent.startupTaint} (else it could never run where it must remove it)`);
      t.ok((pod.tolerations ?? []).some((tol: Any) => tol.operator === 'Exists' && !tol.key), 'and any other taint: every node gets the agent');
      t.equal(pod.automountServiceAccountToken, true, 'an API token: its Node is read and patched');
      t.equal(c?.securityContext?.privileged, undefined, 'not privileged');
      const agentDoc = readFileSync(join(ROOT, 'deploy/components/agent/agent.yaml'), 'utf8');
      for (const path of ['/run/k3s/containerd/containerd.sock', '/var/run/crio/crio.sock']) t.match(agentDoc, path, `agent.yaml names the ${path} socket`);
      t.match(agentDoc, /root-equivalent/, 'and says socket access is root on the node');
    });
  }

  if (name === 'manual-certs' || name === 'dev') {
    t.test('no keys or CA in the manifests', async (t) => {
      t.equal(byKind('Secret').length, 0, 'no Secret rendered');
      for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
        t.notOk((byKind(kind)[0]?.webhooks ?? []).some((w: Any) => w.clientConfig?.caBundle), `${kind}: no caBundle: patched in after apply`);
      }
    });
  }

  if (name === 'manual-certs') {
    t.test('the documented manual-certs commands work on make-certs.sh output', { skip: which('openssl') ? false : missing('openssl') }, async (t) => {
      const tmp = mkdtempSync(join(tmpdir(), 'ferry-manual-certs-'));
      t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
      const made = run('bash', [join(ROOT, 'certs/make-certs.sh'), join(tmp, 'out')]);
      t.equal(made.status, 0, `make-certs.sh succeeds ${made.stderr}`);
      const caBundle = readFileSync(join(tmp, 'out/ca-bundle.b64'), 'utf8').trim();

      // kubectl -n ferry-system create secret generic ferry-webhook-tls ... --dry-run=client -o yaml
      const sec = run(
        kubectl!,
        [
          '-n', NAMESPACE, 'create', 'secret', 'generic', 'ferry-webhook-tls', '--type=kubernetes.io/tls',
          '--from-file=tls.crt=out/tls.crt', '--from-file=tls.key=out/tls.key', '--from-file=ca.crt=out/ca.crt',
          '--dry-run=client', '-o', 'yaml',
        ],
        { cwd: tmp },
      );
      t.equal(sec.status, 0, `create secret --dry-run=client works offline ${sec.stderr}`);
      const secret = parseYaml(sec.stdout) as Obj;
      const { Secret } = await import('kubernetes-models/v1/Secret');
      t.doesNotThrow(() => new Secret(secret as Any).validate(), 'Secret validates');
      t.equal(secret.type, 'kubernetes.io/tls', 'type kubernetes.io/tls');
      t.same(Object.keys(secret.data).sort(), ['ca.crt', 'tls.crt', 'tls.key'], 'same keys as a cert-manager Secret');
      t.equal(secret.data['ca.crt'], caBundle, 'its ca.crt is the printed caBundle');

      // kubectl patch {mutating,validating}webhookconfiguration ferry --type=json -p '[...caBundle...]'
      for (const [kind, resource] of [
        ['MutatingWebhookConfiguration', 'mutatingwebhookconfiguration'],
        ['ValidatingWebhookConfiguration', 'validatingwebhookconfiguration'],
      ] as const) {
        writeFileSync(join(tmp, 'wc.yaml'), JSON.stringify(byKind(kind)[0]));
        const patch = JSON.stringify([{ op: 'add', path: '/webhooks/0/clientConfig/caBundle', value: caBundle }]);
        const p = run(kubectl!, ['patch', '--local', '-f', 'wc.yaml', '--type=json', '-p', patch, '-o', 'yaml'], { cwd: tmp });
        t.equal(p.status, 0, `${kind}: json patch applies ${p.stderr}`);
        const patched = parseYaml(p.stdout) as Obj;
        t.equal(patched.webhooks[0].clientConfig.caBundle, caBundle, `${kind}: caBundle patched in`);
        const Model = await modelFor('admissionregistration.k8s.io/v1', kind);
        t.doesNotThrow(() => new Model(patched as Any).validate(), `${kind}: patched object still validates`);
        t.match(readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8'), `kubectl patch ${resource} ferry --type=json`, `docs/deploy.md documents the ${resource} patch`);
      }

      const docs = readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8');
      t.match(docs, '/webhooks/0/clientConfig/caBundle', 'docs/deploy.md patches the caBundle path tested here');
      t.match(docs, 'create secret generic ferry-webhook-tls --type=kubernetes.io/tls', 'docs/deploy.md documents the Secret');
    });
  }

  if (name === 'dev') {
    t.test('dev: in-cluster Redis and registry, wired to the config', async (t) => {
      const redis = find('StatefulSet', 'ferry-redis');
      t.ok(redis, 'Redis StatefulSet');
      const rc = redis?.spec.template.spec.containers[0];
      const args: string[] = rc?.args ?? [];
      const flag = (f: string) => args[args.indexOf(f) + 1];
      t.equal(flag('--appendonly'), 'yes', 'Redis AOF persistence');
      t.equal(flag('--maxmemory-policy'), 'noeviction', 'Redis noeviction (BullMQ)');
      const claim = redis?.spec.volumeClaimTemplates?.[0]?.metadata.name;
      t.equal((rc?.volumeMounts ?? []).find((m: Any) => m.name === claim)?.mountPath, flag('--dir'), 'Redis data dir on its PVC');

      const reg = find('Deployment', 'ferry-registry');
      const gc = reg?.spec.template.spec.containers[0];
      t.equal((gc?.env ?? []).find((e: Any) => e.name === 'REGISTRY_STORAGE_DELETE_ENABLED')?.value, 'true', 'registry deletes enabled');
      const dataMount = (gc?.volumeMounts ?? []).find((m: Any) => m.mountPath === '/var/lib/registry');
      const dataVol = (reg?.spec.template.spec.volumes ?? []).find((v: Any) => v.name === dataMount?.name);
      t.ok(dataVol?.persistentVolumeClaim, 'registry storage on a PVC');

      const config = parseYaml(objs.find((o) => o.kind === 'ConfigMap')!.data['config.yaml']) as Any;
      const svc = find('Service', 'ferry-registry');
      t.equal(svc?.spec.type, 'NodePort', 'registry reachable from nodes');
      t.equal(config.mirror.registry, `127.0.0.1:${svc?.spec.ports[0].nodePort}`, 'images rewritten to the NodePort on node loopback');
      t.equal(
        config.registries?.[config.mirror.registry]?.endpoint,
        `http://ferry-registry.${NAMESPACE}.svc:${svc?.spec.ports[0].port}`,
        'ferry pods push through the registry Service',
      );
      const redisSvc = find('Service', 'ferry-redis');
      t.equal(config.queue.redisUrl, `redis://${redisSvc?.metadata.name}:${redisSvc?.spec.ports[0].port}`, 'redisUrl names the Redis Service');
      t.ok(find('Deployment', 'ferry-import'), 'import role included');
    });
  }
}

t.test('kustomize overlays', { skip: kubectl ? false : missing('kubectl') }, async (t) => {
  const overlaysDir = join(ROOT, 'deploy/overlays');
  const overlays = readdirSync(overlaysDir).filter((d) => statSync(join(overlaysDir, d)).isDirectory()).sort();
  for (const o of EXPECTED_OVERLAYS) t.ok(overlays.includes(o), `overlay ${o} exists`);

  t.test('the validator is not a no-op', async (t) => {
    const { Deployment } = await import('kubernetes-models/apps/v1/Deployment');
    t.throws(() => new Deployment({ metadata: { name: 'x' }, spec: { replicas: 'two' } } as Any).validate(), 'bad replicas rejected');
  });

  t.test('base renders', async (t) => {
    t.ok(render(join(ROOT, 'deploy/base')).length > 0);
  });

  for (const name of overlays) {
    await t.test(`overlay ${name}`, async (t) => {
      const dir = join(ROOT, 'deploy/overlays', name);
      let objs: Obj[] = [];
      t.doesNotThrow(() => {
        objs = render(dir);
      }, `kubectl kustomize deploy/overlays/${name}`);
      t.ok(objs.length > 0, 'renders objects');
      if (objs.length) await checkOverlay(t, name, dir, objs);
    });
  }
});
