import { Injectable, computed, inject, signal } from '@angular/core';
import { Router } from '@angular/router';
import { ApiClient } from '../api/api-client';

const STORAGE_KEY = 'photochanger.token';

interface TokenClaims {
  sub?: string;
  exp?: number;
}

/** Reads a JWT's claims without checking it: the server does that on every call. */
export function decodeClaims(token: string): TokenClaims {
  try {
    const payload = token.split('.')[1] ?? '';
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    return JSON.parse(json) as TokenClaims;
  } catch {
    return {};
  }
}

/** The signed-in admin. The token lives in sessionStorage: closing the tab signs out. */
@Injectable({ providedIn: 'root' })
export class AuthService {
  private readonly api = inject(ApiClient);
  private readonly router = inject(Router);
  private readonly tokenState = signal<string | null>(readStored());

  readonly token = this.tokenState.asReadonly();
  readonly username = computed(() => {
    const token = this.tokenState();
    return token ? (decodeClaims(token).sub ?? '') : '';
  });
  readonly signedIn = computed(() => {
    const token = this.tokenState();
    if (!token) return false;
    const exp = decodeClaims(token).exp;
    return exp === undefined || exp * 1000 > Date.now();
  });

  async login(username: string, password: string): Promise<void> {
    const answer = await this.api.login(username, password);
    this.store(answer.access_token);
  }

  /** A password change revokes older tokens; the server answers a fresh one. */
  store(token: string): void {
    try {
      sessionStorage.setItem(STORAGE_KEY, token);
    } catch {
      // Private mode without storage: the token lives as long as the page.
    }
    this.tokenState.set(token);
  }

  /**
   * Back to sign-in. A dead session (`expired`) forgets the token at once; a click on «Выйти»
   * forgets it once the page let go (a page with unsaved edits asks first).
   */
  async logout(options: { returnUrl?: string; expired?: boolean } = {}): Promise<void> {
    if (options.expired) this.forget();
    const { returnUrl } = options;
    const left = await this.router.navigate(['/login'], {
      queryParams: returnUrl && !returnUrl.startsWith('/login') ? { returnUrl } : {},
    });
    if (left) this.forget();
  }

  private forget(): void {
    try {
      sessionStorage.removeItem(STORAGE_KEY);
    } catch {
      // nothing stored
    }
    this.tokenState.set(null);
  }
}

function readStored(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}
