// Checks Firecracker API requests against Firecracker's own Swagger 2.0 spec (firecracker.yaml):
// the method and path must exist, and the body must match the body parameter's schema.
// Test-only: the spec file is not shipped with the package; tests pass its path (see spec-path.ts).
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { TartError } from '../../../src/errors.js';
import type { ApiRequest } from '../../../src/vmm/firecracker/api-client.js';

/** Where the spec lives relative to the repository root (not shipped; CI has it at the same place). */
export const FIRECRACKER_SPEC_RELATIVE_PATH = '../shared/firecracker/firecracker.yaml';

const ROOT_ID = 'firecracker.json';

export type RequestCheck =
  { ok: true; operationId: string; pathParams: Record<string, string> } | { ok: false; problems: string[] };

export interface ValidatorOptions {
  /**
   * Firecracker's config structs are deserialised with serde `deny_unknown_fields`, so an unknown
   * field is a 400 even though the spec does not say `additionalProperties: false`. True (the
   * default) applies that rule to every object schema that does not state its own.
   */
  rejectUnknownFields?: boolean;
}

export interface RequestValidator {
  check(request: ApiRequest): RequestCheck;
  /** The spec's version string (info.version), e.g. "1.16.1". */
  readonly specVersion: string;
}

interface SwaggerParameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: unknown;
}

interface SwaggerOperation {
  operationId?: string;
  parameters?: SwaggerParameter[];
}

interface SwaggerDocument {
  swagger: string;
  info: { version: string };
  paths: Record<string, Record<string, SwaggerOperation>>;
  definitions: Record<string, unknown>;
}

interface CompiledOperation {
  operationId: string;
  /** Compiled on first use: compiling all ~40 schemas up front costs ~0.5 s of CPU. */
  body?: { required: boolean; validate: () => ValidateFunction };
}

interface CompiledPath {
  template: string;
  pattern: RegExp;
  paramNames: string[];
  operations: Map<string, CompiledOperation>;
}

