/**
 * What every role runs on: the role contract (Role, RoleContext, StartRole)
 * and the process's shared pieces behind it (createContext: config with hot
 * reload, Redis connections, store, producer, record feed, registry engine,
 * the shared HTTP app). Roles depend on this; only the CLI composes it.
 */
export type { Role, RoleContext, StartRole } from './role.js';
export { createContext, type RootContext } from './context.js';
