import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { ApiClient } from '../../core/api/api-client';
import { ApiError } from '../../core/api/api-error';
import { AuthService } from '../../core/auth/auth.service';
import { ToastService } from '../../core/ui/toast.service';

const MIN_LENGTH = 8;

/** Change your own password; the server answers a fresh token (older ones stop working). */
@Component({
  selector: 'pc-account-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <header class="page-head">
      <div>
        <p class="eyebrow">Аккаунт {{ auth.username() }}</p>
        <h1>Смена пароля</h1>
      </div>
    </header>
    <form class="card card-form narrow" (submit)="$event.preventDefault(); submit()" novalidate>
      <div class="field">
        <label for="current-password">Текущий пароль</label>
        <input
          id="current-password"
          type="password"
          autocomplete="current-password"
          [value]="current()"
          [attr.aria-invalid]="!!errors()['current']"
          (input)="current.set($any($event.target).value)"
        />
        @if (errors()['current']; as message) {
          <span class="field-error" role="alert">{{ message }}</span>
        }
      </div>
      <div class="field">
        <label for="new-password">Новый пароль</label>
        <input
          id="new-password"
          type="password"
          autocomplete="new-password"
          [value]="next()"
          [attr.aria-invalid]="!!errors()['next']"
          aria-describedby="new-password-hint"
          (input)="next.set($any($event.target).value)"
        />
        @if (errors()['next']; as message) {
          <span class="field-error" role="alert">{{ message }}</span>
        } @else {
          <span class="hint" id="new-password-hint"
            >Не короче {{ minLength }} символов. Другие сеансы этого аккаунта завершатся.</span
          >
        }
      </div>
      <div class="field">
        <label for="repeat-password">Повторите новый пароль</label>
        <input
          id="repeat-password"
          type="password"
          autocomplete="new-password"
          [value]="repeat()"
          [attr.aria-invalid]="!!errors()['repeat']"
          (input)="repeat.set($any($event.target).value)"
        />
        @if (errors()['repeat']; as message) {
          <span class="field-error" role="alert">{{ message }}</span>
        }
      </div>
      @if (error(); as message) {
        <div class="alert alert-error" role="alert">{{ message }}</div>
      }
      <div class="actions">
        <button type="submit" class="btn btn-primary" [disabled]="busy()">
          {{ busy() ? 'Сохранение…' : 'Сменить пароль' }}
        </button>
      </div>
    </form>
  `,
})
export class AccountPage {
  private readonly api = inject(ApiClient);
  private readonly toasts = inject(ToastService);
  protected readonly auth = inject(AuthService);
  protected readonly minLength = MIN_LENGTH;
  protected readonly current = signal('');
  protected readonly next = signal('');
  protected readonly repeat = signal('');
  protected readonly errors = signal<Record<string, string>>({});
  protected readonly error = signal<string | null>(null);
  protected readonly busy = signal(false);

  protected async submit(): Promise<void> {
    const errors: Record<string, string> = {};
    if (!this.current()) errors['current'] = 'Введите текущий пароль.';
    if (this.next().length < MIN_LENGTH) errors['next'] = `Не короче ${MIN_LENGTH} символов.`;
    else if (this.next() === this.current()) errors['next'] = 'Новый пароль совпадает с текущим.';
    if (this.repeat() !== this.next()) errors['repeat'] = 'Пароли не совпадают.';
    this.errors.set(errors);
    if (Object.keys(errors).length > 0) return;
    this.busy.set(true);
    this.error.set(null);
    try {
      const token = await this.api.changePassword(this.current(), this.next());
      this.auth.store(token.access_token);
      this.current.set('');
      this.next.set('');
      this.repeat.set('');
      this.toasts.show('Пароль изменён');
    } catch (error) {
      if (error instanceof ApiError && error.code === 'invalid_credentials') {
        this.errors.set({ current: 'Неверный текущий пароль.' });
      } else if (error instanceof ApiError && error.fields['new_password']) {
        this.errors.set({ next: error.fields['new_password'] });
      } else {
        this.error.set(error instanceof ApiError ? error.message : 'Не удалось сменить пароль.');
      }
    } finally {
      this.busy.set(false);
    }
  }
}
