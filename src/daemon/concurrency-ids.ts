// CI_CONCURRENT_ID and CI_CONCURRENT_PROJECT_ID: the lowest free slot numbers among a runner's
// running jobs, and among its running jobs of one project (gitlab-runner's build dir level).

export class ConcurrencyIds {
  private readonly runnerSlots = new Set<number>();
  private readonly projectSlots = new Map<string, Set<number>>();

  /** Takes both ids for a job of `project`; call the returned function when the job ends. */
  acquire(project: string): { concurrentId: number; concurrentProjectId: number; release: () => void } {
    const concurrentId = takeLowest(this.runnerSlots);
    let slots = this.projectSlots.get(project);
    if (!slots) {
      slots = new Set();
      this.projectSlots.set(project, slots);
    }
    const concurrentProjectId = takeLowest(slots);
    const projectSlots = slots;
    return {
      concurrentId,
      concurrentProjectId,
      release: () => {
        this.runnerSlots.delete(concurrentId);
        projectSlots.delete(concurrentProjectId);
        if (projectSlots.size === 0) this.projectSlots.delete(project);
      },
    };
  }
}

function takeLowest(used: Set<number>): number {
  let id = 0;
  while (used.has(id)) id += 1;
  used.add(id);
  return id;
}
