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
