// The reference: a bare fastify TLS route that parses the body and answers a
// JSON of the size ferry answers. Anything ferry costs beyond this is ferry's.
import Fastify from 'fastify';
import { readFileSync } from 'node:fs';

const [certFile, keyFile, size] = process.argv.slice(2);
const app = Fastify({ https: { cert: readFileSync(certFile!), key: readFileSync(keyFile!) }, bodyLimit: 3 * 1024 * 1024 });
const filler = 'x'.repeat(Math.max(0, Number(size) - 120));
app.post('/mutate', async (req) => {
  const uid = (req.body as { request?: { uid?: string } }).request?.uid ?? '';
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed: true, patch: filler } };
});
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(JSON.stringify({ url: address }) + '\n');
