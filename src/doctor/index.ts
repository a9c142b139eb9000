export { runDoctor, formatReport, type DoctorReport } from './run-doctor.js';
export { realDoctorHost } from './host.js';
export type { CheckResult, DoctorHost, Requirements, Verdict } from './types.js';
export { preflightExecutor } from './preflight.js';
