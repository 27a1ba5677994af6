// Runs in every test file: servers are stopped by the tests themselves,
// their temporary data directories are removed here once the file is done.
import { afterAll } from 'vitest';
import { removeTempDirs } from './helpers/servers.js';

afterAll(() => removeTempDirs());

// In-process servers read this when they start: an exception caught inside a
// command answers -ERR naming the exception and where it was thrown.
process.env.VIREO_DEBUG_EXCEPTIONS = '1';

// In-process servers check every command: a change to the dataset must log
// an effect and send the change signal (src/server/effect-check.ts).
process.env.VIREO_CHECK_EFFECTS = '1';
