import { ChangeDetectionStrategy, Component, inject, input, signal } from '@angular/core';
import { Router } from '@angular/router';
import { ApiError } from '../../core/api/api-error';
import { AuthService } from '../../core/auth/auth.service';

/** «Привет!»: sign in as serg or igor. */
@Component({
  selector: 'pc-login-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div class="login-backdrop">
      <main class="login-card">
        <h1>Привет!</h1>
        <form (submit)="$event.preventDefault(); submit()" novalidate>
          <div class="field">
            <label for="username">Имя пользователя</label>
            <input
              id="username"
              name="username"
              type="text"
              autocomplete="username"
              placeholder="Имя пользователя"
              autofocus
              [value]="username()"
              [attr.aria-invalid]="!!usernameError()"
              (input)="username.set($any($event.target).value)"
            />
            @if (usernameError(); as message) {
              <span class="field-error">{{ message }}</span>
            }
          </div>
          <div class="field">
            <label for="password">Пароль</label>
            <div class="password-field">
              <input
                id="password"
                name="password"
                [type]="showPassword() ? 'text' : 'password'"
                autocomplete="current-password"
                placeholder="Пароль"
                [value]="password()"
                [attr.aria-invalid]="!!passwordError()"
                (input)="password.set($any($event.target).value)"
              />
              <button
                type="button"
                class="icon-button"
                [attr.aria-label]="showPassword() ? 'Скрыть пароль' : 'Показать пароль'"
                [attr.aria-pressed]="showPassword()"
                (click)="showPassword.set(!showPassword())"
              >
                <svg viewBox="0 0 24 24" aria-hidden="true" width="20" height="20">
                  <path d="M2 12s3.6-7 10-7 10 7 10 7-3.6 7-10 7S2 12 2 12z" />
                  <circle cx="12" cy="12" r="3" />
                </svg>
              </button>
            </div>
            @if (passwordError(); as message) {
              <span class="field-error">{{ message }}</span>
            }
          </div>
          @if (error(); as message) {
            <div class="alert alert-error" role="alert">{{ message }}</div>
          }
          <button type="submit" class="btn btn-primary btn-block" [disabled]="busy()">
            {{ busy() ? 'Вход…' : 'Войти' }}
          </button>
        </form>
        <p class="hint center">Консоль администратора PhotoChanger</p>
      </main>
    </div>
  `,
})
export class LoginPage {
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  readonly returnUrl = input<string>();

  protected readonly username = signal('');
  protected readonly password = signal('');
  protected readonly showPassword = signal(false);
  protected readonly usernameError = signal<string | null>(null);
  protected readonly passwordError = signal<string | null>(null);
  protected readonly error = signal<string | null>(null);
  protected readonly busy = signal(false);

  protected async submit(): Promise<void> {
    const username = this.username().trim();
    const password = this.password();
    this.usernameError.set(username ? null : 'Введите имя пользователя.');
    this.passwordError.set(password ? null : 'Введите пароль.');
    if (!username || !password) return;
    this.busy.set(true);
    this.error.set(null);
    try {
      await this.auth.login(username, password);
      const target = this.returnUrl();
      await this.router.navigateByUrl(
        target && target.startsWith('/') && !target.startsWith('//') ? target : '/slots',
      );
    } catch (error) {
      this.error.set(error instanceof ApiError ? error.message : 'Не удалось войти.');
    } finally {
      this.busy.set(false);
    }
  }
}
