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

  /** A call on the server's HTTP API, JSON in and out; `token` for admin routes. */
  async api<T = any>(
    method: string,
    route: string,
    options: { token?: string; json?: unknown } = {},
  ): Promise<{ status: number; headers: Headers; body: T }> {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.json !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.url}${route}`, {
      method,
      headers,
      body: options.json === undefined ? undefined : JSON.stringify(options.json),
    });
    const text = await response.text();
    const isJson = (response.headers.get('content-type') ?? '').includes('json') && text !== '';
    return {
      status: response.status,
      headers: response.headers,
      body: (isJson ? JSON.parse(text) : text) as T,
    };
  }

  /** Signs in and returns the access token; throws unless the login worked. */
  async login(username: string, password: string): Promise<string> {
    const answer = await this.api<{ access_token: string }>('POST', '/api/login', {
      json: { username, password },
    });
    if (answer.status !== 200) {
      throw new Error(`login failed: ${answer.status} ${JSON.stringify(answer.body)}`);
    }
    return answer.body.access_token;
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
