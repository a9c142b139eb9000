// Phase 1: YAML text → plain values plus a map from value paths to source lines.
// We convert the yaml AST ourselves so anchors, merge keys (`<<`) and `!reference` come out
// exactly as GitLab treats them, and every key keeps the line it was written on.
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  type Document,
  type Node,
  type YAMLSeq,
} from 'yaml';
import { CiConfigError, type SourceLocation } from './errors.js';

/** `!reference [job, key, ...]`, resolved after all files are merged. */
export class ReferenceTag {
  constructor(
    readonly path: string[],
    readonly location: SourceLocation,
  ) {}
}

export type CiValue =
  string | number | boolean | null | ReferenceTag | CiValue[] | { [key: string]: CiValue };
export type CiMap = { [key: string]: CiValue };

/** Where each value path (`pathKey(["job", "script"])`) was written. */
export type SourceMap = Map<string, SourceLocation>;

export interface LoadedFile {
  file: string;
  content: CiMap;
  sources: SourceMap;
  /** `spec:` of the header document of a file written as `spec: inputs: ...` `---` configuration. */
  spec?: CiMap;
}

/**
 * Parses one CI file. `file` is the project-relative name used in error messages. A file may be
 * two YAML documents: a header holding only `spec:` (inputs), then the configuration.
 */
export function loadCiFile(file: string, text: string): LoadedFile {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, {
    lineCounter,
    // GitLab's YAML parser lets a repeated key replace the earlier one.
    uniqueKeys: false,
    customTags: [{ tag: '!reference', collection: 'seq', resolve: (value: unknown) => value as YAMLSeq }],
  });
  const list = Array.isArray(documents) ? documents : [documents];
  for (const document of list) {
    const firstError = document.errors[0];
    if (firstError) {
      const line = lineCounter.linePos(firstError.pos[0]).line;
      throw new CiConfigError('CI_YAML_SYNTAX', `invalid YAML: ${firstError.message.split('\n')[0]}`, {
        location: { file, line },
      });
    }
  }
  const converted = list.map((document) => {
    const converter = new Converter(file, document, lineCounter);
    return { content: converter.convert(document.contents, []), sources: converter.sources };
  });
  const header = converted.length > 1 ? converted[0] : undefined;
  const body = converted[converted.length - 1] ?? { content: null, sources: new Map() };
  if (converted.length > 2 || (header && !(isPlainMap(header.content) && isSpecOnly(header.content)))) {
    throw new CiConfigError(
      'CI_YAML_SYNTAX',
      'a CI file holds one document, or a `spec:` header document and the configuration after `---`',
      { location: { file, line: 1 } },
    );
  }
  const spec =
    header && isPlainMap(header.content)
      ? isPlainMap(header.content.spec)
        ? header.content.spec
        : {}
      : undefined;
  if (body.content === null || body.content === undefined)
    return { file, content: {}, sources: body.sources, ...(spec ? { spec } : {}) };
  if (!isPlainMap(body.content)) {
    throw new CiConfigError('CI_YAML_SYNTAX', 'the top level must be a mapping of keywords and jobs', {
      location: { file, line: 1 },
    });
  }
  return { file, content: body.content, sources: body.sources, ...(spec ? { spec } : {}) };
}

function isSpecOnly(content: CiMap): boolean {
  return Object.keys(content).every((key) => key === 'spec');
}

/** The key under which a value path is stored in a SourceMap. */
export function pathKey(path: readonly (string | number)[]): string {
  return JSON.stringify(path);
}

export function isPlainMap(value: unknown): value is CiMap {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof ReferenceTag)
  );
}

// Walks the yaml AST once, producing plain values and recording the line of every key/item.
class Converter {
  readonly sources: SourceMap = new Map();

  constructor(
    private readonly file: string,
    private readonly document: Document,
    private readonly lineCounter: LineCounter,
  ) {}

  convert(node: unknown, path: (string | number)[]): CiValue {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return this.convert(node.resolve(this.document), path);
    if (isScalar(node)) return toScalar(node.value);
    if (isSeq(node)) {
      if (node.tag === '!reference') return this.reference(node, path);
      return node.items.map((item, index) => {
        this.record([...path, index], item as Node);
        return this.convert(item, [...path, index]);
      });
    }
    if (isMap(node)) return this.mapping(node.items, path);
    throw new CiConfigError('CI_YAML_SYNTAX', 'unsupported YAML node', {
      location: this.locate(node as Node),
    });
  }

  // Explicit keys win over merged ones wherever they appear, as in YAML 1.1 merge keys.
  private mapping(pairs: unknown[], path: (string | number)[]): CiMap {
    const result: CiMap = {};
    const merged: CiMap[] = [];
    for (const pair of pairs) {
      if (!isPair(pair)) continue;
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (key === '<<') {
        merged.push(...this.mergeSources(pair.value, path));
        continue;
      }
      this.record([...path, key], pair.key as Node);
      result[key] = this.convert(pair.value, [...path, key]);
    }
    for (const source of merged) {
      for (const [key, value] of Object.entries(source)) if (!(key in result)) result[key] = value;
    }
    return result;
  }

  private mergeSources(value: unknown, path: (string | number)[]): CiMap[] {
    const resolved = isAlias(value) ? value.resolve(this.document) : value;
    const items = isSeq(resolved) ? resolved.items : [resolved];
    return items.map((item) => {
      const converted = this.convert(item, path);
      if (!isPlainMap(converted))
        throw new CiConfigError('CI_YAML_SYNTAX', 'merge key "<<" needs a mapping', {
          location: this.locate(item as Node),
        });
      return converted;
    });
  }

  private reference(node: YAMLSeq, path: (string | number)[]): ReferenceTag {
    const location = this.locate(node);
    const parts = node.items.map((item) => (isScalar(item) ? String(item.value) : ''));
    if (parts.length === 0 || parts.some((part) => part === '')) {
      throw new CiConfigError(
        'CI_REFERENCE_MISSING',
        '!reference needs a list of keys, e.g. !reference [.setup, script]',
        { location },
      );
    }
    this.sources.set(pathKey(path), this.sources.get(pathKey(path)) ?? location);
    return new ReferenceTag(parts, location);
  }

  private record(path: (string | number)[], node: Node | undefined): void {
    const key = pathKey(path);
    if (node && !this.sources.has(key)) this.sources.set(key, this.locate(node));
  }

  private locate(node: Node | undefined): SourceLocation {
    const offset = node?.range?.[0] ?? 0;
    return { file: this.file, line: this.lineCounter.linePos(offset).line };
  }
}

function toScalar(value: unknown): CiValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString();
  return String(value);
}
