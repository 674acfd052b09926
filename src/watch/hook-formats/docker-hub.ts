/**
 * Docker Hub repository webhooks: `{push_data: {tag, pusher, pushed_at},
 * repository: {repo_name: "namespace/name", ...}, callback_url}`. No event
 * type (a push is the only trigger), no signature, no custom headers.
 */
import { watchError } from '../errors.js';
import { isObj, str, type HookRequest, type RegistryEvent } from './types.js';

export function isDockerHub(req: HookRequest): boolean {
  return isObj(req.body) && isObj(req.body.push_data) && isObj(req.body.repository);
}

export function parseDockerHub(body: unknown): RegistryEvent[] {
  const b = isObj(body) ? body : {};
  const push = isObj(b.push_data) ? b.push_data : {};
  const repo = isObj(b.repository) ? b.repository : {};
  // repo_name is "namespace/name"; older payloads spell it out as namespace + name.
  const named = str(repo.repo_name) ?? (str(repo.namespace) && str(repo.name) ? `${str(repo.namespace)}/${str(repo.name)}` : undefined);
  if (!named) throw watchError('HOOK_INVALID', 'a Docker Hub webhook without repository.repo_name');
  const tag = str(push.tag);
  // An official image has no namespace in the Hub UI; its repository path is library/<name>.
  const repository = named.includes('/') ? named : `library/${named}`;
  return [{ action: 'push', repository, tag, host: 'docker.io' }];
}
