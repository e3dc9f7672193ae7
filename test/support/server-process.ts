import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** The real server (`src/main.ts`) in a child process, as an operator starts it. */
export class ServerProcess {
  readonly output: string[] = [];
  private exited: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on('data', (chunk: Buffer) => this.output.push(chunk.toString('utf8')));
    }
  }

  static spawn(env: Record<string, string>, port: number): ServerProcess {
    const baseEnv = { ...process.env };
    delete baseEnv.DATABASE_URL;
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'src/main.ts'],
      {
        env: { ...baseEnv, PORT: String(port), HOST: '127.0.0.1', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    return new ServerProcess(child, `http://127.0.0.1:${port}`);
  }

  /** Resolves once the server answers HTTP; rejects if it exits first. */
  async ready(timeoutMs = 45_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exitCode: number | null | undefined;
    void this.exited.then((code) => (exitCode = code));
    while (Date.now() < deadline) {
      if (exitCode !== undefined)
        throw new Error(`server exited (${exitCode}): ${this.output.join('')}`);
      try {
        const response = await fetch(`${this.url}/api/docs-json`);
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`server not ready after ${timeoutMs} ms: ${this.output.join('')}`);
  }

  exit(): Promise<number | null> {
    return this.exited;
  }

  async kill(signal: NodeJS.Signals): Promise<number | null> {
    this.child.kill(signal);
    return this.exited;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
