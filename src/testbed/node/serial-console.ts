import { appendFile } from 'node:fs/promises';
import { Duplex } from 'node:stream';
import { killSandboxed, type SandboxProcess } from './sandbox-process.js';

const RECENT_LINES = 200;

/**
 * The node's serial console: boot messages (also appended to console.log), then a `login:`
 * prompt whenever a system is up, even if its SSH is not answering. Logging in as root starts
 * a shell in the booted system's sandbox. Any number of viewers may be attached at once.
 */
export class SerialConsole {
  private readonly recent: string[] = [];
  private readonly sessions = new Set<ConsoleSession>();
  private login: { hostname: string; spawnShell: () => SandboxProcess } | undefined;
  private writes: Promise<void> = Promise.resolve();
  /** Lines printed while an append is queued: they leave with it, one append for a burst. */
  private pending = '';

  constructor(private readonly file: string) {}

  print(line: string): void {
    this.recent.push(line);
    if (this.recent.length > RECENT_LINES) this.recent.shift();
    const queued = this.pending !== '';
    this.pending += `${line}\n`;
    if (!queued)
      this.writes = this.writes.then(() => {
        const text = this.pending;
        this.pending = '';
        return appendFile(this.file, text).catch(() => undefined);
      });
    for (const s of this.sessions) s.output(`${line}\r\n`);
  }

  /** A system is up: every viewer gets a login prompt. */
  systemUp(hostname: string, spawnShell: () => SandboxProcess): void {
    this.login = { hostname, spawnShell };
    for (const s of this.sessions) s.prompt();
  }

  /** Reset or power off: logged-in shells die with the system. */
  systemDown(): void {
    this.login = undefined;
    for (const s of this.sessions) s.logout();
  }

  /** Resolves once pending console.log appends are written. */
  flush(): Promise<void> {
    return this.writes;
  }

  open(): Duplex {
    const s = new ConsoleSession(
      () => this.login,
      () => this.sessions.delete(s),
    );
    this.sessions.add(s);
    for (const line of this.recent) s.output(`${line}\r\n`);
    if (this.login) s.prompt();
    return s.stream;
  }
}

class ConsoleSession {
  readonly stream: Duplex;
  private line = '';
  private shell: SandboxProcess | undefined;

  constructor(
    private readonly login: () => { hostname: string; spawnShell: () => SandboxProcess } | undefined,
    onClose: () => void,
  ) {
    this.stream = new Duplex({
      // The viewer reads again: let a paused shell write on.
      read: () => {
        this.shell?.stdout.resume();
        this.shell?.stderr.resume();
      },
      write: (chunk: Buffer, _enc, cb) => {
        this.input(chunk.toString('utf8'));
        cb();
      },
      final: (cb) => {
        this.logout();
        this.stream.push(null);
        cb();
      },
      destroy: (err, cb) => {
        this.logout();
        onClose();
        cb(err);
      },
    });
  }

  output(text: string): void {
    if (!this.stream.destroyed) this.stream.push(text);
  }

  prompt(): void {
    const l = this.login();
    if (l && !this.shell) this.output(`\r\n${l.hostname} login: `);
  }

  logout(): void {
    if (this.shell) killSandboxed(this.shell);
    this.shell = undefined;
    this.line = '';
  }

  private input(text: string): void {
    if (this.shell) {
      this.shell.stdin.write(text.replace(/\r\n?/g, '\n'));
      return;
    }
    const l = this.login();
    if (!l) return; // nothing listens on the serial line while the machine boots or is off
    for (let i = 0; i < text.length; i++) {
      const ch = text[i] as string;
      if (ch !== '\r' && ch !== '\n') {
        this.line += ch;
        this.output(ch); // a terminal echoes what is typed at the login prompt
        continue;
      }
      const name = this.line.trim();
      this.line = '';
      this.output('\r\n');
      if (name === 'root') {
        this.startShell(l.spawnShell, text.slice(i + 1));
        return;
      }
      if (name !== '') this.output('Login incorrect\r\n');
      this.prompt();
    }
  }

  private startShell(spawnShell: () => SandboxProcess, rest: string): void {
    const sh = spawnShell();
    this.shell = sh;
    sh.stdin.on('error', () => {});
    // A slow viewer pauses the shell instead of letting its output pile up in memory.
    const relay = (from: typeof sh.stdout) => (d: Buffer) => {
      if (!this.stream.destroyed && !this.stream.push(d.toString('utf8'))) from.pause();
    };
    sh.stdout.on('data', relay(sh.stdout));
    sh.stderr.on('data', relay(sh.stderr));
    sh.on('close', () => {
      if (this.shell !== sh) return;
      this.shell = undefined;
      this.prompt();
    });
    sh.on('error', () => {});
    const pending = rest.replace(/^\n/, '');
    if (pending) sh.stdin.write(pending.replace(/\r\n?/g, '\n'));
  }
}
