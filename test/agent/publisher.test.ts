import t from 'tap';
import { pino } from 'pino';
import { NodeStatePublisher } from '../../src/agent/publisher.js';
import type { NodeState } from '../../src/nodes/index.js';

const base = { node: 'n', version: '0.1.0', ready: false, prepull: [], imports: [] };

t.test('a burst of changes is one publish; a failed write is made again at the next change', async (t) => {
  const written: NodeState[] = [];
  let down = false;
  const logs: string[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void logs.push(JSON.parse(s).msg) });
  const p = new NodeStatePublisher({
    store: {
      publish: async (s) => {
        if (down) throw new Error('connect ECONNREFUSED');
        written.push(s);
      },
    },
    build: () => base,
    logger,
    debounceMs: 20,
  });
  t.teardown(() => p.close());
  const once = () => new Promise<NodeState>((r) => p.once('published', r));
  let next = once();
  for (let i = 0; i < 10; i++) p.changed();
  await next;
  t.equal(written.length, 1, 'ten changes, one write');
  t.match(written[0], { node: 'n', seenAt: /Z$/ });

  down = true;
  p.changed();
  p.changed();
  await p.publishNow();
  await p.publishNow();
  t.equal(written.length, 1);
  t.equal(logs.filter((m) => m.startsWith('agent: cannot publish')).length, 1, 'logged once per outage');
  down = false;
  next = once();
  p.changed();
  await next;
  t.equal(written.length, 2, 'published again');
  t.ok(logs.includes('agent: node state published again'));
});
