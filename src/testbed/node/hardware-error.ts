/** A hardware command that failed on the model: its message goes to stderr, `exitCode` to the engine. */
export class HardwareError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'HardwareError';
    this.exitCode = exitCode;
  }
}
