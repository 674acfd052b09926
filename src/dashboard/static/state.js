// What the page shows: the server's lists (GET /api/meta) and the view (filter, search, sort,
// page), which lives in the address bar so a view can be bookmarked, shared and survives reloads.

/** The server's states, sorts and default orders; filled by initView before anything reads them. */
export const meta = { states: [], sorts: [], defaultSort: '', defaultOrder: {} };

/** The current view; filled by initView. `total` is the number of matches of the last page loaded. */
export const view = { state: '', q: '', sort: '', order: '', limit: 0, offset: 0, total: 0 };

/** The page size the page starts with (its Rows select's default): left out of the address bar. */
let defaultLimit = 0;

/** Takes the server's lists and the page sizes the Rows select offers, then reads the view from the address bar. */
export function initView(serverMeta, sizes, initialSize) {
  Object.assign(meta, serverMeta);
  defaultLimit = initialSize;
  const p = new URLSearchParams(location.search);
  const sort = meta.sorts.includes(p.get('sort')) ? p.get('sort') : meta.defaultSort;
  const order = p.get('order') === 'asc' || p.get('order') === 'desc' ? p.get('order') : meta.defaultOrder[sort];
  const limit = sizes.includes(Number(p.get('limit'))) ? Number(p.get('limit')) : initialSize;
  Object.assign(view, {
    state: meta.states.includes(p.get('state')) ? p.get('state') : '',
    q: p.get('q') ?? '',
    sort,
    order,
    limit,
    offset: Math.max(0, Number(p.get('offset')) || 0),
    total: 0,
  });
}

/** The order a click on a sort header asks for: flipped on the current sort, else that sort's default. */
export function orderFor(sort) {
  return view.sort === sort ? (view.order === 'asc' ? 'desc' : 'asc') : meta.defaultOrder[sort];
}

/** Whether a filter or search narrows the list (the empty table and the range say so). */
export const filtered = () => Boolean(view.q || view.state);

/** The view in the address bar, leaving out what is the default. */
export function syncUrl() {
  const p = new URLSearchParams();
  if (view.state) p.set('state', view.state);
  if (view.q) p.set('q', view.q);
  if (view.sort !== meta.defaultSort) p.set('sort', view.sort);
  if (view.order !== meta.defaultOrder[view.sort]) p.set('order', view.order);
  if (view.limit !== defaultLimit) p.set('limit', String(view.limit));
  if (view.offset) p.set('offset', String(view.offset));
  const qs = p.toString();
  history.replaceState(null, '', qs ? `?${qs}` : location.pathname);
}

/** The view as `GET /api/images` query parameters. */
export function listQuery() {
  const p = new URLSearchParams({ sort: view.sort, order: view.order, limit: String(view.limit), offset: String(view.offset) });
  if (view.state) p.set('state', view.state);
  if (view.q) p.set('q', view.q);
  return p;
}
