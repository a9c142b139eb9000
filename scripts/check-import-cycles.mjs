// Fails (exit 1) when the folders of src/ import each other in a cycle: every folder must sit
// above or below every other it touches. Runs in `npm run lint`. Type-only imports count too.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname, '..', 'src');
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g;

/** `job`, `executor`, … for files in a folder; the file's own name for files at the top of src/. */
function unitOf(file) {
  const [first, ...rest] = relative(SRC, file).split('/');
  return rest.length === 0 ? first.replace(/\.ts$/, '') : first;
}

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** unit → unit → one example import ("a/file.ts -> b/file.ts"). */
export function folderGraph(files = sourceFiles(SRC)) {
  const graph = new Map();
  for (const file of files) {
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = resolve(dirname(file), match[1] ?? match[2]).replace(/\.js$/, '.ts');
      const from = unitOf(file);
      const to = unitOf(target);
      if (from === to) continue;
      if (!graph.has(from)) graph.set(from, new Map());
      const edges = graph.get(from);
      if (!edges.has(to)) edges.set(to, `${relative(SRC, file)} -> ${relative(SRC, target)}`);
    }
  }
  return graph;
}

/** Strongly connected components with more than one unit (Tarjan). */
export function cycles(graph) {
  let index = 0;
  const stack = [];
  const info = new Map();
  const found = [];
  const visit = (unit) => {
    info.set(unit, { index, low: index, onStack: true });
    index += 1;
    stack.push(unit);
    for (const next of graph.get(unit)?.keys() ?? []) {
      if (!info.has(next)) {
        visit(next);
        info.get(unit).low = Math.min(info.get(unit).low, info.get(next).low);
      } else if (info.get(next).onStack) {
        info.get(unit).low = Math.min(info.get(unit).low, info.get(next).index);
      }
    }
    if (info.get(unit).low !== info.get(unit).index) return;
    const component = [];
    let member;
    do {
      member = stack.pop();
      info.get(member).onStack = false;
      component.push(member);
    } while (member !== unit);
    if (component.length > 1) found.push(component.sort());
  };
  for (const unit of graph.keys()) if (!info.has(unit)) visit(unit);
  return found;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const graph = folderGraph();
  const found = cycles(graph);
  for (const component of found) {
    console.error(`import cycle between src/ folders: ${component.join(', ')}`);
    for (const from of component)
      for (const [to, example] of graph.get(from) ?? [])
        if (component.includes(to)) console.error(`  ${from} -> ${to}: ${example}`);
  }
  process.exit(found.length > 0 ? 1 : 0);
}
