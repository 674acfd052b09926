/**
 * A failed CRI call as the error an operator reads: gRPC status -> FERRY_ERR_CRI_* with the hint of its
 * case, the pull failure cases read from the messages containerd 1.6 and CRI-O write, and
 * agent.criSocket as a grpc-js target. Pure: no runtime needed.
 */
import t from 'tap';
import { CRI_ERROR_CODES, classifyPullFailure, criErrorFrom, GRPC_STATUS } from '../../src/cri/index.js';
import { criTarget } from '../../src/cri/socket-target.js';

const socket = '/run/containerd/containerd.sock';
const pull = { method: 'ImageService/PullImage', socket, image: 'mirror.example/app:v1', timeoutMs: 1_800_000 };
const status = { method: 'ImageService/ImageStatus', socket, image: 'app:v1', timeoutMs: 10_000 };

t.test('an unreachable socket: UNREACHABLE with a hint for the errno, naming agent.criSocket and the usual paths', async (t) => {
  for (const [errno, says] of [
    ['ENOENT', /does not exist/],
    ['EACCES', /permission denied.*root/],
    ['ECONNREFUSED', /nothing listens/],
  ] as const) {
    const e = criErrorFrom({ code: GRPC_STATUS.UNAVAILABLE, details: `No connection established. Last error: Error: connect ${errno} ${socket}. Resolution note: ` }, status);
    t.equal(e.code, CRI_ERROR_CODES.UNREACHABLE, errno);
    t.match(e.hint, says, errno);
    t.match(e.hint, /\/run\/k3s\/containerd\/containerd\.sock/, `${errno}: k3s socket named`);
    t.match(e.hint, /crio\.sock/, `${errno}: CRI-O socket named`);
    t.ok(e.transient, 'the runtime may come up');
  }
  const dropped = criErrorFrom({ code: GRPC_STATUS.UNAVAILABLE, details: `No connection established. Last error: Error: connect ENOENT ${socket}. Resolution note: ` }, status);
  t.match(dropped.message, /ENOENT \/run\/containerd\/containerd\.sock$/, "grpc-js's empty resolution note is dropped");
  const any = criErrorFrom({ code: GRPC_STATUS.UNAVAILABLE, details: 'No connection established' }, pull);
  t.equal(any.code, CRI_ERROR_CODES.UNREACHABLE, "a pull's connection failure is the socket's too");
  t.match(any.hint, /agent\.criSocket/);
  t.match(any.hint, /DaemonSet must mount/);
});

t.test('UNIMPLEMENTED and DEADLINE_EXCEEDED', async (t) => {
  const u = criErrorFrom({ code: GRPC_STATUS.UNIMPLEMENTED, details: 'unknown service runtime.v1.ImageService' }, status);
  t.equal(u.code, CRI_ERROR_CODES.UNIMPLEMENTED);
  t.match(u.hint, /containerd >= 1\.6/);
  t.notOk(u.transient);
  const d = criErrorFrom({ code: GRPC_STATUS.DEADLINE_EXCEEDED, details: 'Deadline exceeded after 10.001s' }, status);
  t.equal(d.code, CRI_ERROR_CODES.TIMEOUT);
  t.match(d.message, /within 10 s$/);
  t.match(criErrorFrom({ code: GRPC_STATUS.DEADLINE_EXCEEDED }, { ...status, timeoutMs: 700 }).message, /within 700 ms$/);
  t.ok(d.transient);
});

