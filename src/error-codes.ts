/**
 * Every error table of ferry, in the order docs/errors.md lists their areas.
 * Each folder defines its codes with `defineErrors` in its own errors.ts;
 * this module only gathers them, for the docs and for
 * test/errors/codes.test.ts (which also fails when a `defineErrors` call in
 * src/ is missing here). Nothing in src/ imports this module, and it imports
 * only error tables, so it cannot close an import cycle.
 */
import { AGENT_ERROR_TABLE } from './agent/errors.js';
import { ACCESS_ERROR_TABLE, GUARD_ERROR_TABLE, HOOKS_ERROR_TABLE } from './access/errors.js';
import { CLI_ERROR_TABLE, LOCAL_ERROR_TABLE } from './cli-errors.js';
import { CONFIG_ERROR_TABLE } from './config/errors.js';
import { CONTAINERD_ERROR_TABLE } from './containerd/errors.js';
import { CRI_ERROR_TABLE } from './cri/errors.js';
import { DASHBOARD_ERROR_TABLE } from './dashboard/errors.js';
import type { DefinedError } from './errors.js';
import { IMPORT_ERROR_TABLE } from './archive/errors.js';
import { NOTIFY_ERROR_TABLE } from './notify/errors.js';
import { REFERENCE_ERROR_TABLE } from './reference/errors.js';
import { REGISTRY_ERROR_TABLE } from './registry/errors.js';
import { VERIFY_ERROR_TABLE } from './verify/errors.js';
import { WATCH_ERROR_TABLE } from './watch/errors.js';
import { WEBHOOK_ERROR_TABLE } from './webhook/errors.js';
import { WORKER_ERROR_TABLE } from './worker/errors.js';

export const ERROR_TABLES = [
  CONFIG_ERROR_TABLE,
  REFERENCE_ERROR_TABLE,
  WEBHOOK_ERROR_TABLE,
  REGISTRY_ERROR_TABLE,
  WORKER_ERROR_TABLE,
  // Two tables share the DASHBOARD area: the guard's codes live in src/access (see there).
  DASHBOARD_ERROR_TABLE,
  GUARD_ERROR_TABLE,
  ACCESS_ERROR_TABLE,
  HOOKS_ERROR_TABLE,
  WATCH_ERROR_TABLE,
  IMPORT_ERROR_TABLE,
  CRI_ERROR_TABLE,
  CONTAINERD_ERROR_TABLE,
  AGENT_ERROR_TABLE,
  NOTIFY_ERROR_TABLE,
  VERIFY_ERROR_TABLE,
  CLI_ERROR_TABLE,
  LOCAL_ERROR_TABLE,
] as const;

/** Every code ferry raises, with its meaning, hint, status and transient flag. */
export const ALL_ERROR_CODES: readonly DefinedError[] = ERROR_TABLES.flatMap((t) => t.list);

/** The areas, each once, in table order. */
export const ERROR_AREAS: readonly string[] = [...new Set(ERROR_TABLES.map((t) => t.area))];
