// `npm start`: runs the built server, with jemalloc as its memory allocator when the system has
// it (Debian/Ubuntu: `apt-get install libjemalloc2`). libvips decodes photos on several threads;
// glibc keeps a memory arena per thread and hands little of it back, so under a burst of photos
// the server's RSS grows by hundreds of MB that jemalloc returns (figures in docs/performance.md).
// PHOTOCHANGER_ALLOCATOR=system keeps glibc's allocator.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { arch, constants } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const main = path.join(root, 'dist', 'src', 'main.js');

/** Where Debian-style systems install jemalloc for this CPU, if it is there. */
export function jemallocPath() {
  const triplet = { x64: 'x86_64', arm64: 'aarch64' }[arch()];
  if (process.platform !== 'linux' || !triplet) return undefined;
  const candidate = `/usr/lib/${triplet}-linux-gnu/libjemalloc.so.2`;
  return existsSync(candidate) ? candidate : undefined;
}

/** The environment to start the server with: jemalloc preloaded when available and wanted. */
export function serverEnv(env = process.env) {
  const library = env.PHOTOCHANGER_ALLOCATOR === 'system' ? undefined : jemallocPath();
  if (!library || (env.LD_PRELOAD ?? '').includes('jemalloc')) return env;
  return { ...env, LD_PRELOAD: [library, env.LD_PRELOAD].filter(Boolean).join(' ') };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const env = serverEnv();
  if (env === process.env) {
    // Nothing to preload (or already preloaded): run in this process, no extra layer.
    await import(pathToFileURL(main).href);
  } else {
    // A preload only takes effect when a process starts, so the server runs as a child that
    // receives our signals (SIGTERM drains in-flight ingests) and whose exit code we return.
    const child = spawn(process.execPath, [...process.execArgv, main, ...process.argv.slice(2)], {
      env,
      stdio: 'inherit',
    });
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
      process.on(signal, () => child.kill(signal));
    }
    child.on('exit', (code, signal) => {
      process.exitCode = code ?? 128 + (constants.signals[signal] ?? 0);
    });
  }
}
