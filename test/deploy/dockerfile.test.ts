// Dockerfile and .dockerignore, checked statically (no Docker engine in CI), plus
// the two small programs the image ships: the `ferry` launcher and the
// healthcheck used by docker-compose.
import t from 'tap';
import { execFile } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import picomatch from 'picomatch';
import { ROOT, run, which } from './fixtures/util.js';

interface Instruction {
  cmd: string;
  args: string;
}
interface Stage {
  from: string;
  name: string | undefined;
  body: Instruction[];
}

/** Instructions with continuations joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buf = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line) && !buf) continue;
    if (/^\s*#/.test(line)) continue; // comment inside a continuation
    if (/\\\s*$/.test(line)) {
      buf += line.replace(/\\\s*$/, ' ');
      continue;
    }
    buf += line;
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(buf.trim() ? buf : '');
    if (m) out.push({ cmd: m[1]!.toUpperCase(), args: m[2]!.trim() });
    buf = '';
  }
  return out;
}

function stages(all: Instruction[]): { args: Map<string, string>; stages: Stage[] } {
  const args = new Map<string, string>();
  const list: Stage[] = [];
  for (const ins of all) {
    if (ins.cmd === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args)!;
      const from = m[1]!.replace(/\$\{?(\w+)\}?/g, (_, v: string) => args.get(v) ?? '');
      list.push({ from, name: m[2], body: [] });
    } else if (ins.cmd === 'ARG' && list.length === 0) {
      const [k, v = ''] = ins.args.split('=');
      args.set(k!, v);
    } else {
      list[list.length - 1]?.body.push(ins);
    }
  }
  return { args, stages: list };
}

/** docker's .dockerignore semantics: last matching pattern wins; a pattern matching a parent matches the file. */
function dockerIgnored(patterns: string[], file: string): boolean {
  let ignored = false;
  const parts = file.split('/');
  for (const raw of patterns) {
    const neg = raw.startsWith('!');
    const pat = posix.normalize(neg ? raw.slice(1) : raw).replace(/^\/+/, '');
    const isMatch = picomatch(pat, { dot: true });
    let hit = false;
    for (let i = 1; i <= parts.length && !hit; i++) hit = isMatch(parts.slice(0, i).join('/'));
    if (hit) ignored = !neg;
  }
  return ignored;
}

/** The caller's environment without NODE_OPTIONS, so the child starts as plain node would in the image. */
function plainEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.NODE_OPTIONS;
  delete env.NODE_V8_COVERAGE;
  return env;
}

