/** Test requests over node:http, so the headers a browser or a rebinding page would send (Host, Origin) can be set exactly. */
import { request } from 'node:http';

export interface Answer {
  status: number;
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

export function send(base: string, method: string, path: string, o: { headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers: { ...o.headers, ...(o.body !== undefined ? { 'content-length': String(Buffer.byteLength(o.body)) } : {}) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        let body: any = text;
        try {
          body = text ? JSON.parse(text) : null;
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/** `send` with a JSON body and content-type. */
export const sendJson = (base: string, method: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  send(base, method, path, { headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
