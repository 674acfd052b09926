/**
 * docker-registry (CNCF distribution) notification envelopes
 * (`application/vnd.docker.distribution.events.v1+json`): also what GitLab's
 * container registry, a distribution fork, sends from its `notifications:`
 * endpoints. GitLab's project webhooks have no container-registry event.
 */
import { watchError } from '../errors.js';
import { header, isObj, str, type HookRequest, type RegistryEvent } from './types.js';

export const EVENTS_MEDIA_TYPE = 'application/vnd.docker.distribution.events.v1+json';

export function isDistribution(req: HookRequest): boolean {
  return isObj(req.body) && Array.isArray(req.body.events);
}

/** GitLab's registry is configured by its operator, who may add `X-Gitlab-Token` to the endpoint's headers. */
export function isGitlab(req: HookRequest): boolean {
  return header(req.headers, 'x-gitlab-token') !== undefined || /gitlab/i.test(header(req.headers, 'user-agent') ?? '');
}

/** Throws FERRY_ERR_WATCH_HOOK_INVALID for anything but `{events: [{action, target: {repository}}...]}`. */
export function parseDistribution(body: unknown): RegistryEvent[] {
  if (!isObj(body) || !Array.isArray(body.events)) {
    throw watchError('HOOK_INVALID', 'not a registry notification envelope: expected an object with an "events" array');
  }
  return body.events.map((ev, i) => {
    if (!isObj(ev) || !str(ev.action) || !isObj(ev.target) || !str(ev.target.repository)) {
      throw watchError('HOOK_INVALID', `events[${i}] is malformed: expected {action, target: {repository, ...}}`);
    }
    const t = ev.target;
    const req = isObj(ev.request) ? ev.request : {};
    return { action: str(ev.action)!, repository: str(t.repository)!, tag: str(t.tag), digest: str(t.digest), mediaType: str(t.mediaType), host: str(req.host) };
  });
}
