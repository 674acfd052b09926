import { realpathSync } from 'node:fs';
import { dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The checkout's root directory, with a trailing separator. A test run from
 * .test-build/ (.ci/build-tests.mjs) sees that tree's symlinks at `../..`;
 * tools that must see the checkout itself (git, dependency-cruiser over
 * src/) get the real directory from here.
 */
export const CHECKOUT = dirname(realpathSync(fileURLToPath(new URL('../../package.json', import.meta.url)))) + sep;
