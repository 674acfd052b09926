/**
 * GitHub `package` and `registry_package` webhook events (header
 * `X-GitHub-Event`), for container packages on ghcr.io: the repository is
 * `<owner>/<package name>` (lowercase, as ghcr.io names it), the tag
 * `package_version.container_metadata.tag.name`. Signed with
 * `X-Hub-Signature-256` (checked in src/access).
 */
import { watchError } from '../errors.js';
import { header, isObj, str, type HookRequest, type RegistryEvent } from './types.js';

export const GITHUB_EVENTS = ['package', 'registry_package'] as const;

export function isGithub(req: HookRequest): boolean {
  return header(req.headers, 'x-github-event') !== undefined;
}

/** `{events}`, or `{events: [], note}` for a ping and for other events and package types (npm, maven...). */
export function parseGithub(req: HookRequest): { events: RegistryEvent[]; note?: string } {
  const event = header(req.headers, 'x-github-event')!;
  if (event === 'ping') return { events: [], note: 'GitHub ping: the webhook reaches ferry' };
  if (!(GITHUB_EVENTS as readonly string[]).includes(event)) {
    return { events: [], note: `GitHub event "${event}" is not a package event; subscribe the webhook to "Packages" (package) or "Registry packages" (registry_package) only` };
  }
  const b = isObj(req.body) ? req.body : {};
  const pkg = isObj(b[event]) ? (b[event] as Record<string, unknown>) : undefined;
  if (!pkg) throw watchError('HOOK_INVALID', `a GitHub ${event} event without "${event}"`);
  const type = (str(pkg.package_type) ?? '').toLowerCase();
  if (type !== 'container' && type !== 'docker') return { events: [], note: `GitHub package type "${type || '?'}" is not a container image` };
  const name = str(pkg.name);
  const owner = str(isObj(pkg.owner) ? pkg.owner.login : undefined) ?? str(pkg.namespace);
  if (!name || !owner) throw watchError('HOOK_INVALID', `a GitHub ${event} event without package name or owner`);
  const version = isObj(pkg.package_version) ? pkg.package_version : {};
  const meta = isObj(version.container_metadata) ? version.container_metadata : {};
  const tag = isObj(meta.tag) ? meta.tag : {};
  const versionName = str(version.name);
  const digest = str(tag.digest) ?? (versionName?.startsWith('sha256:') ? versionName : undefined);
  const action = str(b.action);
  return {
    events: [
      {
        // published: a new version (a push); updated: a tag moved onto an existing version.
        action: action === 'published' || action === 'updated' ? 'push' : (action ?? 'unknown'),
        repository: `${owner}/${name}`.toLowerCase(),
        tag: str(tag.name),
        digest,
        host: registryHost(pkg.registry),
      },
    ],
  };
}

function registryHost(registry: unknown): string {
  const url = isObj(registry) ? str(registry.url) : undefined;
  if (url) {
    try {
      const host = new URL(url).host.toLowerCase();
      // GitHub names the registry of container packages https://ghcr.io; the old docker.pkg.github.com is gone.
      if (host && host !== 'docker.pkg.github.com') return host;
    } catch {
      /* not a URL: ghcr.io */
    }
  }
  return 'ghcr.io';
}
