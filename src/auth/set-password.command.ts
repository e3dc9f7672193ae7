import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { CliCommand } from '../cli';
import { loadConfig } from '../config/app-config';
import {
  AccountRuleError,
  ADMIN_USERNAMES,
  CredentialsReader,
  isAdminUsername,
  MIN_PASSWORD_LENGTH,
  setAdminPassword,
} from './credentials-file';

/** `set-password <username> [password]`: works on the accounts file alone, no database needed. */
export const setPasswordCommand: CliCommand = {
  args: '<username> [password]',
  summary: `Set an admin password (${ADMIN_USERNAMES.join(', ')}); read from stdin when omitted`,
  async run(args, env) {
    const [username, given, ...extra] = args;
    if (!username || extra.length > 0) {
      process.stderr.write(`Usage: npm run cli -- set-password ${this.args}\n`);
      return 2;
    }
    // Refuse a wrong name before asking for a password nobody can use.
    if (!isAdminUsername(username)) {
      process.stderr.write(
        `Unknown admin "${username}": the accounts are ${ADMIN_USERNAMES.join(' and ')}\n`,
      );
      return 1;
    }
    const file = loadConfig(env).adminCredentialsFile;
    const password = given ?? (await readPassword(username));
    if (password === undefined) return 1;
    try {
      await setAdminPassword(file, username, password);
    } catch (error) {
      if (!(error instanceof AccountRuleError)) throw error;
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    process.stdout.write(
      `Password for ${username} saved in ${file}. Tokens issued before no longer work.\n`,
    );
    const accounts = await new CredentialsReader(file).accounts();
    for (const name of ADMIN_USERNAMES.filter((admin) => !accounts?.has(admin))) {
      process.stdout.write(`${name} has no password yet and cannot sign in until one is set.\n`);
    }
    return 0;
  },
};

/** A terminal gets a hidden prompt, asked twice; a pipe gives its first line. */
async function readPassword(username: string): Promise<string | undefined> {
  if (!process.stdin.isTTY) {
    const password = (await readAll(process.stdin)).split(/\r?\n/)[0] ?? '';
    if (password === '') process.stderr.write('No password on stdin\n');
    return password === '' ? undefined : password;
  }
  const first = await promptHidden(
    `New password for ${username} (${MIN_PASSWORD_LENGTH}+ characters): `,
  );
  const second = await promptHidden('Repeat it: ');
  if (first !== second) {
    process.stderr.write('The two passwords differ; nothing was changed\n');
    return undefined;
  }
  return first;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function promptHidden(question: string): Promise<string> {
  process.stderr.write(question);
  // readline echoes what is typed to its output; a sink that drops it keeps the password off screen.
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: process.stdin, output: silent, terminal: true });
  return new Promise((resolve, reject) => {
    rl.on('SIGINT', () => {
      rl.close();
      process.stderr.write('\n');
      reject(new Error('Cancelled'));
    });
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}
