// `npm start [-- args]`: install and build if needed, then run the server
// in this process with redis-server style arguments.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureBuild, ensureDependencies, root } from './ensure.mjs';

ensureDependencies();
ensureBuild();
const { main } = await import(pathToFileURL(path.join(root, 'dist', 'src', 'main.js')).href);
try {
  await main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
