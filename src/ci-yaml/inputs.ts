// `spec: inputs:` and `$[[ inputs.x ]]`: a file's header declares its inputs (type, default,
// options, regex); `include: { local|component, inputs }` gives values; every string of the file
// (keys too) is interpolated. A value that is exactly one `$[[ ... ]]` keeps the input's type.
import { CiConfigError, type SourceLocation } from './errors.js';
import { isPlainMap, ReferenceTag, type CiMap, type CiValue } from './load.js';
import { expandKeepingUnknown } from './variables.js';

type InputType = 'string' | 'number' | 'boolean' | 'array';

interface InputSpec {
  type: InputType;
  default?: CiValue;
  options?: CiValue[];
  regex?: string;
}

const BLOCK = /\$\[\[\s*(.*?)\s*\]\]/g;

/**
 * Checks `given` against the file's spec and interpolates its content. A file without a header
 * takes no inputs; `variables` feeds the `expand_vars` function.
 */
export function applyInputs(input: {
  content: CiMap;
  spec: CiMap | undefined;
  given: CiValue | undefined;
  variables: ReadonlyMap<string, string>;
  location: SourceLocation;
}): CiMap {
  const where = { location: input.location };
  const given = input.given === undefined || input.given === null ? {} : input.given;
  if (!isPlainMap(given)) throw new CiConfigError('CI_INPUTS_INVALID', 'inputs must be a mapping', where);
  if (input.spec === undefined) {
    if (Object.keys(given).length > 0)
      throw new CiConfigError(
        'CI_INPUTS_INVALID',
        'given inputs not defined in the `spec` section of the included configuration file',
        where,
      );
    return input.content;
  }
  const specs = inputSpecs(input.spec, where);
  const unknown = Object.keys(given).filter((name) => !specs.has(name));
  if (unknown.length > 0)
    throw new CiConfigError('CI_INPUTS_INVALID', `unknown input arguments: ${unknown.join(', ')}`, where);
  const values = new Map<string, CiValue>();
  for (const [name, spec] of specs) values.set(name, inputValue(name, spec, given[name], where));
  return interpolate(input.content, values, input.variables, where) as CiMap;
}

function inputSpecs(spec: CiMap, where: { location: SourceLocation }): Map<string, InputSpec> {
  const inputs = spec.inputs ?? {};
  if (!isPlainMap(inputs))
    throw new CiConfigError('CI_INPUTS_INVALID', 'spec:inputs must be a mapping of input names', where);
  return new Map(
    Object.entries(inputs).map(([name, definition]) => {
      const map = isPlainMap(definition) ? definition : {};
      const type = (map.type ?? 'string') as InputType;
      if (!['string', 'number', 'boolean', 'array'].includes(type))
        throw new CiConfigError(
          'CI_INPUTS_INVALID',
          `\`${name}\` input: unknown input type \`${String(type)}\``,
          where,
        );
      return [
        name,
        {
          type,
          ...(map.default !== undefined ? { default: map.default } : {}),
          ...(Array.isArray(map.options) ? { options: map.options } : {}),
          ...(typeof map.regex === 'string' ? { regex: map.regex } : {}),
        },
      ];
    }),
  );
}

function inputValue(
  name: string,
  spec: InputSpec,
  given: CiValue | undefined,
  where: { location: SourceLocation },
): CiValue {
  const fail = (problem: string) =>
    new CiConfigError('CI_INPUTS_INVALID', `\`${name}\` input: ${problem}`, where);
  const value = given ?? spec.default;
  if (value === undefined) throw fail('required value has not been provided');
  const ok =
    spec.type === 'array'
      ? Array.isArray(value)
      : spec.type === 'string'
        ? typeof value === 'string'
        : typeof value === spec.type;
  if (!ok) throw fail(`provided value is not a ${spec.type}`);
  if (spec.options && !spec.options.some((option) => option === value))
    throw fail(`\`${String(value)}\` cannot be used because it is not in the list of allowed options`);
  if (spec.regex !== undefined && typeof value === 'string' && !regexFrom(spec.regex).test(value))
    throw fail('provided value does not match required RE2 regular expression');
  return value;
}

// RE2 patterns are written /.../ or bare; JavaScript reads the common subset the same way.
function regexFrom(text: string): RegExp {
  const slashed = /^\/(.*)\/([a-z]*)$/s.exec(text);
  return slashed
    ? new RegExp(slashed[1] ?? '', (slashed[2] ?? '').replace(/[^imsu]/g, ''))
    : new RegExp(text);
}

function interpolate(
  value: CiValue,
  values: Map<string, CiValue>,
  variables: ReadonlyMap<string, string>,
  where: { location: SourceLocation },
): CiValue {
  if (typeof value === 'string') return interpolateString(value, values, variables, where);
  if (Array.isArray(value)) return value.map((item) => interpolate(item, values, variables, where));
  if (value instanceof ReferenceTag) return value;
  if (isPlainMap(value))
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        String(interpolateString(key, values, variables, where)),
        interpolate(item, values, variables, where),
      ]),
    );
  return value;
}

function interpolateString(
  text: string,
  values: Map<string, CiValue>,
  variables: ReadonlyMap<string, string>,
  where: { location: SourceLocation },
): CiValue {
  if (!text.includes('$[[')) return text;
  const whole = /^\$\[\[\s*(.*?)\s*\]\]$/.exec(text);
  if (whole) return evaluateBlock(whole[1] ?? '', values, variables, where);
  return text.replace(BLOCK, (_match, body: string) => {
    const result = evaluateBlock(body, values, variables, where);
    return typeof result === 'string' ? result : JSON.stringify(result);
  });
}

// `inputs.name`, optionally piped through expand_vars, truncate(offset, length), posix_escape.
function evaluateBlock(
  body: string,
  values: Map<string, CiValue>,
  variables: ReadonlyMap<string, string>,
  where: { location: SourceLocation },
): CiValue {
  const [access = '', ...functions] = body.split('|').map((part) => part.trim());
  const match = /^inputs\.([A-Za-z0-9_-]+)$/.exec(access);
  if (!match)
    throw new CiConfigError('CI_INPUTS_INVALID', `invalid interpolation block: $[[ ${body} ]]`, where);
  const name = match[1] as string;
  if (!values.has(name))
    throw new CiConfigError('CI_INPUTS_INVALID', `unknown interpolation key: \`${name}\``, where);
  let result = values.get(name) as CiValue;
  for (const fn of functions) {
    const text = typeof result === 'string' ? result : JSON.stringify(result);
    const truncate = /^truncate\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(fn);
    if (fn === 'expand_vars') result = expandKeepingUnknown(text, variables);
    else if (fn === 'posix_escape') result = text.replace(/([^A-Za-z0-9_\-.,:/@\n])/g, '\\$1');
    else if (truncate) result = text.slice(Number(truncate[1]), Number(truncate[1]) + Number(truncate[2]));
    else throw new CiConfigError('CI_INPUTS_INVALID', `unknown interpolation function: ${fn}`, where);
  }
  return result;
}
