/** placement (pure): where a workload's pods can land, by the scheduler's hard rules. */
import t from 'tap';
import { placementAllows, repellingTaints, type NodeFacts, type Placement } from '../../src/workloads/index.js';

const gpuNode: NodeFacts = {
  name: 'gpu-1',
  labels: { 'kubernetes.io/os': 'linux', pool: 'gpu', gpu: 'a100', cores: '64' },
  taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }],
};
const cpuNode: NodeFacts = { name: 'cpu-1', labels: { 'kubernetes.io/os': 'linux', pool: 'cpu', cores: '8' } };
const where = (p: Placement) => [gpuNode, cpuNode].filter((n) => placementAllows(p, n)).map((n) => n.name);

t.test('nodeSelector: every key=value; {} fits a node without taints only', async (t) => {
  t.same(where({ nodeSelector: {} }), ['cpu-1'], "an untolerated NoSchedule taint keeps a selector-free workload off");
  t.same(where({ nodeSelector: { pool: 'cpu' } }), ['cpu-1']);
  t.same(where({ nodeSelector: { pool: 'gpu' } }), [], 'selected but not tolerated');
});

t.test('tolerations against NoSchedule and NoExecute taints, as the scheduler matches them', async (t) => {
  const sel = { pool: 'gpu' };
  t.same(where({ nodeSelector: sel, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] }), ['gpu-1']);
  t.same(where({ nodeSelector: sel, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }] }), ['gpu-1'], 'no effect: every effect');
  t.same(where({ nodeSelector: sel, tolerations: [{ key: 'nvidia.com/gpu', value: 'present' }] }), ['gpu-1'], 'Equal is the default operator');
  t.same(where({ nodeSelector: sel, tolerations: [{ key: 'nvidia.com/gpu', value: 'absent' }] }), [], 'Equal needs the value');
  t.same(where({ nodeSelector: sel, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoExecute' }] }), [], 'another effect does not tolerate');
  t.same(where({ nodeSelector: sel, tolerations: [{ operator: 'Exists' }] }), ['gpu-1'], 'Exists without a key tolerates every taint');
  const soft: NodeFacts = { ...cpuNode, taints: [{ key: 'spot', effect: 'PreferNoSchedule' }] };
  t.ok(placementAllows({ nodeSelector: {} }, soft), 'PreferNoSchedule keeps nobody off');
  const evicting: NodeFacts = { ...cpuNode, taints: [{ key: 'maintenance', effect: 'NoExecute' }] };
  t.notOk(placementAllows({ nodeSelector: {} }, evicting), 'NoExecute keeps the untolerating off');
});

t.test("taints a starting node carries for a while do not count: lifecycle taints and the agent's startup taint", async (t) => {
  const starting: NodeFacts = {
    name: 'new-1',
    labels: { pool: 'cpu' },
    taints: [
      { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' },
      { key: 'node.cloudprovider.kubernetes.io/uninitialized', value: 'true', effect: 'NoSchedule' },
      { key: 'ferry.io/images-not-ready', value: 'true', effect: 'NoSchedule' },
    ],
    ignoreTaints: ['ferry.io/images-not-ready'],
  };
  t.same(repellingTaints(starting), []);
  t.ok(placementAllows({ nodeSelector: { pool: 'cpu' } }, starting), 'the node that needs its images first gets them');
  t.notOk(placementAllows({ nodeSelector: {} }, { ...starting, ignoreTaints: [] }), 'the startup taint counts where it is not named as ferry\'s');
});

t.test('required node affinity: terms ORed, requirements ANDed, every operator', async (t) => {
  const tol = [{ operator: 'Exists' }];
  const aff = (...terms: Placement['affinity'] & object) => where({ nodeSelector: {}, affinity: terms, tolerations: tol });
  t.same(aff({ matchExpressions: [{ key: 'pool', operator: 'In', values: ['gpu', 'tpu'] }] }), ['gpu-1']);
  t.same(aff({ matchExpressions: [{ key: 'pool', operator: 'NotIn', values: ['gpu'] }] }), ['cpu-1']);
  t.same(aff({ matchExpressions: [{ key: 'gpu', operator: 'Exists' }] }), ['gpu-1']);
  t.same(aff({ matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] }), ['cpu-1']);
  t.same(aff({ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['16'] }] }), ['gpu-1'], 'Gt compares integers, not strings ("8" > "16" as text)');
  t.same(aff({ matchExpressions: [{ key: 'cores', operator: 'Lt', values: ['16'] }] }), ['cpu-1']);
  t.same(aff({ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['x'] }] }), [], 'a value that is no integer matches nothing');
  t.same(aff({ matchExpressions: [{ key: 'pool', operator: 'In', values: ['gpu'] }, { key: 'cores', operator: 'Lt', values: ['16'] }] }), [], 'ANDed within a term');
  t.same(aff({ matchExpressions: [{ key: 'pool', operator: 'In', values: ['gpu'] }] }, { matchExpressions: [{ key: 'pool', operator: 'In', values: ['cpu'] }] }), ['gpu-1', 'cpu-1'], 'ORed across terms');
  t.same(aff({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['cpu-1'] }] }), ['cpu-1'], 'matchFields: the node name');
  t.same(aff({}), [], 'an empty term matches no node');
  t.same(aff({ matchExpressions: [{ key: 'pool', operator: 'Near', values: ['gpu'] }] }), [], 'an unknown operator matches nothing');
  t.same(where({ nodeSelector: { pool: 'cpu' }, affinity: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['gpu'] }] }], tolerations: tol }), [], 'nodeSelector and affinity both hold');
});
