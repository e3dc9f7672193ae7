import type { CliCommand } from '../cli';
import { runCleanup } from './run-cleanup';

/** `cleanup`: the 15-minute sweep, once, for cron (`npm run cleanup`). */
export const cleanupCommand: CliCommand = {
  args: '',
  summary: 'Delete expired results and temporary media now (for cron)',
  async run(args, env) {
    if (args.length > 0) {
      process.stderr.write('Usage: npm run cleanup\n');
      return 2;
    }
    return runCleanup(env);
  },
};
