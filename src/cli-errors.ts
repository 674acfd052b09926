/**
 * Error codes of the command line (`FERRY_ERR_CLI_<WHAT>`, cli/copy.ts) and of
 * the local services `ferry all` starts when nothing is configured
 * (`FERRY_ERR_LOCAL_<WHAT>`, cli/local.ts). They live here rather than in
 * src/cli/ because nothing outside cli/ may import it (it is the composition
 * root; .dependency-cruiser.cjs), and src/error-codes.ts must list them.
 */
import { defineErrors } from './errors.js';

export const CLI_ERROR_TABLE = defineErrors('CLI', {
  USAGE: {
    status: 400,
    meaning: 'the arguments do not fit the command (an unknown option, SRC or DST missing, flags that exclude each other)',
    // The raiser's hint is the command's usage line; this one is what docs/errors.md shows.
    hint: 'run the command as the usage line in the hint says, e.g. ferry copy [--platform os/arch[/variant]]... [--all] SRC DST',
  },
});

export const LOCAL_ERROR_TABLE = defineErrors('LOCAL', {
  MISSING: {
    meaning: 'a local service `ferry all` starts (redis-server, docker-registry) could not be started: the program is missing',
    hint: 'install the Debian package named in the hint (apt-get install -y <package>), or configure an existing service (queue.redisUrl, mirror.registry)',
  },
  EXITED: {
    meaning: 'a local service exited while starting; its stderr is in the message',
    hint: 'read the service\'s stderr in the message (a port in use, a data directory it cannot write), or configure an existing service',
  },
  TIMEOUT: {
    meaning: 'a local service did not become ready within 15 s; its stderr is in the message',
    hint: 'read the service\'s stderr in the message; on a slow machine start the service yourself and configure it (queue.redisUrl, mirror.registry)',
  },
});
