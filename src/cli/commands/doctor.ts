// `tart doctor`: checks this host for what the configured executors need; one verdict per line,
// exit code 1 when something required fails.
import type { Command } from 'commander';
import { UserError } from '../../errors.js';
import { formatReport, realDoctorHost, runDoctor } from '../../doctor/index.js';
import { contextOf, globalOptions } from '../context.js';

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('check KVM, Firecracker, QEMU, TAP networking, the image and the config')
    .action(async (_flags: unknown, command: Command) => {
      const context = contextOf(command);
      const { configPath } = globalOptions(command);
      const report = await runDoctor({
        host: realDoctorHost(context.host),
        configPath,
        hostFacts: context.host,
      });
      context.stdout.write(formatReport(report));
      if (report.exitCode !== 0)
        throw new UserError('DOCTOR_FAILED', 'some checks the configured executors need failed');
    });
}
