import { Injectable, OnModuleInit } from '@nestjs/common';
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { AppLogger } from '../common/app-logger';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.tokens';

export type AssetCaching = 'immutable' | 'revalidate';

export interface AdminAsset {
  absolutePath: string;
  caching: AssetCaching;
}

/** Angular's esbuild output names: `main-ABCD2345.js`, `chunk-…`, `styles-….css`, `media/…-HASH.png`. */
const HASHED_FILE = /-[A-Z0-9]{8}\.[a-z0-9]+$/;

/** The built admin console (`admin-ui/dist/admin-ui/browser`, or ADMIN_UI_DIR): where its files are. */
@Injectable()
export class AdminUiService implements OnModuleInit {
  private readonly root: string;

  constructor(
    @InjectConfig() config: AppConfig,
    private readonly logger: AppLogger,
  ) {
    this.root = config.adminUiDir;
  }

  onModuleInit(): void {
    if (this.isBuilt()) {
      this.logger.event('info', 'admin_ui.ready', { dir: this.root });
    } else {
      this.logger.event('warn', 'admin_ui.not_built', {
        dir: this.root,
        message:
          'The admin console is not built, so /admin/ answers 404; the API works. Run `npm run build` to build it.',
      });
    }
  }

  /** Checked on each request, so a console built after start-up is served without a restart. */
  isBuilt(): boolean {
    return existsSync(this.indexFile());
  }

  indexFile(): string {
    return path.join(this.root, 'index.html');
  }

  /** A file of the build for a path under `/admin/`, or undefined (then the SPA answers). */
  asset(relativePath: string): AdminAsset | undefined {
    let decoded: string;
    try {
      decoded = decodeURIComponent(relativePath);
    } catch {
      return undefined;
    }
    if (decoded === '' || decoded.includes('\0')) return undefined;
    const absolutePath = path.resolve(this.root, `.${path.posix.normalize(`/${decoded}`)}`);
    if (!absolutePath.startsWith(this.root + path.sep)) return undefined;
    if (path.basename(absolutePath) === 'index.html') return undefined;
    try {
      if (!statSync(absolutePath).isFile()) return undefined;
    } catch {
      return undefined;
    }
    return {
      absolutePath,
      caching: HASHED_FILE.test(path.basename(absolutePath)) ? 'immutable' : 'revalidate',
    };
  }
}
