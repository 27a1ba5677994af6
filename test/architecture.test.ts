/**
 * The layering of DESIGN.md §1-2, checked on the sources: commands/ and
 * engine/ never import server/, the engine imports nothing above it
 * (commands/, server/, persistence/), and no two modules import each other
 * through any chain.
 */
import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { importGraph, importCycles } from './helpers/imports.js';

const root = path.resolve(__dirname, '..');
const graph = importGraph(root);

function arrows(from: (f: string) => boolean, to: (f: string) => boolean): string[] {
  const out: string[] = [];
  for (const [f, deps] of graph) for (const d of deps) if (from(f) && to(d)) out.push(`${f} -> ${d}`);
  return out;
}

describe('import graph', () => {
  it('reads the sources', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('src/engine/engine.ts')).toBeDefined();
  });

  it('has no arrow from src/commands/ or src/engine/ to src/server/', () => {
    const below = (f: string) => f.startsWith('src/commands/') || f.startsWith('src/engine/');
    expect(arrows(below, (d) => d.startsWith('src/server/'))).toEqual([]);
  });

  it('has no arrow from the engine to commands/, server/ or persistence/', () => {
    const above = (d: string) => d.startsWith('src/commands/') || d.startsWith('src/server/') || d.startsWith('persistence/') || d.startsWith('replication/');
    expect(arrows((f) => f.startsWith('src/engine/'), above)).toEqual([]);
  });

  it('has no arrow from src/log/ (the command log and the durability gate) to the layers that follow or write it', () => {
    const above = (d: string) => ['src/server/', 'src/commands/', 'src/engine/', 'persistence/', 'replication/'].some((p) => d.startsWith(p));
    expect(arrows((f) => f.startsWith('src/log/'), above)).toEqual([]);
  });

  it('has no import cycle', () => {
    expect(importCycles(graph)).toEqual([]);
  });
});
