// `npm run restore -- --dir data --time <when> --out <dir>`: build if needed, then run the restore tool.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureBuild, ensureDependencies, root } from './ensure.mjs';

ensureDependencies();
ensureBuild();
const { runRestore } = await import(pathToFileURL(path.join(root, 'dist', 'src', 'tools', 'restore.js')).href);
process.exit(runRestore(process.argv.slice(2), (line) => process.stdout.write(`${line}\n`)));
