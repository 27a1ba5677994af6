// Summarize a V8 .cpuprofile (node --cpu-prof): self time per function,
// highest first, with its share of all samples.
// Usage: node scripts/cpuprofile-top.mjs file.cpuprofile [rows]
import { readFileSync } from 'node:fs';

const [file, rowsArg] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: node scripts/cpuprofile-top.mjs file.cpuprofile [rows]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
// Self time of a node: the time between its samples and the next ones.
const selfUs = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
}
// One row per function (name, file, line), summed over every call path.
const rows = new Map();
let total = 0;
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id).callFrame;
  const where = url === '' ? '' : `${url.replace(/^.*\/(dist|node_modules)\//, '')}:${lineNumber + 1}`;
  const name = `${functionName || '(anonymous)'} ${where}`.trim();
  rows.set(name, (rows.get(name) ?? 0) + us);
  total += us;
}
const top = [...rows].sort((a, b) => b[1] - a[1]).slice(0, Number(rowsArg ?? 25));
console.log(`total ${(total / 1000).toFixed(0)} ms`);
for (const [name, us] of top) console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`);
