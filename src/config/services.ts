// A service every job of a runner gets before its own (gitlab-runner's `[[runners.docker.services]]`,
// common/config.go Service): the same keys in `[[runners.vm.services]]`, Tart's own table.
import { emptyMeansUnset, environmentEntry, list, string } from './decoders.js';
import { optional, required, withDefault, type Shape } from './fields.js';
import type { ConfigService } from './types.js';

export const configServiceShape: Shape<ConfigService> = {
  name: required('name', string({ nonEmpty: true })),
  alias: optional('alias', emptyMeansUnset(string())),
  entrypoint: optional('entrypoint', list(string())),
  command: optional('command', list(string())),
  environment: withDefault('environment', list(environmentEntry), []),
};
