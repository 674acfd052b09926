import { send } from '../../support/raw-http.js';

export interface Reply {
  status: number;
  body: any;
  headers: Headers;
}

/** JSON request against the dashboard; `token` adds the bearer header. */
export async function call(base: string, method: string, path: string, o: { body?: unknown; token?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  const res = await fetch(`${base}${path}`, { method, headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
  const text = await res.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body, headers: res.headers };
}

export const enc = encodeURIComponent;

/** Like `call`, over node:http, so forbidden fetch headers (Host) can be set. */
export async function rawCall(base: string, method: string, path: string, headers: Record<string, string>): Promise<Reply> {
  const a = await send(base, method, path, { headers });
  return { status: a.status, body: a.body, headers: new Headers(a.headers as Record<string, string>) };
}
