/**
 * docker credential helpers: `docker-credential-<name> get` with the server
 * URL on stdin answers `{"ServerURL","Username","Secret"}` on stdout, or
 * "credentials not found in native keychain" (exit status 1) when it has
 * none. The binary is looked up on `process.env.PATH` at call time. Neither
 * the Secret nor the helper's stdout ever goes into an error or a log line.
 */
import { execFile, type ExecFileException } from 'node:child_process';
import type { FerryError } from '../errors.js';
import { registryError } from './errors.js';

/** Longest a helper may take to answer. */
export const HELPER_TIMEOUT_MS = 10_000;
/** A helper answering this username hands out an identity (OAuth refresh) token as its Secret. */
export const IDENTITY_TOKEN_USERNAME = '<token>';

const NOT_FOUND = /credentials not found in native keychain/i;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const MAX_OUTPUT = 1024 * 1024;

export interface HelperAnswer {
  username: string;
  secret: string;
}

export const isDockerHub = (host: string): boolean => host === 'docker.io' || host === 'index.docker.io' || host === 'registry-1.docker.io';

/** The server URL docker hands a helper for `host`. */
export function helperServerUrl(host: string): string {
  return isDockerHub(host) ? 'https://index.docker.io/v1/' : host;
}

interface Outcome {
  error: ExecFileException | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function exec(bin: string, input: string, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const child = execFile(bin, ['get'], { encoding: 'utf8', maxBuffer: MAX_OUTPUT, env: process.env, windowsHide: true }, (error, stdout, stderr) => {
      clearTimeout(timer);
      resolve({ error, stdout, stderr, timedOut: false });
    });
    // Our own timer rather than execFile's `timeout`: a killed shell script's
    // children may keep the pipes open, and the callback waits for them.
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve({ error: null, stdout: '', stderr: '', timedOut: true });
    }, timeoutMs);
    child.stdin?.on('error', () => undefined); // the helper may exit without reading stdin
    child.stdin?.end(input);
  });
}

/** First line of a helper's complaint, unless it looks like it could carry a credential (JSON, `secret:`...). */
function complaint(text: string): string {
  const line = text.trim().split('\n')[0]?.trim().slice(0, 200) ?? '';
  return line && !/[{}]|(secret|password|passwd)"?\s*[:=]/i.test(line) ? `: ${line}` : '';
}

/**
 * Runs `docker-credential-<name> get` for `host`. Undefined = the helper has
 * no credentials for it (anonymous). Any other failure is a permanent
 * FERRY_ERR_REGISTRY_CREDENTIAL_HELPER naming the helper.
 */
export async function runCredentialHelper(name: string, host: string, timeoutMs = HELPER_TIMEOUT_MS): Promise<HelperAnswer | undefined> {
  const bin = `docker-credential-${name}`;
  const fail = (why: string): FerryError => registryError('CREDENTIAL_HELPER', `credential helper ${bin} ${why}`, { host, details: { helper: bin } });
  if (!NAME_RE.test(name)) throw fail('has an invalid name (credHelpers/credsStore values are helper names such as "ecr-login")');
  const out = await exec(bin, helperServerUrl(host), timeoutMs);
  if (out.timedOut) throw fail(`did not answer within ${Math.round(timeoutMs / 1000)} s`);
  if (out.error) {
    const code = out.error.code;
    if (code === 'ENOENT') throw fail('is not on PATH');
    if (code === 'EACCES') throw fail('is not executable');
    if (code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') throw fail(`printed more than ${MAX_OUTPUT} bytes`);
    if (NOT_FOUND.test(out.stdout) || NOT_FOUND.test(out.stderr)) return undefined;
    const status = typeof code === 'number' ? `exited with status ${code}` : `failed (${out.error.signal ?? code ?? 'unknown'})`;
    throw fail(`${status}${complaint(out.stderr || out.stdout)}`);
  }
  let answer: unknown;
  try {
    answer = JSON.parse(out.stdout);
  } catch {
    throw fail('printed something that is not JSON (expected {"ServerURL","Username","Secret"})');
  }
  const { Username: username, Secret: secret } = (answer ?? {}) as { Username?: unknown; Secret?: unknown };
  if (typeof username !== 'string' || typeof secret !== 'string') throw fail('answered JSON without string "Username" and "Secret"');
  if (!username && !secret) return undefined;
  return { username, secret };
}
