/**
 * What a pod's spec may make ferry carry for tenant isolation: the pull-secret names of a pod go into
 * the producer's buffer (memory), Redis and jobs, and each is an API read in a worker, so a pod author
 * listing thousands of them, or names no Secret can have, must not get them all through.
 */
import t from 'tap';
import { resolveConfig } from '../../src/config/index.js';
import { compilePolicy } from '../../src/policy/index.js';
import { handleAdmission, type AdmissionRequest } from '../../src/webhook/index.js';
import { MAX_PULL_SECRETS } from '../../src/webhook/handle.js';

const config = resolveConfig({ mirror: { registry: '127.0.0.1:5000' }, registries: { 'ghcr.io': { credentialsFromPods: true } } }).config;
const deps = { policy: compilePolicy(config), namespace: () => ({ annotations: {} }), lookup: () => undefined };

function admit(imagePullSecrets: unknown[]) {
  const req = {
    uid: 'u1',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    namespace: 'team-b',
    operation: 'CREATE',
    object: { metadata: { name: 'p' }, spec: { containers: [{ name: 'app', image: 'ghcr.io/acme/app:1' }], imagePullSecrets } },
  } as unknown as AdmissionRequest;
  return handleAdmission(req, deps).decision!.enqueue[0]!.requester!.pullSecrets;
}

t.test("a copy request carries at most MAX_PULL_SECRETS of the pod's pull-secret names, each one a Secret could have", async (t) => {
  const many = Array.from({ length: 5000 }, (_, i) => ({ name: `s${i}-${'x'.repeat(200)}` }));
  const names = admit(many);
  t.equal(names.length, MAX_PULL_SECRETS, `5,000 names: the first ${MAX_PULL_SECRETS}`);
  t.same(names, many.slice(0, MAX_PULL_SECRETS).map((s) => s.name), 'in the pod\'s order (the kubelet\'s too)');
  t.same(admit([{ name: '../team-a/regcred' }, { name: 'Regcred' }, { name: 'x'.repeat(300) }, { name: 'a/b' }, { name: 'regcred' }, { name: 'reg.cred-2' }]), ['regcred', 'reg.cred-2'], 'names no Secret can have are not read');
});
