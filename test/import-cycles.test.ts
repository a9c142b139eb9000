// The folders of src/ form no import cycle (scripts/check-import-cycles.mjs, also run by `npm run lint`).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
// @ts-expect-error: a plain .mjs script without type declarations
import { cycles, folderGraph } from '../scripts/check-import-cycles.mjs';

type Graph = Map<string, Map<string, string>>;

function graphOf(edges: Record<string, string[]>): Graph {
  return new Map(
    Object.entries(edges).map(([from, tos]) => [from, new Map(tos.map((to) => [to, `${from}->${to}`]))]),
  );
}

describe('import cycles between src/ folders', () => {
  it('finds a cycle through three folders and none in a layered graph', () => {
    const cyclic = (cycles as (graph: Graph) => string[][])(
      graphOf({ job: ['shell'], shell: ['model', 'cache'], cache: ['job'] }),
    );
    assert.deepEqual(cyclic, [['cache', 'job', 'shell']]);
    assert.deepEqual(
      (cycles as (graph: Graph) => string[][])(graphOf({ job: ['shell', 'model'], shell: ['model'] })),
      [],
    );
  });

  it('finds none in src/', () => {
    assert.deepEqual((cycles as (graph: Graph) => string[][])((folderGraph as () => Graph)()), []);
  });
});
