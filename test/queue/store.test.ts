import t from 'tap';
import { startRedis } from '../support/redis.js';
import { connectRedis, ImageStore } from '../../src/queue/index.js';

const redis = await startRedis();
t.teardown(() => redis.stop());

t.test("refsOfRepository: one repository's tags and digests, glob characters taken literally", async (t) => {
  const conn = connectRedis(redis.url);
  t.teardown(() => conn.disconnect());
  const store = new ImageStore(conn, 'repos');
  const d = `sha256:${'a'.repeat(64)}`;
  const refs = [
    'docker.io/library/nginx:1.27',
    `docker.io/library/nginx@${d}`,
    'docker.io/library/nginx:latest',
    'docker.io/library/nginx-extra:1', // a longer name sharing the prefix
    'docker.io/library/nginx/sub:1', // a deeper path
    'docker.io/library/redis:7',
    '[fd00::1]:5000/team/app:v1', // IPv6 host: '[' and ']' are glob syntax to Redis
    '[fd00::1]:5000/team/app2:v1',
  ];
  // more than one ZSCAN page
  for (let i = 0; i < 2500; i++) refs.push(`docker.io/filler/img${i}:1`);
  for (const ref of refs) await store.update(ref, { mirrorRef: `m/${ref}`, state: 'mirrored' }, { upsert: true });

  t.same((await store.refsOfRepository('docker.io/library/nginx')).sort(), ['docker.io/library/nginx:1.27', 'docker.io/library/nginx:latest', `docker.io/library/nginx@${d}`]);
  t.same(await store.refsOfRepository('[fd00::1]:5000/team/app'), ['[fd00::1]:5000/team/app:v1']);
  t.same(await store.refsOfRepository('docker.io/library/ngin?'), [], '? is not a wildcard');
  t.same(await store.refsOfRepository('docker.io/library/*'), [], '* is not a wildcard');
  t.same(await store.refsOfRepository('docker.io/nothing/here'), []);
});
