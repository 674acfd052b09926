/**
 * Every sender's payload (samples written from each sender's published docs,
 * test/watch/fixtures/hooks/) parses into the same RegistryEvents; detection
 * is by headers and shape; anything else is a 400 that lists the formats.
 * Pure: no I/O.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { inUseRefsForEvents, watchesForEvent } from '../../src/watch/hooks.js';
import { ACCEPTED_FORMATS, HOOK_FORMATS, parseHookRequest, splitImageUrl } from '../../src/watch/hook-formats/index.js';
import { resolveWatch } from '../../src/watch/index.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'hooks', `${name}.json`), 'utf8'));

t.test('each format, from its sample payload', async (t) => {
  const table: { name: string; headers?: Record<string, string>; format: string; events: object[] }[] = [
    {
      name: 'distribution',
      format: 'distribution',
      events: [
        { action: 'push', repository: 'team/api', tag: '2.4.1', host: 'registry.corp.example', digest: 'sha256:4b1a0c6a3f9f0b8f5e2d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a61' },
        { action: 'push', repository: 'team/api', tag: undefined, host: 'registry.corp.example' },
      ],
    },
    {
      name: 'gitlab',
      headers: { 'x-gitlab-token': 's' },
      format: 'gitlab',
      events: [{ action: 'push', repository: 'platform/tools/builder', tag: 'main', host: 'registry.gitlab.corp.example' }],
    },
    { name: 'dockerhub', format: 'dockerhub', events: [{ action: 'push', repository: 'acme/webshop', tag: 'v3.2.0', host: 'docker.io', digest: undefined }] },
    {
      name: 'harbor',
      format: 'harbor',
      events: [{ action: 'push', repository: 'payments/ledger', tag: '1.9.0', host: 'harbor.corp.example', digest: 'sha256:6d3c2e8c5f1b2d0a7a4f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c83' }],
    },
    {
      name: 'harbor-cloudevents',
      format: 'harbor-cloudevents',
      events: [{ action: 'push', repository: 'payments/reports', tag: '2026.11', host: 'harbor.corp.example:8443' }],
    },
    {
      name: 'github-package',
      headers: { 'x-github-event': 'package' },
      format: 'github',
      // ghcr.io names repositories in lowercase, whatever case the package was created with
      events: [{ action: 'push', repository: 'acme-corp/inventory-service', tag: 'v0.14.2', host: 'ghcr.io', digest: 'sha256:8f5e4a0e7b3d4f2c9c6b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1ea5' }],
    },
    {
      name: 'github-registry-package',
      headers: { 'x-github-event': 'registry_package' },
      format: 'github',
      events: [{ action: 'push', repository: 'octo-lab/edge-proxy', tag: 'stable', host: 'ghcr.io' }],
    },
    {
      name: 'quay',
      format: 'quay',
      events: [
        { action: 'push', repository: 'observability/metrics-agent', tag: '0.31.0', host: 'quay.io' },
        { action: 'push', repository: 'observability/metrics-agent', tag: 'latest', host: 'quay.io' },
      ],
    },
  ];
  for (const row of table) {
    const d = parseHookRequest({ headers: row.headers ?? {}, body: fixture(row.name) });
    t.equal(d.format, row.format, `${row.name}: recognized`);
    t.match(d.events, row.events, `${row.name}: events`);
    t.equal(d.events.length, row.events.length, `${row.name}: as many events`);
  }
  t.same(HOOK_FORMATS.slice().sort(), ['distribution', 'dockerhub', 'github', 'gitlab', 'harbor', 'harbor-cloudevents', 'quay']);
});

t.test('variants each sender documents', async (t) => {
  const events = (headers: Record<string, string>, body: unknown) => parseHookRequest({ headers, body }).events;
  // Docker Hub: a bare name is an official image (library/...); older payloads without repo_name
  t.match(events({}, { push_data: { tag: 'latest' }, repository: { repo_name: 'nginx' } }), [{ repository: 'library/nginx', host: 'docker.io' }]);
  t.match(events({}, { push_data: { tag: '1' }, repository: { namespace: 'acme', name: 'cli' } }), [{ repository: 'acme/cli', tag: '1' }]);
  // Quay: the old object form of updated_tags; a self-hosted Quay's host from docker_url
  t.match(events({}, { repository: 'ns/app', docker_url: 'quay.corp.example/ns/app', updated_tags: { v1: 'abc' } }), [{ repository: 'ns/app', tag: 'v1', host: 'quay.corp.example' }]);
  t.same(events({}, { repository: 'ns/app', docker_url: 'quay.io/ns/app', updated_tags: [] }), [], 'no tags: nothing to do');
  // Harbor: other event types are not pushes; a digest-only resource has no tag
  t.match(events({}, { type: 'PULL_ARTIFACT', event_data: { resources: [{ resource_url: 'h.example/p/r:1', tag: '1' }] } }), [{ action: 'pull_artifact' }]);
  t.match(events({}, { type: 'PUSH_ARTIFACT', event_data: { resources: [{ resource_url: 'h.example/p/r@sha256:ab', digest: 'sha256:ab' }] } }), [{ repository: 'p/r', tag: undefined, host: 'h.example' }]);
  // Harbor CloudEvents in binary mode: attributes in ce-* headers, the data as the body
  const data = (fixture('harbor-cloudevents') as { data: unknown }).data;
  t.match(parseHookRequest({ headers: { 'ce-type': 'harbor.artifact.pushed', 'ce-specversion': '1.0' }, body: data }), { format: 'harbor-cloudevents', events: [{ action: 'push', tag: '2026.11' }] });
  // GitHub: a ping, other events, non-container packages, untagged versions
  t.match(parseHookRequest({ headers: { 'x-github-event': 'ping' }, body: { zen: 'Keep it logically awesome.' } }), { format: 'github', events: [], note: /ping/ });
  t.match(parseHookRequest({ headers: { 'x-github-event': 'push' }, body: { ref: 'refs/heads/main' } }), { events: [], note: /not a package event/ });
  t.match(parseHookRequest({ headers: { 'x-github-event': 'package' }, body: { action: 'published', package: { name: 'x', package_type: 'npm', owner: { login: 'o' } } } }), { events: [], note: /npm/ });
  t.match(events({ 'x-github-event': 'package' }, { action: 'published', package: { name: 'x', package_type: 'container', owner: { login: 'O' }, package_version: { container_metadata: { tag: { name: '' } } } } }), [{ repository: 'o/x', tag: undefined }]);
  t.match(splitImageUrl('https://h.example:5000/a/b/c:1'), { host: 'h.example:5000', repository: 'a/b/c' });
  t.equal(splitImageUrl('no-host'), undefined);
});

t.test('unknown or malformed payloads: 400 listing the accepted formats', async (t) => {
  for (const body of [undefined, null, 'x', [1, 2], {}, { hello: 'world' }, { specversion: '1.0', type: 'com.example.other' }]) {
    t.throws(() => parseHookRequest({ headers: {}, body }), { code: 'FERRY_ERR_WATCH_HOOK_INVALID', status: 400, hint: /GitHub[\s\S]*Harbor[\s\S]*CloudEvents[\s\S]*Docker Hub[\s\S]*Quay[\s\S]*distribution[\s\S]*GitLab/ }, JSON.stringify(body));
  }
  const unknown = (() => {
    try {
      parseHookRequest({ headers: {}, body: {} });
    } catch (e) {
      return e as { details?: unknown };
    }
  })();
  t.same(unknown?.details, { accepted: ['github', 'harbor-cloudevents', 'harbor', 'dockerhub', 'quay', 'distribution'] }, 'the formats, by name, in the details');
  // A recognized sender whose payload misses what ferry needs: the same code, the format named
  t.throws(() => parseHookRequest({ headers: {}, body: { events: [{ action: 'push' }] } }), { code: 'FERRY_ERR_WATCH_HOOK_INVALID', message: /distribution: events\[0\]/, details: { format: 'distribution' } });
  t.throws(() => parseHookRequest({ headers: { 'x-github-event': 'package' }, body: { action: 'published' } }), { message: /github/ });
  t.throws(() => parseHookRequest({ headers: {}, body: { push_data: {}, repository: {} } }), { message: /dockerhub: .*repo_name/ });
  // GitLab's project webhooks have no registry event: say where registry notifications are configured
  t.throws(() => parseHookRequest({ headers: { 'x-gitlab-event': 'Push Hook' }, body: { object_kind: 'push' } }), { message: /GitLab has no webhook event for its container registry.*notifications/ });
  t.equal(ACCEPTED_FORMATS.length, 6);
});

t.test('matching: each sender names its registry host', async (t) => {
  const w = (id: string, image: string, strategy = 'semver') =>
    resolveWatch({ id, image, strategy, ...(strategy === 'semver' ? { constraint: '*' } : {}), schedule: '0 0 1 1 *' } as never, 'config');
  const watches = [
    w('hub', 'docker.io/acme/webshop'),
    w('ghcr', 'ghcr.io/acme-corp/inventory-service'),
    w('quay', 'quay.io/observability/metrics-agent'),
    w('harbor', 'harbor.corp.example/payments/ledger'),
    w('harbor-pinned', 'harbor.corp.example/payments/ledger:2.0.0', 'digest'),
    w('other-host', 'registry.corp.example/payments/ledger'),
  ];
  const ids = (name: string, headers: Record<string, string> = {}) =>
    parseHookRequest({ headers, body: fixture(name) }).events.flatMap((ev) => watchesForEvent(ev, watches, {}).map((x) => x.id));
  t.same(ids('dockerhub'), ['hub']);
  t.same(ids('github-package', { 'x-github-event': 'package' }), ['ghcr']);
  t.same([...new Set(ids('quay'))], ['quay']);
  t.same(ids('harbor'), ['harbor'], 'a digest watch of another tag does not react; the same path on another host neither');
  // In-use tags (what pods run): same host, path and tag only; digest references never
  const inUse = ['docker.io/acme/webshop:v3.2.0', 'docker.io/acme/webshop:v3.1.0', 'quay.io/observability/metrics-agent:latest', 'harbor.corp.example/payments/ledger@sha256:' + 'a'.repeat(64)];
  t.same(inUseRefsForEvents(parseHookRequest({ headers: {}, body: fixture('dockerhub') }).events, inUse, {}), ['docker.io/acme/webshop:v3.2.0']);
  t.same(inUseRefsForEvents(parseHookRequest({ headers: {}, body: fixture('quay') }).events, inUse, {}), ['quay.io/observability/metrics-agent:latest']);
  t.same(inUseRefsForEvents(parseHookRequest({ headers: {}, body: fixture('harbor') }).events, inUse, {}), []);
  t.same(inUseRefsForEvents([{ action: 'pull', repository: 'acme/webshop', tag: 'v3.2.0' }], inUse, {}), [], 'pulls re-check nothing');
});
