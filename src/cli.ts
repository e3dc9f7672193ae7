import 'dotenv/config';
import { setPasswordCommand } from './auth/set-password.command';
import { cleanupCommand } from './cleanup/cleanup.command';
import { ConfigError } from './config/app-config';

/** One operator command: `npm run cli -- <name> <args>`. */
export interface CliCommand {
  /** The arguments part of the usage line. */
  readonly args: string;
  readonly summary: string;
  /** Resolves to the process exit code. */
  run(args: string[], env: NodeJS.ProcessEnv): Promise<number>;
}

const COMMANDS: Record<string, CliCommand> = {
  'set-password': setPasswordCommand,
  cleanup: cleanupCommand,
};

export async function runCli(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [name, ...args] = argv;
  const command = name === undefined ? undefined : COMMANDS[name];
  if (!command) {
    const asked = name === undefined || name === 'help' || name === '--help';
    if (!asked) process.stderr.write(`Unknown command "${name}"\n\n`);
    process.stderr.write(usage());
    return asked ? 0 : 2;
  }
  try {
    return await command.run(args, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
}

function usage(): string {
  const lines = Object.entries(COMMANDS).map(
    ([name, command]) => `  ${`${name} ${command.args}`.padEnd(40)} ${command.summary}`,
  );
  return ['Usage: npm run cli -- <command> [arguments]', '', 'Commands:', ...lines, ''].join('\n');
}

if (require.main === module) {
  runCli(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
