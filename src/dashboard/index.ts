/** `ferry dashboard`: the page, the JSON API, SSE and bull-board (docs/dashboard.md). Public face only; the role starts in role.ts. */
export { resolveStaticDir } from './static-dir.js';
export { DASHBOARD_ERROR_CODES } from './errors.js';
export { DEFAULT_SSE_MAX_BUFFERED_BYTES, type DroppedClient } from './live.js';
export type { Stats } from './api.js';
export type { ApiMeta } from './list-params.js';
export { createDashboard, dashboardBindHost, startDashboard, type DashboardOptions, type DashboardRole } from './role.js';