t.test("a pull's runtime error: PULL_FAILED, the runtime's message kept, the hint of its case", async (t) => {
  const cases: [string, string, boolean][] = [
    ['failed to pull and unpack image "127.0.0.1:5000/demo/app:nope": failed to resolve reference "127.0.0.1:5000/demo/app:nope": 127.0.0.1:5000/demo/app:nope: not found', 'not-found', false],
    ['failed to pull and unpack image "r/app:v1": failed to resolve reference "r/app:v1": pulling from host 127.0.0.1:5000 failed with status code [manifests v1]: 401 Unauthorized', 'unauthorized', false],
    ['failed to resolve reference "ghcr.io/x/y:v1": failed to authorize: failed to fetch anonymous token: unexpected status: 403 Forbidden', 'unauthorized', false],
    ['failed to do request: Head "https://10.0.0.5:5000/v2/app/manifests/v1": x509: certificate signed by unknown authority', 'tls', false],
    ['failed to do request: Head "https://127.0.0.1:5000/v2/": http: server gave HTTP response to HTTPS client', 'tls', false],
    ['failed to do request: Head "https://reg.internal/v2/app/manifests/v1": dial tcp: lookup reg.internal: no such host', 'registry-unreachable', true],
    ['failed to do request: Head "http://127.0.0.1:1/v2/app/manifests/v1": dial tcp 127.0.0.1:1: connect: connection refused', 'registry-unreachable', true],
    ['failed to extract layer sha256:abc: write /var/lib/containerd/x: no space left on device: unknown', 'no-space', true],
    ['failed to pull and unpack image "r/app:v1": no match for platform in manifest: not found', 'platform', false],
    ['something the runtime never said before', 'other', true],
  ];
  for (const [details, reason, transient] of cases) {
    const e = criErrorFrom({ code: GRPC_STATUS.UNKNOWN, details }, pull);
    t.equal(e.code, CRI_ERROR_CODES.PULL_FAILED, reason);
    t.equal(e.details?.reason, reason, details);
    t.equal(e.transient, transient, `${reason}: transient ${transient}`);
    t.ok(e.message.includes(details.slice(0, 40)), "the runtime's message is kept");
    t.match(e.message, /mirror\.example\/app:v1/, 'names the image');
  }
  t.not(classifyPullFailure('not found').hint, classifyPullFailure('401 Unauthorized').hint, 'each case has its own hint');
  t.match(classifyPullFailure('x: not found').hint, /no such image or tag/);
  t.match(classifyPullFailure('401 Unauthorized').hint, /registries\.<host>/);
});

t.test('a pull failure whose message names no case is read by its gRPC code', async (t) => {
  t.equal(criErrorFrom({ code: GRPC_STATUS.NOT_FOUND, details: 'image "x" missing' }, pull).details?.reason, 'not-found');
  t.equal(criErrorFrom({ code: GRPC_STATUS.UNAUTHENTICATED, details: 'go away' }, pull).details?.reason, 'unauthorized');
  const regUnavailable = criErrorFrom({ code: GRPC_STATUS.UNAVAILABLE, details: 'registry answered 503 Service Unavailable' }, pull);
  t.equal(regUnavailable.code, CRI_ERROR_CODES.PULL_FAILED, "UNAVAILABLE about the registry is the pull's, not the socket's");
});

t.test('any other failure of a non-pull call: CALL_FAILED with the message', async (t) => {
  const e = criErrorFrom({ code: GRPC_STATUS.UNKNOWN, details: 'failed to get image: boom' }, status);
  t.equal(e.code, CRI_ERROR_CODES.CALL_FAILED);
  t.match(e.message, /ImageService\/ImageStatus app:v1 .*boom/);
  const thrown = criErrorFrom(new TypeError('not a status'), status);
  t.equal(thrown.code, CRI_ERROR_CODES.CALL_FAILED);
});

t.test('agent.criSocket as a grpc-js target', async (t) => {
  t.same(criTarget('/run/containerd/containerd.sock'), { target: 'unix:///run/containerd/containerd.sock', path: '/run/containerd/containerd.sock' });
  t.same(criTarget('unix:///run/k3s/containerd/containerd.sock'), { target: 'unix:///run/k3s/containerd/containerd.sock', path: '/run/k3s/containerd/containerd.sock' });
  t.same(criTarget('unix:/var/run/crio/crio.sock'), { target: 'unix:///var/run/crio/crio.sock', path: '/var/run/crio/crio.sock' });
  for (const bad of ['tcp://127.0.0.1:1234', 'http://x', '', '  ']) {
    const e = criTarget(bad);
    t.ok(e instanceof Error && e.code === CRI_ERROR_CODES.UNREACHABLE, JSON.stringify(bad));
    t.match((e as { hint?: string }).hint, /unix socket/);
  }
});
