/** `verify.keys` are parsed at load: a bad PEM is refused, naming the rule and the key. */
import t from 'tap';
import { resolveConfig } from '../../src/config/index.js';
import { keyPair } from '../support/supply-chain.js';

const good = keyPair('ecdsa-p256').publicPem;

t.test('a bad PEM in verify.keys is refused at load, naming the key', async (t) => {
  const raw = { mirror: { registry: '127.0.0.1:5000' }, verify: [{ pattern: 'docker.io/**', keys: [good, 'not a key'], mode: 'enforce' }] };
  t.throws(() => resolveConfig(raw), /verify\.0\.keys: 2 of 2 is not a PEM public key/);
});

t.test('good keys load', async (t) => {
  const c = resolveConfig({ mirror: { registry: '127.0.0.1:5000' }, verify: [{ pattern: 'docker.io/**', keys: [good], mode: 'warn' }] }).config;
  t.match(c.verify, [{ pattern: 'docker.io/**', keys: [good], mode: 'warn' }]);
});
