// Container healthcheck for images without curl/wget (distroless):
//   node /usr/local/lib/ferry/healthcheck.mjs [URL]   (default http://127.0.0.1:8080/readyz)
// Exit 0 when URL answers 2xx within 3 s, else 1. Certificates are not
// verified: it only ever talks to the container's own loopback port, the same
// trust the kubelet gives an HTTPS probe.
import http from 'node:http';
import https from 'node:https';

const url = new URL(process.argv[2] ?? 'http://127.0.0.1:8080/readyz');
const get = url.protocol === 'https:' ? https.get : http.get;
const req = get(url, { timeout: 3000, rejectUnauthorized: false }, (res) => {
  res.resume();
  const ok = res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300;
  if (!ok) console.error(`${url.href}: HTTP ${res.statusCode}`);
  process.exit(ok ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timed out after 3000 ms')));
req.on('error', (err) => {
  console.error(`${url.href}: ${err.message}`);
  process.exit(1);
});
