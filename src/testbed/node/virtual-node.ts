import { EventEmitter } from 'node:events';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import ssh2, { type ParsedKey } from 'ssh2';
import { errorMessage, KaployError } from '../../common/errors.js';
import { type Logger, silentLogger } from '../../common/logger.js';
import { withKeyObjects } from '../../common/ssh-key-objects.js';
import { type BootOutcome, checkBootable, readBootTarget, resolveBoot } from './boot-resolver.js';
import { BootServices } from './boot-services.js';
import { BootedSystem } from './booted-system.js';
import { prepareDeployEnv } from './deploy-env.js';
import { DiskModel } from './disk-model.js';
import { createDisk } from './disk-setup.js';
import { FaultBook, type FaultTrigger } from './fault-book.js';
import type { AfterCommand } from './hardware-exec.js';
import { validateNodeOptions } from './node-options.js';
import type { NodeRuntime } from './node-runtime.js';
import { importRawImage } from './raw-image.js';
import { killSandboxed, type SandboxProcess, spawnSandboxed } from './sandbox-process.js';
import { SerialConsole } from './serial-console.js';
import { SetIdSweeper, stripSetIdBits } from './setid-sweep.js';
import { serveSessions } from './ssh-sessions.js';
import { TokenBucket } from './token-bucket.js';
import type { Fault, NodeState, NodeStatus, RebootLevel, VirtualNodeOptions } from './types.js';

/** Why a boot starts: it decides the delay (firmware or not), the PXE step and which faults apply. */
type BootCause =
  | { kind: 'power_on' }
  | { kind: 'reset'; command?: string }
  | { kind: 'power_cycle' }
  | { kind: 'kexec'; outcome: BootOutcome; command: string };

/**
 * A virtual node: power, PXE boot, disk and NIC models around an SSH server on its own loopback
 * address, whose commands run for real in the node's sandbox. See docs/virtual-node.md.
 */
export class VirtualNode extends EventEmitter {
  private readonly o: VirtualNodeOptions;
  private readonly logger: Logger;
  private readonly faults = new FaultBook();
  private readonly console: SerialConsole;
  private readonly ssh: ssh2.Server;
  private readonly nicIn: TokenBucket | undefined;
  private readonly nicOut: TokenBucket | undefined;
  private readonly diskBucket: TokenBucket | undefined;
  private readonly children = new Set<SandboxProcess>();
  /** After every sandboxed command: no setuid/setgid file stays on the host disk (decision 0034). */
  private readonly sweeper: SetIdSweeper;
  private disk: DiskModel | undefined;
  private power: 'on' | 'off' = 'off';
  private state: NodeState = 'off';
  private bootedPartition: number | undefined;
  private bootCount = 0;
  /** Bumped at every reset: a boot in progress for an older generation is abandoned. */
  private generation = 0;
  private bootTimer: NodeJS.Timeout | undefined;
  private system: BootedSystem | undefined;
  private services: BootServices | undefined;

  constructor(options: VirtualNodeOptions) {
    super();
    this.o = validateNodeOptions(options);
    this.logger = (options.logger ?? silentLogger).child({ node: this.o.name });
    this.console = new SerialConsole(join(this.o.dir, 'console.log'));
    this.sweeper = new SetIdSweeper(() => stripSetIdBits(this.o.dir, this.o.name));
    const h = this.o.hardware;
    this.nicIn = h.nicBytesPerSec ? new TokenBucket(h.nicBytesPerSec) : undefined;
    this.nicOut = h.nicBytesPerSec ? new TokenBucket(h.nicBytesPerSec) : undefined;
    this.diskBucket = h.diskBytesPerSec ? new TokenBucket(h.diskBytesPerSec) : undefined;
    // One ssh2 Server per node, built once (its host key parsed once); each boot hands it sockets.
    this.ssh = new ssh2.Server({
      // Parsed here so that its signatures (one per SSH login) use a KeyObject made once.
      hostKeys: [{ key: withKeyObjects(ssh2.utils.parseKey(this.o.hostKey) as ParsedKey) }],
      algorithms: {
        kex: [
          'curve25519-sha256',
          'curve25519-sha256@libssh.org',
          'ecdh-sha2-nistp256',
          'diffie-hellman-group14-sha256',
        ],
      },
      ident: 'OpenSSH_9.2p1 kaploy-virtual-node',
      // ssh2's packet trace, only when the logger is at trace level (it costs per packet).
      debug: this.logger.isLevelEnabled('trace') ? (m: string) => this.logger.trace({ ssh: m }) : undefined,
    });
    this.ssh.on('error', (e: Error) => this.logger.warn({ err: e }, 'ssh server error'));
    serveSessions(this.ssh, this.runtime(), (peer) => () => this.services?.drop(peer));
  }

