// Every resource a VM start creates registers how to undo it; the undo steps run once, newest
// first, on every exit path (the Go SDK's doCleanup discipline: leaked sockets are the classic bug).

export class UndoStack {
  private readonly steps: Array<{ label: string; undo: () => Promise<void> | void }> = [];
  private running: Promise<Error[]> | undefined;

  push(label: string, undo: () => Promise<void> | void): void {
    this.steps.push({ label, undo });
  }

  /** Runs every step once, newest first; a failing step does not stop the others. Returns their errors. */
  run(): Promise<Error[]> {
    this.running ??= this.runAll();
    return this.running;
  }

  private async runAll(): Promise<Error[]> {
    const errors: Error[] = [];
    for (const step of this.steps.reverse()) {
      try {
        await step.undo();
      } catch (error) {
        errors.push(
          new Error(`cleanup "${step.label}" failed: ${(error as Error).message}`, { cause: error }),
        );
      }
    }
    return errors;
  }
}
