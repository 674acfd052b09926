import { request } from 'node:https';

export interface HttpsResult {
  status: number;
  body: any;
  text: string;
  contentType: string;
}

/** POST JSON over HTTPS trusting only `ca` (the webhook's certificate). */
export function postJson(url: string, body: unknown, ca: string | Buffer, headers: Record<string, string> = {}): Promise<HttpsResult> {
  const data = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', ca, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, text, contentType: res.headers['content-type'] ?? '' });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}
