// Moved to src/model/payload.ts (the ground-floor model). Kept so branches in flight still compile;
// new code imports ../model/payload.js.
export * from '../model/payload.js';
