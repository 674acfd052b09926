/**
 * Node agent states as `ferry agent` publishes them (src/nodes/node-state.ts), for the Nodes API and view
 * tests: a ready containerd node, a k3s node still pulling with one failed pre-pull, and a node whose
 * agent stopped publishing an hour ago.
 */
import type { NodeState } from '../../../src/nodes/index.js';

const d = (c: string) => `sha256:${c.repeat(64).slice(0, 64)}`;
const MIRROR = 'mirror.local:5000/mirror';

export function sampleNodes(now = Date.now()): NodeState[] {
  const iso = (msAgo: number) => new Date(now - msAgo).toISOString();
  return [
    {
      node: 'node-a',
      seenAt: iso(2_000),
      version: '0.1.0',
      runtime: 'containerd 1.7.20',
      ready: true,
      taint: { key: 'ferry.io/images-not-ready', removed: true, removedAt: iso(600_000) },
      prepull: [
        { image: 'docker.io/library/nginx:1.27', ref: `${MIRROR}/docker.io/library/nginx:1.27`, source: 'config', status: 'present', digest: d('a1'), bytes: 72_400_000, attempts: 0, pulledAt: iso(700_000) },
        { image: 'ghcr.io/acme/api:2.4.1', ref: `${MIRROR}/ghcr.io/acme/api:2.4.1`, source: 'in-use', status: 'present', digest: d('b2'), bytes: 184_000_000, attempts: 0, pulledAt: iso(650_000) },
      ],
      imports: [
        { file: 'airgap-bundle.tar.zst', status: 'imported', size: 412_000_000, images: ['docker.io/library/redis:7.4', 'docker.io/library/postgres:16'], digests: [d('c3'), d('d4')], bytes: 398_000_000, at: iso(900_000) },
      ],
    },
    {
      node: 'node-b',
      seenAt: iso(5_000),
      version: '0.1.0',
      runtime: 'containerd 1.7.11-k3s2',
      ready: false,
      taint: { key: 'ferry.io/images-not-ready', removed: false },
      prepull: [
        { image: 'docker.io/library/nginx:1.27', ref: `${MIRROR}/docker.io/library/nginx:1.27`, source: 'config', status: 'present', digest: d('a1'), bytes: 72_400_000, attempts: 0, pulledAt: iso(30_000) },
        { image: 'ghcr.io/acme/api:2.4.1', ref: `${MIRROR}/ghcr.io/acme/api:2.4.1`, source: 'workload', status: 'pulling', attempts: 0 },
        {
          image: 'quay.io/acme/<b>ml</b>:latest',
          ref: `${MIRROR}/quay.io/acme/ml:latest`,
          source: 'config',
          status: 'error',
          attempts: 3,
          error: '[FERRY_ERR_CRI_PULL_FAILED] failed to pull: not found',
          retryAt: new Date(now + 90_000).toISOString(),
        },
      ],
      imports: [{ file: 'broken.tar', status: 'error', size: 1024, images: [], digests: [], error: '[FERRY_ERR_CONTAINERD_BAD_ARCHIVE] not a docker-archive or OCI layout', at: iso(60_000) }],
    },
    {
      node: 'node-c',
      seenAt: iso(3_600_000),
      version: '0.1.0',
      runtime: 'cri-o 1.30.2',
      ready: true,
      prepull: [{ image: 'docker.io/library/nginx:1.27', ref: `${MIRROR}/docker.io/library/nginx:1.27`, source: 'config', status: 'present', digest: d('a1'), bytes: 72_400_000, attempts: 0 }],
      imports: [],
    },
  ];
}
