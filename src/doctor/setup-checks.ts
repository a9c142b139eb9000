// The config file, the guest image, and whether the QEMU/TCG path (which needs neither KVM nor
// Firecracker) is ready to run jobs.
import { join } from 'node:path';
import { hasCode } from '../errors.js';
import { CONFIG_ERROR_CODES } from '../config/load.js';
import { IMAGE_FILES, type ImageVerification } from '../image/layout.js';
import type { TartConfig } from '../config/types.js';
import type { CheckResult, DoctorHost } from './types.js';

export async function checkConfig(
  host: DoctorHost,
  path: string,
): Promise<{ result: CheckResult; config?: TartConfig }> {
  try {
    const config = await host.loadConfig(path);
    const executors =
      [...new Set(config.runners.map((runner) => runner.executor))].join(', ') || 'no runners';
    return {
      config,
      result: {
        name: 'config',
        verdict: 'ok',
        fact: `${path} is valid (${config.runners.length} runner(s): ${executors})`,
      },
    };
  } catch (error) {
    if (hasCode(error, CONFIG_ERROR_CODES.notFound)) {
      return {
        result: {
          name: 'config',
          verdict: 'warn',
          fact: `no config at ${path}`,
          fix: 'run "tart register" (checks assume the qemu executor)',
        },
      };
    }
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return {
      result: {
        name: 'config',
        verdict: 'fail',
        fact: `${path} is invalid: ${message}`,
        fix: 'fix the file (the message names the line)',
      },
    };
  }
}

export interface ImageFacts {
  dir: string;
  verification: ImageVerification;
}

export function judgeImage(facts: ImageFacts, required: boolean): CheckResult {
  const { dir, verification } = facts;
  if (verification.ok && verification.manifest) {
    const manifest = verification.manifest;
    return {
      name: 'image',
      verdict: 'ok',
      fact: `${dir}: version ${manifest.version}, kernel ${manifest.kernelRelease}`,
    };
  }
  return {
    name: 'image',
    verdict: required ? 'fail' : 'warn',
    fact: `${dir}: ${verification.problems.join('; ') || 'invalid'}`,
    fix: 'as root, run "sudo tart image build": it builds /var/lib/tart/images/current, which every user can use',
  };
}

/** Paths the KVM probe boots, when the image is usable. */
export function probeImage(facts: ImageFacts): { kernelPath: string; initrdPath: string } | undefined {
  if (!facts.verification.ok) return undefined;
  return { kernelPath: join(facts.dir, IMAGE_FILES.kernel), initrdPath: join(facts.dir, IMAGE_FILES.initrd) };
}

export function judgeTcgPath(qemu: CheckResult, image: CheckResult, required: boolean): CheckResult {
  if (qemu.verdict === 'ok' && image.verdict === 'ok') {
    return {
      name: 'qemu-tcg',
      verdict: 'ok',
      fact: 'the QEMU/TCG path is ready (QEMU present, image valid; no KVM needed)',
    };
  }
  const missing = [
    qemu.verdict === 'ok' ? undefined : 'QEMU',
    image.verdict === 'ok' ? undefined : 'a valid image',
  ].filter(Boolean);
  return {
    name: 'qemu-tcg',
    verdict: required ? 'fail' : 'warn',
    fact: `the QEMU/TCG path is not ready: ${missing.join(' and ')} missing`,
    fix: 'see the qemu and image lines above',
  };
}