  private get diskDir(): string {
    return join(this.o.dir, 'disk');
  }

  private get deployEnvDir(): string {
    return join(this.o.dir, 'deployenv');
  }

  /** Creates the sandbox and disk if absent, powers on, boots per the PXE profile. */
  async start(): Promise<void> {
    await mkdir(this.o.dir, { recursive: true, mode: 0o700 });
    if (!this.disk) {
      this.disk =
        (await DiskModel.load(this.diskDir, this.o.partitioning.blockDevice)) ??
        (await createDisk({
          nodeDir: this.o.dir,
          diskDir: this.diskDir,
          hostname: this.o.name,
          blockDevice: this.o.partitioning.blockDevice,
          partitioning: this.o.partitioning,
          productionImage: this.o.productionImage,
          engineKey: this.o.engineKey,
        }));
    }
    await this.powerOn();
  }

  /** Closes the node's servers and processes; the disk stays. */
  async stop(): Promise<void> {
    this.teardown(false);
    this.power = 'off';
    this.setState('off');
    await this.console.flush();
    await this.disk?.flush();
  }

  async powerOn(): Promise<void> {
    const disk = this.requireDisk();
    if (this.power === 'on') return;
    this.power = 'on';
    await disk.setPower('on');
    this.console.print(`[power] ${this.o.name}: power on`);
    this.beginBoot({ kind: 'power_on' });
  }

  async powerOff(): Promise<void> {
    const disk = this.requireDisk();
    if (this.power === 'off') return;
    this.goDark('power off');
    await disk.setPower('off');
  }

  /** Returns once the reset happened; the boot goes on asynchronously. */
  async reboot(level: RebootLevel): Promise<void> {
    const disk = this.requireDisk();
    if (level === 'soft' && this.power === 'off')
      throw new KaployError(
        'KAPLOY_EXECUTE',
        `${this.o.name} is powered off: a soft reboot cannot start it`,
        { node: this.o.name },
      );
    if (level === 'very_hard') {
      this.teardown(false);
      this.console.print('[power] power cycle');
      this.power = 'on';
      await disk.setPower('on');
      this.beginBoot({ kind: 'power_cycle' });
      return;
    }
    this.teardown(level === 'soft');
    this.console.print(level === 'soft' ? 'reboot: Restarting system' : '[power] reset');
    if (this.power === 'off') {
      this.power = 'on';
      await disk.setPower('on');
    }
    this.beginBoot({ kind: 'reset' });
  }

  status(): NodeStatus {
    const s: NodeStatus = {
      name: this.o.name,
      address: this.o.address,
      power: this.power,
      state: this.state,
      bootCount: this.bootCount,
      faults: this.faults.list(),
    };
    if (this.bootedPartition !== undefined) s.bootedPartition = this.bootedPartition;
    return s;
  }

  injectFault(f: Fault): void {
    this.faults.add(f);
    this.logger.info({ fault: f }, 'fault injected');
    this.emit('state', this.status());
  }

  clearFaults(): void {
    this.faults.clear();
    this.emit('state', this.status());
  }

  openConsole(): Duplex {
    return this.console.open();
  }

  override on(event: 'state', cb: (s: NodeStatus) => void): this {
    return super.on(event, cb);
  }

