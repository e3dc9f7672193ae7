import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppLogger } from '../common/app-logger';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.tokens';
import {
  AdminAccount,
  createCredentialsFileIfMissing,
  CredentialsReader,
  passwordsBanner,
  writeAdminPasswords,
} from './credentials-file';

/** The admin accounts file (ADMIN_CREDENTIALS_FILE), as the running server sees it. */
@Injectable()
export class AdminAccounts implements OnModuleInit {
  private readonly reader: CredentialsReader;

  constructor(
    @InjectConfig() config: AppConfig,
    private readonly logger: AppLogger,
  ) {
    this.reader = new CredentialsReader(config.adminCredentialsFile);
  }

  /** Creates the file on first start; a file that cannot be read stops start-up here, not at the first login. */
  async onModuleInit(): Promise<void> {
    const created = await createCredentialsFileIfMissing(this.reader.file);
    if (created) {
      // Straight to stderr: the JSON log may be shipped elsewhere, and these must not be.
      process.stderr.write(passwordsBanner(this.reader.file, created));
      this.logger.event('warn', 'auth.accounts.created', {
        file: this.reader.file,
        usernames: Object.keys(created),
      });
    }
    await this.reader.accounts();
  }

  find(username: string): Promise<AdminAccount | undefined> {
    return this.reader.find(username);
  }

  async setPassword(username: string, password: string, now: Date): Promise<AdminAccount> {
    await writeAdminPasswords(this.reader.file, { [username]: password }, now);
    const account = await this.reader.find(username);
    if (!account) throw new Error(`${username} vanished from ${this.reader.file}`);
    return account;
  }
}
