import { ChangeDetectionStrategy, Component, input, output } from '@angular/core';

/** What a page shows while its data loads or when loading failed. */
@Component({
  selector: 'pc-async-state',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @if (error(); as message) {
      <div class="alert alert-error" role="alert">
        <span>{{ message }}</span>
        <button type="button" class="btn btn-small" (click)="retry.emit()">Повторить</button>
      </div>
    } @else if (loading()) {
      <div class="loading" role="status" aria-live="polite">
        <span class="spinner" aria-hidden="true"></span>
        <span>Загрузка…</span>
      </div>
    }
  `,
})
export class AsyncState {
  readonly loading = input(false);
  readonly error = input<string | null>(null);
  readonly retry = output<void>();
}