function exec(file: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env: env ?? plainEnv(), timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const parsed = stages(instructions(dockerfile));
const build = parsed.stages[0]!;
const runtime = parsed.stages[parsed.stages.length - 1]!;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
const distroless = /distroless\/nodejs20/.test(runtime.from);
const runtimeNode = distroless ? '/nodejs/bin/node' : '/usr/local/bin/node';
const ignorePatterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

const runs = (s: Stage) => s.body.filter((i) => i.cmd === 'RUN').map((i) => i.args).join('\n');
const last = (s: Stage, cmd: string) => s.body.filter((i) => i.cmd === cmd).pop()?.args;

t.test('Dockerfile: multi-stage build', async (t) => {
  t.ok(parsed.stages.length >= 2, 'at least two stages');
  t.match(build.from, /^node:20([-.].*)?$/, `build stage from node:20 (${build.from})`);
  const r = runs(build);
  t.match(r, /npm ci\b/, 'npm ci');
  t.match(r, /npm run build\b/, 'npm run build');
  t.match(r, /npm prune --omit=dev\b/, 'npm prune --omit=dev');
  t.ok(r.indexOf('npm ci') < r.indexOf('npm run build') && r.indexOf('npm run build') < r.indexOf('npm prune'), 'in that order');
  const copies = build.body.filter((i) => i.cmd === 'COPY').map((i) => i.args);
  t.ok(copies[0]?.includes('package-lock.json'), 'lockfile copied first (dependency layer cached apart from sources)');
});

t.test('Dockerfile: minimal, non-root runtime', async (t) => {
  t.ok(distroless || /^node:20[.\d]*-(bookworm-)?slim$/.test(runtime.from), `runtime is distroless nodejs20 or node:20-slim (${runtime.from})`);
  if (distroless) t.match(runtime.from, /:nonroot$/, 'distroless :nonroot variant');
  t.match(last(runtime, 'USER') ?? '', /^65532(:65532)?$/, 'USER 65532');
  t.notOk(runtime.body.some((i) => i.cmd === 'RUN'), 'no RUN in the runtime stage (nothing to run it with)');
  t.notOk(runtime.body.some((i) => i.cmd === 'VOLUME'), 'no VOLUME: anonymous volumes break read-only deployments');
  t.same(JSON.parse(last(runtime, 'ENTRYPOINT') ?? 'null'), ['ferry'], 'ENTRYPOINT ["ferry"]');
  t.match(last(runtime, 'EXPOSE') ?? '', /\b8443\b/, 'exposes 8443');
  t.match(last(runtime, 'EXPOSE') ?? '', /\b8080\b/, 'exposes 8080');

  const env = runtime.body.filter((i) => i.cmd === 'ENV').map((i) => i.args).join(' ');
  const path = /PATH=(\S+)/.exec(env)?.[1] ?? '';
  t.match(env, /NODE_ENV=production/, 'NODE_ENV=production');
  t.match(env, /TMPDIR=\/tmp/, 'TMPDIR=/tmp (the writable mount)');
  t.match(env, /HOME=\/tmp/, 'HOME=/tmp');

  const copies = runtime.body.filter((i) => i.cmd === 'COPY').map((i) => i.args);
  const fromBuild = copies.filter((c) => c.includes(`--from=${build.name}`)).join('\n');
  const workdir = last(runtime, 'WORKDIR') ?? '/';
  for (const p of ['package.json', 'node_modules', 'dist', 'src/dashboard/static']) {
    t.match(fromBuild, new RegExp(`/app/${p}\\s+(\\./${p}|${workdir}/${p})`), `copies ${p} from the build stage`);
  }
  t.ok(
    copies.some((c) => /deploy\/docker\/healthcheck\.mjs\s+\/usr\/local\/lib\/ferry\/healthcheck\.mjs$/.test(c)),
    'healthcheck at /usr/local/lib/ferry/healthcheck.mjs (the path probes and compose use)',
  );
  const launcher = copies.find((c) => /deploy\/docker\/ferry\s/.test(c));
  const dest = launcher?.split(/\s+/).pop() ?? '';
  t.equal(posix.basename(dest), 'ferry', 'launcher installed as `ferry`');
  t.ok(path.split(':').includes(posix.dirname(dest)), `launcher directory ${posix.dirname(dest)} is on PATH`);
  t.match(launcher ?? '', /--chmod=0?755/, 'launcher is executable');
  t.notOk(copies.some((c) => /--chown=/.test(c) && !/\/var\/lib\/ferry/.test(c)), 'code is root-owned, not writable by uid 65532');
  t.match(
    readFileSync(join(ROOT, 'deploy/docker/ferry'), 'utf8'),
    new RegExp(`'${posix.join(workdir, pkg.bin.ferry!)}'`),
    `launcher loads ${posix.join(workdir, pkg.bin.ferry!)} (package.json bin.ferry)`,
  );
  t.match(dockerfile, /distroless|slim/i, 'the choice of base is explained');
});

t.test('.dockerignore: only what the build needs', async (t) => {
  for (const s of parsed.stages) {
    for (const c of s.body.filter((i) => i.cmd === 'COPY' && !/--from=/.test(i.args))) {
      const words = c.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      for (const src of words.slice(0, -1)) {
        t.ok(existsSync(join(ROOT, src)), `COPY source ${src} exists`);
        t.notOk(dockerIgnored(ignorePatterns, src), `COPY source ${src} is in the build context`);
      }
    }
  }
  for (const f of ['src/config/load.ts', 'package.json', 'package-lock.json', 'tsconfig.json', 'deploy/docker/healthcheck.mjs']) {
    t.notOk(dockerIgnored(ignorePatterns, f), `${f} sent`);
  }
  for (const f of ['certs/out/tls.key', 'certs/out/ca.key', '.git/config', 'node_modules/yaml/package.json', 'dist/cli/main.js', 'test/deploy/certs.test.ts', '.tap/x', 'images/a.tar', 'deploy/base/config.yaml', '.env']) {
    t.ok(dockerIgnored(ignorePatterns, f), `${f} not sent`);
  }
});

t.test('launcher: `ferry ARGS` runs the ESM CLI with ARGS', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'ferry-launcher-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const src = readFileSync(join(ROOT, 'deploy/docker/ferry'), 'utf8');
  const [shebang] = src.split('\n');
  t.equal(shebang, `#!${runtimeNode}`, `shebang names the runtime image's node (${runtimeNode})`);

  const app = join(tmp, 'app');
  mkdirSync(join(app, 'dist/cli'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(
    join(app, 'dist/cli/main.js'),
    [
      "import { pathToFileURL } from 'node:url';",
      "if (process.env.FAIL) throw new Error('boom');",
      'const isEntry = import.meta.url === pathToFileURL(process.argv[1]).href;',
      'console.log(JSON.stringify({ args: process.argv.slice(2), isEntry }));',
      "process.exitCode = Number(process.env.EXIT ?? 0);",
    ].join('\n'),
  );
  const launcher = join(tmp, 'ferry');
  writeFileSync(launcher, src.replace(shebang!, `#!${process.execPath}`).replaceAll('/app/', `${app}/`));
  chmodSync(launcher, 0o755);

  const ok = await exec(launcher, ['worker', '--config', '/etc/ferry/config.yaml']);
  t.equal(ok.code, 0, `exits 0 ${ok.stderr}`);
  t.same(JSON.parse(ok.stdout), { args: ['worker', '--config', '/etc/ferry/config.yaml'], isEntry: true }, 'arguments pass through; main.js sees itself as the entry point');
  const exit = await exec(launcher, ['copy'], plainEnv({ EXIT: '3' }));
  t.equal(exit.code, 3, "the CLI's exit code is the process's");
  const fail = await exec(launcher, [], plainEnv({ FAIL: '1' }));
  t.equal(fail.code, 1, 'a failing import exits 1');
  t.match(fail.stderr, /boom/, 'and prints the error');
});

t.test('healthcheck.mjs', async (t) => {
  const script = join(ROOT, 'deploy/docker/healthcheck.mjs');
  const handler: http.RequestListener = (req, res) => {
    res.statusCode = req.url === '/readyz' ? 200 : 503;
    res.end();
  };
  const listen = async (server: http.Server | https.Server) => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return (server.address() as AddressInfo).port;
  };
  const port = await listen(http.createServer(handler));
  t.equal((await exec(process.execPath, [script, `http://127.0.0.1:${port}/readyz`])).code, 0, '2xx -> healthy');
  t.equal((await exec(process.execPath, [script, `http://127.0.0.1:${port}/broken`])).code, 1, '503 -> unhealthy');

  const closed = http.createServer();
  const closedPort = await new Promise<number>((resolve) => closed.listen(0, '127.0.0.1', () => resolve((closed.address() as AddressInfo).port)));
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  t.equal((await exec(process.execPath, [script, `http://127.0.0.1:${closedPort}/readyz`])).code, 1, 'refused -> unhealthy');

  if (which('openssl')) {
    const tmp = mkdtempSync(join(tmpdir(), 'ferry-hc-'));
    t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
    const r = run('bash', [join(ROOT, 'certs/make-certs.sh'), tmp]);
    t.equal(r.status, 0, 'test certificate made');
    const sport = await listen(
      https.createServer({ cert: readFileSync(join(tmp, 'tls.crt')), key: readFileSync(join(tmp, 'tls.key')) }, handler),
    );
    t.equal((await exec(process.execPath, [script, `https://127.0.0.1:${sport}/readyz`])).code, 0, 'HTTPS with a private CA -> healthy');
  }
});