  // --- internals ---

  private requireDisk(): DiskModel {
    if (!this.disk)
      throw new KaployError('KAPLOY_INTERNAL', `virtual node ${this.o.name}: start() must be called first`, {
        node: this.o.name,
      });
    return this.disk;
  }

  private setState(state: NodeState, bootedPartition?: number): void {
    this.state = state;
    this.bootedPartition = bootedPartition;
    this.emit('state', this.status());
  }

  /** Ends the running system: boot timer, SSH and marker servers, processes, console login. */
  private teardown(graceful: boolean): void {
    this.generation++;
    if (this.bootTimer) clearTimeout(this.bootTimer);
    this.bootTimer = undefined;
    this.services?.close(graceful);
    this.services = undefined;
    for (const c of this.children) killSandboxed(c);
    this.children.clear();
    this.system = undefined;
    this.console.systemDown();
  }

  private goDark(why: string): void {
    this.teardown(false);
    this.power = 'off';
    this.console.print(`[power] ${why}`);
    this.setState('off');
  }

  /** The power_loss fault: dark at once; the disk records it in the background. */
  private losePower(): void {
    this.goDark('power lost');
    this.disk
      ?.setPower('off')
      .catch((e: unknown) => this.logger.warn({ err: e }, 'cannot record the power state'));
  }

  private beginBoot(cause: BootCause): void {
    const gen = ++this.generation;
    this.bootCount++;
    this.setState('booting');
    const trigger: FaultTrigger =
      cause.kind === 'power_on'
        ? { event: 'boot', cause: 'power_on' }
        : cause.kind === 'reset' || cause.kind === 'kexec'
          ? {
              event: 'boot',
              cause: 'reboot',
              ...(cause.command !== undefined ? { command: cause.command } : {}),
            }
          : { event: 'boot', cause: 'reboot' };
    if (this.faults.fire('power_loss', trigger)) {
      this.losePower();
      return;
    }
    if (this.faults.fire('no_reboot', trigger)) {
      this.logger.info('no_reboot fault: the node stays dark');
      return; // powered, never comes back: only a reset or power cycle helps
    }
    const h = this.o.hardware;
    // Every reset and power-on goes through the firmware (POST, PXE ROM); kexec jumps straight into
    // the next kernel, which is all it saves on real machines.
    const firmware = cause.kind === 'kexec' ? 0 : (h.firmwareDelayMs ?? 0);
    const slow = this.faults.fire('slow_boot', trigger);
    const hang = this.faults.fire('hang', trigger) !== undefined;
    const delay = firmware + h.bootDelayMs + (slow?.extraMs ?? 0);
    this.bootTimer = setTimeout(() => {
      this.bootTimer = undefined;
      this.completeBoot(gen, cause, hang).catch((e: unknown) => {
        if (gen !== this.generation) return;
        this.logger.error({ err: e }, 'boot failed');
        void this.bootFailed(gen, `kernel panic: ${errorMessage(e)}`);
      });
    }, delay);
  }

