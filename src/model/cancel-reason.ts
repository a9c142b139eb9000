// Why a running job is being stopped from outside (data only).

/**
 * Why the job is being stopped from outside. `canceling`: GitLab asked for a graceful cancel
 * (after_script still runs). `canceled`: stop now. `shutdown`: the daemon is stopping (SIGINT/SIGTERM).
 */
export type CancelReason = { kind: 'canceling' } | { kind: 'canceled' } | { kind: 'shutdown' };
