import { Injectable, OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { AppLogger } from '../common/app-logger';
import { contentSecurityPolicy } from '../common/security-headers';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.tokens';

export type AssetCaching = 'immutable' | 'revalidate';

export interface AdminAsset {
  absolutePath: string;
  caching: AssetCaching;
}

export interface AdminPage {
  html: string;
  /** The page's Content-Security-Policy, allowing the styles Angular adds with this page's nonce. */
  policy: string;
}

/** Angular's esbuild output names: `main-ABCD2345.js`, `chunk-…`, `styles-….css`, `media/…-HASH.png`. */
const HASHED_FILE = /-[A-Z0-9]{8}\.[a-z0-9]+$/;

/**
 * Angular adds each component's styles as `<style>` elements at run time, stamped with the nonce
 * it reads from an `ngCspNonce` attribute inside `<body>`. The root element gets a fresh one per
 * page, so the policy allows exactly those styles rather than every inline style.
 */
const ROOT_ELEMENT = '<pc-root';

/** The built admin console (`admin-ui/dist/admin-ui/browser`, or ADMIN_UI_DIR): where its files are. */
@Injectable()
export class AdminUiService implements OnModuleInit {
  private readonly root: string;
  private readonly publicOrigin: string;
  private index: { mtimeMs: number; html: string } | undefined;

  constructor(
    @InjectConfig() config: AppConfig,
    private readonly logger: AppLogger,
  ) {
    this.root = config.adminUiDir;
    this.publicOrigin = new URL(config.publicBaseUrl).origin;
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

  /** `index.html` with a fresh style nonce, and the policy that allows it. Throws when unreadable. */
  page(): AdminPage {
    const file = this.indexFile();
    const { mtimeMs } = statSync(file);
    if (this.index?.mtimeMs !== mtimeMs) this.index = { mtimeMs, html: readFileSync(file, 'utf8') };
    const nonce = randomBytes(16).toString('base64');
    return {
      html: this.index.html.replace(ROOT_ELEMENT, `${ROOT_ELEMENT} ngCspNonce="${nonce}"`),
      policy: contentSecurityPolicy({ img: [this.publicOrigin], style: [`'nonce-${nonce}'`] }),
    };
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