  private async completeBoot(gen: number, cause: BootCause, hang: boolean): Promise<void> {
    const disk = this.requireDisk();
    let outcome: BootOutcome;
    if (cause.kind === 'kexec') {
      outcome = cause.outcome;
      this.console.print('kexec_core: Starting new kernel');
    } else {
      const { target, source } = await readBootTarget(this.o.bootDir, this.o.pxeFileNaming, this.o);
      this.console.print(`PXELINUX: loading pxelinux.cfg/${source}`);
      const n =
        target?.kind === 'local'
          ? target.partition
          : target?.kind === 'localboot'
            ? disk.state.bootPartition
            : null;
      if (n !== null && n !== undefined) await this.importIfRaw(n);
      outcome = await resolveBoot(target, disk, this.o.deployKernel);
      if (outcome.kind === 'partition') outcome = await checkBootable(disk, outcome.partition);
    }
    if (gen !== this.generation) return;
    if (outcome.kind === 'failed') return this.bootFailed(gen, outcome.reason);

    const hostname = this.o.name;
    if (outcome.kind === 'deploy_env') await prepareDeployEnv(this.deployEnvDir, hostname, this.o.engineKey);
    if (gen !== this.generation) return;
    const root = outcome.kind === 'partition' ? outcome.partition : undefined;
    const system = new BootedSystem(disk, this.o.dir, this.deployEnvDir, hostname, root);
    let services: BootServices;
    try {
      services = await BootServices.start({
        address: this.o.address,
        sshPort: this.o.sshPort,
        markerPort: outcome.kind === 'deploy_env' ? this.o.markerPort : undefined,
        ssh: this.ssh,
        hang,
      });
    } catch (e) {
      return this.bootFailed(gen, `network: ${errorMessage(e)}`);
    }
    if (gen !== this.generation) return services.close(false);
    // From here on a reset tears these down: SSH may already answer while the console catches up.
    this.system = system;
    this.services = services;
    const state: NodeState =
      outcome.kind === 'deploy_env'
        ? 'deploy_env'
        : root === this.o.partitioning.prod
          ? 'production'
          : 'installed';
    this.console.print(
      outcome.kind === 'deploy_env'
        ? 'Booting the deployment environment'
        : `Booting ${outcome.kernel} from ${disk.deviceName(outcome.partition)}`,
    );
    this.console.print(`${hostname} ttyS0 (${state})`);
    await this.console.flush();
    if (gen !== this.generation) return;
    this.console.systemUp(hostname, () => {
      const sh = spawnSandboxed(system.sandboxSpec(['sh', '-i']));
      this.track(sh);
      sh.once('close', () => void this.sweepSetId());
      return sh;
    });
    this.setState(state, root);
  }

  /** A dd-written partition about to be booted: its raw file system becomes its contents. */
  private async importIfRaw(n: number): Promise<void> {
    const disk = this.requireDisk();
    if (!(await stat(disk.imgPath(n)).catch(() => undefined))?.size) return;
    await importRawImage(new BootedSystem(disk, this.o.dir, this.deployEnvDir, this.o.name), n).catch(
      (e: unknown) => this.console.print(errorMessage(e)),
    );
  }

  /** The console says why before the state changes, so console.log explains every boot_failed. */
  private async bootFailed(gen: number, reason: string): Promise<void> {
    if (gen !== this.generation) return;
    this.console.print(reason);
    await this.console.flush();
    if (gen === this.generation) this.setState('boot_failed');
  }

  /** Sweeps the node's directory for setuid/setgid files; a failure is logged and returned. */
  private async sweepSetId(): Promise<string | undefined> {
    const failure = await this.sweeper.sweep();
    if (failure) this.logger.error({ node: this.o.name }, failure);
    return failure;
  }

  private track(child: SandboxProcess): () => void {
    this.children.add(child);
    const untrack = () => this.children.delete(child);
    child.once('close', untrack);
    return untrack;
  }

  private afterCommand(after: AfterCommand, command: string): void {
    // After the exit status went out, as a real system shuts down after `reboot` answered.
    setImmediate(() => {
      if (this.power === 'off') return;
      this.teardown(true);
      if (after.kind === 'kexec') this.beginBoot({ kind: 'kexec', outcome: after.outcome, command });
      else {
        this.console.print('reboot: Restarting system');
        this.beginBoot({ kind: 'reset', command });
      }
    });
  }

  private runtime(): NodeRuntime {
    return {
      name: this.o.name,
      address: this.o.address,
      logger: this.logger,
      faults: this.faults,
      deployKernel: this.o.deployKernel,
      nicIn: this.nicIn,
      nicOut: this.nicOut,
      diskBucket: this.diskBucket,
      system: () => this.system,
      track: (c) => this.track(c),
      sweepSetId: () => this.sweepSetId(),
      afterCommand: (after, command) => this.afterCommand(after, command),
      powerLoss: () => this.losePower(),
    };
  }
}
