import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { AuthService } from '../auth/auth.service';

/** The signed-in frame: header with the sections, then the page. */
@Component({
  selector: 'pc-shell',
  imports: [RouterOutlet, RouterLink, RouterLinkActive],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <a class="skip-link" href="#main" (click)="skip($event)">Перейти к содержимому</a>
    <header class="app-header">
      <a class="brand" routerLink="/slots" aria-label="PhotoChanger — слоты">
        <svg viewBox="0 0 32 32" aria-hidden="true" width="30" height="30">
          <rect width="32" height="32" rx="9" fill="#e3f4ee" />
          <rect
            x="7"
            y="10"
            width="18"
            height="13"
            rx="4"
            fill="none"
            stroke="currentColor"
            stroke-width="2.4"
          />
          <path
            d="M12 18c2 2 6 2 8 0"
            fill="none"
            stroke="currentColor"
            stroke-width="2.4"
            stroke-linecap="round"
          />
        </svg>
        <span>PHOTOCHANGER</span>
      </a>
      <nav aria-label="Разделы">
        <a routerLink="/slots" routerLinkActive="active" class="nav-link">
          <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 5h16M4 12h16M4 19h16" /></svg>
          <span>Слоты</span>
        </a>
        <a routerLink="/stats" routerLinkActive="active" class="nav-link">
          <svg viewBox="0 0 24 24" aria-hidden="true">
            <path d="M5 20V10M10 20V4M15 20v-7M20 20V8" />
          </svg>
          <span>Статистика</span>
        </a>
        <a routerLink="/settings" routerLinkActive="active" class="nav-link">
          <svg viewBox="0 0 24 24" aria-hidden="true">
            <circle cx="12" cy="12" r="3.2" />
            <path
              d="M12 2.5v3M12 18.5v3M2.5 12h3M18.5 12h3M5.3 5.3l2.1 2.1M16.6 16.6l2.1 2.1M5.3 18.7l2.1-2.1M16.6 7.4l2.1-2.1"
            />
          </svg>
          <span>Настройки</span>
        </a>
        <a routerLink="/history" routerLinkActive="active" class="nav-link">
          <svg viewBox="0 0 24 24" aria-hidden="true">
            <circle cx="12" cy="12" r="8.5" />
            <path d="M12 7v5l3 2" />
          </svg>
          <span>История</span>
        </a>
        <a
          routerLink="/account"
          routerLinkActive="active"
          class="nav-link"
          [attr.title]="'Пароль: ' + auth.username()"
        >
          <svg viewBox="0 0 24 24" aria-hidden="true">
            <rect x="5" y="10.5" width="14" height="10" rx="2.5" />
            <path d="M8.5 10.5V8a3.5 3.5 0 0 1 7 0v2.5" />
          </svg>
          <span>{{ auth.username() || 'Аккаунт' }}</span>
        </a>
        <button type="button" class="nav-link" (click)="logout()">
          <svg viewBox="0 0 24 24" aria-hidden="true">
            <path d="M14 4h4a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2h-4M10 16l4-4-4-4M14 12H3" />
          </svg>
          <span>Выйти</span>
        </button>
      </nav>
    </header>
    <main id="main" tabindex="-1" class="page">
      <router-outlet />
    </main>
  `,
})
export class Shell {
  protected readonly auth = inject(AuthService);

  protected logout(): void {
    void this.auth.logout();
  }

  protected skip(event: Event): void {
    event.preventDefault();
    document.getElementById('main')?.focus();
  }
}
