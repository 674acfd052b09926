import { createHash } from 'node:crypto';

/** Every Redis key ferry writes, in one place. `prefix` is `queue.prefix`. */
export function keys(prefix: string) {
  return {
    image: (ref: string) => `${prefix}:img:${ref}`,
    index: `${prefix}:imgs`,
    statePrefix: `${prefix}:state:`,
    state: (s: string) => `${prefix}:state:${s}`,
    events: `${prefix}:events`,
    /** ref -> enqueue request, for images asked to be copied again while their job was active. */
    again: `${prefix}:again`,
    /** Hash namespace -> JSON pull-secret names: namespaces waiting for their credentials to be checked against `ref`. */
    verifyPending: (ref: string) => `${prefix}:verify:${ref}`,
    /** Set for a while after a namespace's credentials did not match `ref`: not checked again meanwhile. */
    verifyFailed: (id: string) => `${prefix}:verify-failed:${id}`,
    /** ref -> JSON requester (namespace, pull-secret names) whose credentials copied it: what later re-copies use. */
    requesters: `${prefix}:requesters`,
  };
}

/** The BullMQ queue every producer and worker shares. */
export const QUEUE_NAME = 'mirror';

/**
 * BullMQ ids may not contain ':' and every image ref has one; the
 * deduplication id is a hash of the normalized reference.
 */
export function dedupeId(ref: string): string {
  return createHash('sha256').update(ref).digest('hex').slice(0, 40);
}

/**
 * Deduplication id of a verification job: one per image and namespace (''
 * for a probe of the image's access). Not one per image: a request that
 * arrives while that image's job is running would be deduplicated into a
 * job that has already taken what was waiting, and wait for nothing.
 */
export function verifyDedupeId(ref: string, namespace = ''): string {
  return dedupeId(`verify\n${ref}\n${namespace}`);
}
