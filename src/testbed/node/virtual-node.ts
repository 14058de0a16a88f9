import { EventEmitter } from 'node:events';
import { PassThrough, type Duplex } from 'node:stream';
import type { Fault, NodeStatus, RebootLevel, VirtualNodeOptions } from './types.js';

// Work in progress: the API is fixed, the implementation lands in the next commits.
export class VirtualNode extends EventEmitter {
  readonly options: VirtualNodeOptions;
  private faults: Fault[] = [];
  constructor(o: VirtualNodeOptions) {
    super();
    this.options = o;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async powerOn(): Promise<void> {}
  async powerOff(): Promise<void> {}
  async reboot(_level: RebootLevel): Promise<void> {}
  status(): NodeStatus {
    return { name: this.options.name, address: this.options.address, power: 'off', state: 'off', bootCount: 0, faults: [...this.faults] };
  }
  injectFault(f: Fault): void {
    this.faults.push(f);
  }
  clearFaults(): void {
    this.faults = [];
  }
  openConsole(): Duplex {
    return new PassThrough();
  }
  override on(event: 'state', cb: (s: NodeStatus) => void): this {
    return super.on(event, cb);
  }
}
