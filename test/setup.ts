// Runs in every test file: servers are stopped by the tests themselves,
// their temporary data directories are removed here once the file is done.
import { afterAll } from 'vitest';
import { removeTempDirs } from './helpers/servers.js';

afterAll(() => removeTempDirs());
