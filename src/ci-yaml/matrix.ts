// `parallel: N` → "job 1/N" … and `parallel: matrix` → "job: [a, b]", named as GitLab names them.
import { CiConfigError, type SourceLocation } from './errors.js';
import { isPlainMap, type CiValue } from './load.js';
import type { CiVariable } from './types.js';

export interface ParallelInstance {
  name: string;
  variables: CiVariable[];
  node?: { index: number; total: number };
}

// GitLab refuses more than 200 parallel jobs from one definition.
const MAX_PARALLEL = 200;

export function expandParallel(
  name: string,
  parallel: CiValue | undefined,
  where: { location?: SourceLocation; job: string },
): ParallelInstance[] {
  if (parallel === undefined || parallel === null) return [{ name, variables: [] }];
  if (typeof parallel === 'number') return numbered(name, parallel, where);
  if (isPlainMap(parallel) && Array.isArray(parallel.matrix)) return matrix(name, parallel.matrix, where);
  throw new CiConfigError('CI_INVALID_VALUE', 'parallel must be a number or { matrix: [...] }', where);
}

function numbered(
  name: string,
  total: number,
  where: { location?: SourceLocation; job: string },
): ParallelInstance[] {
  if (!Number.isInteger(total) || total < 1 || total > MAX_PARALLEL) {
    throw new CiConfigError('CI_INVALID_VALUE', `parallel must be between 1 and ${MAX_PARALLEL}`, where);
  }
  return Array.from({ length: total }, (_, offset) => ({
    name: `${name} ${offset + 1}/${total}`,
    variables: nodeVariables(offset + 1, total),
    node: { index: offset + 1, total },
  }));
}

function matrix(
  name: string,
  entries: CiValue[],
  where: { location?: SourceLocation; job: string },
): ParallelInstance[] {
  const combinations = entries.flatMap((entry) => {
    if (!isPlainMap(entry))
      throw new CiConfigError(
        'CI_INVALID_VALUE',
        'each parallel:matrix entry must be a mapping of variables',
        where,
      );
    return cartesian(
      Object.entries(entry).map(([key, value]) =>
        (Array.isArray(value) ? value : [value]).map((item) => ({ key, value: String(item) })),
      ),
    );
  });
  if (combinations.length > MAX_PARALLEL)
    throw new CiConfigError(
      'CI_INVALID_VALUE',
      `parallel:matrix makes more than ${MAX_PARALLEL} jobs`,
      where,
    );
  return combinations.map((variables, offset) => ({
    name: `${name}: [${variables.map((variable) => variable.value).join(', ')}]`,
    variables: [...variables, ...nodeVariables(offset + 1, combinations.length)],
    node: { index: offset + 1, total: combinations.length },
  }));
}

function cartesian(axes: CiVariable[][]): CiVariable[][] {
  return axes.reduce<CiVariable[][]>(
    (products, axis) => products.flatMap((product) => axis.map((value) => [...product, value])),
    [[]],
  );
}

function nodeVariables(index: number, total: number): CiVariable[] {
  return [
    { key: 'CI_NODE_INDEX', value: String(index) },
    { key: 'CI_NODE_TOTAL', value: String(total) },
  ];
}