/** Reads and parses firecracker.yaml. */
export function loadFirecrackerSpec(path: string): SwaggerDocument {
  let document: unknown;
  try {
    document = parseYaml(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new TartError('FIRECRACKER_SPEC_UNREADABLE', `cannot read the Firecracker API spec at ${path}`, {
      cause,
      details: { path },
    });
  }
  const spec = document as Partial<SwaggerDocument>;
  if (spec.swagger !== '2.0' || typeof spec.paths !== 'object' || typeof spec.definitions !== 'object') {
    throw new TartError('FIRECRACKER_SPEC_UNREADABLE', `${path} is not a Swagger 2.0 document`, {
      details: { path },
    });
  }
  return spec as SwaggerDocument;
}

/** Builds a validator for every operation in the spec. */
export function createRequestValidator(
  spec: SwaggerDocument,
  options: ValidatorOptions = {},
): RequestValidator {
  const rejectUnknownFields = options.rejectUnknownFields ?? true;
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
  const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
  addFormats(ajv);
  ajv.addSchema({ $id: ROOT_ID, definitions: toJsonSchema(spec.definitions, rejectUnknownFields) });
  const paths = Object.entries(spec.paths).map(([template, operations]) =>
    compilePath(ajv, template, operations, rejectUnknownFields),
  );
  return {
    specVersion: String(spec.info.version),
    check: (request) => checkRequest(paths, request),
  };
}

/** Matches the path, then the method, then validates the body. */
function checkRequest(paths: CompiledPath[], request: ApiRequest): RequestCheck {
  const pathOnly = request.path.split('?')[0] ?? request.path;
  for (const path of paths) {
    const match = path.pattern.exec(pathOnly);
    if (match === null) continue;
    const operation = path.operations.get(request.method.toLowerCase());
    if (operation === undefined) {
      return { ok: false, problems: [`${request.method} is not defined for ${path.template}`] };
    }
    const pathParams = Object.fromEntries(
      path.paramNames.map((name, index) => [name, decodeURIComponent(match[index + 1] ?? '')]),
    );
    const problems = bodyProblems(operation, request.body);
    return problems.length === 0
      ? { ok: true, operationId: operation.operationId, pathParams }
      : { ok: false, problems };
  }
  return { ok: false, problems: [`no path in the spec matches ${pathOnly}`] };
}

/** Schema errors of a request body, as "<field> <message>" lines. */
function bodyProblems(operation: CompiledOperation, body: unknown): string[] {
  if (operation.body === undefined) {
    return body === undefined ? [] : [`${operation.operationId} takes no body`];
  }
  if (body === undefined) return operation.body.required ? [`${operation.operationId} needs a body`] : [];
  const validate = operation.body.validate();
  if (validate(body)) return [];
  return (validate.errors ?? []).map((error) => {
    const where = error.instancePath === '' ? 'body' : `body${error.instancePath}`;
    const extra =
      error.keyword === 'additionalProperties' ? ` (${String(error.params.additionalProperty)})` : '';
    const allowed =
      error.keyword === 'enum' ? ` (${(error.params.allowedValues as unknown[]).join(', ')})` : '';
    return `${where} ${error.message ?? error.keyword}${extra}${allowed}`;
  });
}

/** Compiles one `paths` entry: a regex for the template and a body validator per method. */
function compilePath(
  ajv: Ajv,
  template: string,
  operations: Record<string, SwaggerOperation>,
  rejectUnknownFields: boolean,
): CompiledPath {
  const paramNames: string[] = [];
  const source = template
    .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
    .replace(/\{([^}]+)\}/g, (_all, name: string) => {
      paramNames.push(name);
      return '([^/]+)';
    });
  const compiled = new Map<string, CompiledOperation>();
  for (const [method, operation] of Object.entries(operations)) {
    if (method.startsWith('x-') || method === 'parameters') continue;
    const bodyParameter = (operation.parameters ?? []).find((parameter) => parameter.in === 'body');
    const operationId = operation.operationId ?? `${method} ${template}`;
    compiled.set(method, {
      operationId,
      body:
        bodyParameter?.schema === undefined
          ? undefined
          : {
              required: bodyParameter.required === true,
              validate: once(() =>
                ajv.compile(toJsonSchema(bodyParameter.schema, rejectUnknownFields) as object),
              ),
            },
    });
  }
  return { template, pattern: new RegExp(`^${source}$`), paramNames, operations: compiled };
}

/** A thunk that computes its value on the first call only. */
function once<T>(compute: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= compute());
}

/** Swagger 2.0 keywords that JSON Schema draft-07 (and ajv strict mode) does not know. */
const DROPPED_KEYWORDS = new Set(['example', 'discriminator', 'xml', 'externalDocs']);

/** Formats ajv-formats knows; any other Swagger `format` string is a regex in this spec. */
const KNOWN_FORMATS = new Set([
  'int32',
  'int64',
  'float',
  'double',
  'byte',
  'binary',
  'password',
  'date',
  'date-time',
  'uri',
]);

/**
 * Converts a Swagger 2.0 schema (or a map of them) to draft-07 JSON Schema: drops `x-` and
 * Swagger-only keys, points `$ref`s at the shared definitions document, turns regex-valued
 * `format`s into `pattern`s and, when asked, closes objects to unknown fields.
 */
export function toJsonSchema(node: unknown, rejectUnknownFields: boolean): unknown {
  if (Array.isArray(node)) return node.map((item) => toJsonSchema(item, rejectUnknownFields));
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (key.startsWith('x-') || DROPPED_KEYWORDS.has(key)) continue;
    if (key === '$ref' && typeof value === 'string') {
      out.$ref = value.startsWith('#/definitions/') ? `${ROOT_ID}${value}` : value;
    } else if (key === 'format' && typeof value === 'string' && !KNOWN_FORMATS.has(value)) {
      out.pattern = `^${value}$`;
    } else if (key === 'properties' || key === 'definitions') {
      // Keys here are names, not keywords: convert each value, keep every name.
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([name, schema]) => [
          name,
          toJsonSchema(schema, rejectUnknownFields),
        ]),
      );
    } else {
      out[key] = toJsonSchema(value, rejectUnknownFields);
    }
  }
  if (typeof out.$ref === 'string') return { $ref: out.$ref };
  if (rejectUnknownFields && out.properties !== undefined && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}
