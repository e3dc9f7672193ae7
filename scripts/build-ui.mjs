// Builds the admin console (admin-ui/ → admin-ui/dist/admin-ui/browser).
// With --if-stale it does nothing when the build is newer than every source file, so `npm test`
// and `npm start` only pay for a build after the console's sources changed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ui = path.join(root, 'admin-ui');
const index = path.join(ui, 'dist', 'admin-ui', 'browser', 'index.html');
const sources = [
  'src',
  'public',
  'angular.json',
  'package.json',
  'tsconfig.json',
  'tsconfig.app.json',
];

function newestMtime(target) {
  if (!existsSync(target)) return 0;
  const stats = statSync(target);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(target)) {
    if (entry.endsWith('.spec.ts')) continue;
    newest = Math.max(newest, newestMtime(path.join(target, entry)));
  }
  return newest;
}

if (process.argv.includes('--if-stale') && existsSync(index)) {
  const built = statSync(index).mtimeMs;
  const changed = Math.max(...sources.map((name) => newestMtime(path.join(ui, name))));
  if (changed <= built) {
    console.log('admin console: build is up to date');
    process.exit(0);
  }
}

const started = Date.now();
console.log('admin console: building…');
const result = spawnSync('npm', ['run', 'build', '--workspace', 'admin-ui'], {
  cwd: root,
  stdio: 'inherit',
  shell: process.platform === 'win32',
});
if (result.status !== 0) process.exit(result.status ?? 1);
console.log(`admin console: built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
