import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

export default async function globalTeardown() {
  const dataDir = process.env.PHOTOCHANGER_TEST_PG_DIR;
  if (!dataDir) return;
  const pidFile = path.join(dataDir, 'postgres', 'postmaster.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    try {
      process.kill(pid, 'SIGINT'); // fast shutdown
      for (let i = 0; i < 100; i++) {
        process.kill(pid, 0);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } catch {
      // gone
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
}
