/**
 * Error codes for ferry's configuration (`FERRY_ERR_CONFIG_<WHAT>`): the file
 * and environment (load.ts), and config values only found unusable where they
 * are used (the Redis URL, by src/queue).
 */
import { defineErrors } from '../errors.js';

export const CONFIG_ERROR_TABLE = defineErrors('CONFIG', {
  INVALID: {
    meaning: 'the config file or a FERRY_* variable does not validate (or is not YAML); every problem is listed with its key',
    hint: 'fix the listed keys; see the README "Config reference"',
  },
  UNREADABLE: { meaning: 'the --config file cannot be read', hint: 'check the --config path and its permissions' },
  REDIS_URL: {
    meaning: 'queue.redisUrl cannot be used as it is (a redis+sentinel URL without a master name; a redis+cluster URL without seed nodes or with a db number)',
    hint: 'use redis+sentinel://sentinel1:26379,sentinel2:26379/mymaster or redis+cluster://node1:6379,node2:6379 (with queue.prefix: "{ferry}")',
  },
});
