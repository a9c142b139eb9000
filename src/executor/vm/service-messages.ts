// gitlab-runner's trace text about services (executors/docker/services.go, docker.go
// createService; helpers/service/logger.go), byte for byte where it has one. Pure.

const ANSI = { yellow: '\x1b[0;33m', grey: '\x1b[0;37m', reset: '\x1b[0;m' } as const;

/** Before a service's image is pulled: `Starting service redis:latest...`. */
export function startingServiceLine(service: string, version: string): string {
  return `Starting service ${service}${version.startsWith('@') ? version : `:${version}`}...`;
}

/** Once, before the parallel readiness checks. */
export function waitingForServicesLine(timeoutSeconds: number): string {
  return `Waiting for services to be up and running (timeout ${timeoutSeconds} seconds)...`;
}

/**
 * The warning block for a service that did not become ready (the job goes on). Health check logs
 * appear only when the check itself reported them, as gitlab-runner's serviceHealthCheckError.
 */
export function serviceWarningBlock(options: { containerName: string; error: string; healthCheckLogs?: string; serviceLogs: string }): string {
  return [
    '\n',
    `${ANSI.yellow}*** WARNING:${ANSI.reset} Service ${options.containerName} probably didn't start properly.\n`,
    '\n',
    'Health check error:\n',
    `${options.error.trim()}\n`,
    ...(options.healthCheckLogs === undefined ? [] : ['\n', 'Health check container logs:\n', options.healthCheckLogs, '\n']),
    '\n',
    'Service container logs:\n',
    options.serviceLogs,
    '\n',
    '\n',
    `${ANSI.yellow}*********${ANSI.reset}\n`,
    '\n',
  ].join('');
}

/**
 * One line of a service's output in the trace (CI_DEBUG_SERVICES), with the time it was written in
 * Docker's RFC3339NanoFixed (`docker logs -t`; the guest stamps it, service-root.ts).
 */
export function serviceLogLine(aliases: readonly string[], timestamp: string, text: string): string {
  return `${ANSI.grey}[service:${aliases.join('-')}] ${timestamp} ${text}${ANSI.reset}\n`;
}

/** The health check error of a check that ran out of time. */
export function healthCheckTimeoutError(containerName: string): string {
  return `service "${containerName}-wait-for-service" timeout`;
}

/** The health check error of a service without a port to check. */
export function noExposedPortsError(containerName: string): string {
  return `service "${containerName}" has no exposed ports`;
}

