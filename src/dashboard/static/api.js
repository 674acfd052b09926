// Requests to the JSON API. Changes carry the dashboard token, asked for on the first 401.
import { askToken } from './dialogs.js';

const TOKEN_KEY = 'ferry.dashboard.token';

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.code;
    this.hint = body?.hint;
  }
}

export const enc = (ref) => encodeURIComponent(ref);

/** A read (no token needed): the JSON body and the response (for its headers), or an ApiError with the server's code and hint. */
export async function getJsonResponse(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const data = await res.json();
  if (!res.ok) throw new ApiError(res.status, data);
  return { data, res };
}

/** A read (no token needed): the JSON body, or an ApiError with the server's code and hint. */
export async function getJson(path) {
  return (await getJsonResponse(path)).data;
}

/** fetch + JSON; a 401 asks for the token once (kept in sessionStorage) and repeats the call. */
export async function api(method, path, body) {
  for (let round = 0; ; round++) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    let data = null;
    try {
      data = await res.json();
    } catch {
      /* empty or not JSON */
    }
    if (res.status === 401 && round < 3) {
      if (token) sessionStorage.removeItem(TOKEN_KEY);
      const next = await askToken(
        token
          ? 'That token was refused. Enter the dashboard token (dashboard.token) again.'
          : 'This action needs the dashboard token (dashboard.token). It is kept in this browser tab only.',
      );
      if (!next) {
        throw new ApiError(401, { code: data?.code, message: 'Refused: this action needs the dashboard token', hint: 'Retry the action and enter dashboard.token when asked.' });
      }
      sessionStorage.setItem(TOKEN_KEY, next);
      continue;
    }
    if (!res.ok) throw new ApiError(res.status, data);
    return { status: res.status, data };
  }
}
