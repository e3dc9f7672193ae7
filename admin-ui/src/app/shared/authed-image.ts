import {
  ChangeDetectionStrategy,
  Component,
  OnDestroy,
  effect,
  inject,
  input,
  signal,
} from '@angular/core';
import { ApiClient } from '../core/api/api-client';

/** An admin-only image (a template preview): fetched with the token and shown via an object URL. */
@Component({
  selector: 'pc-authed-image',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @if (objectUrl(); as url) {
      <img [src]="url" [alt]="alt()" />
    } @else if (failed()) {
      <span class="image-placeholder">Превью недоступно</span>
    } @else {
      <span class="image-placeholder" aria-busy="true">Загрузка…</span>
    }
  `,
})
export class AuthedImage implements OnDestroy {
  private readonly api = inject(ApiClient);
  readonly src = input.required<string>();
  readonly alt = input('');
  protected readonly objectUrl = signal<string | null>(null);
  protected readonly failed = signal(false);

  constructor() {
    effect((onCleanup) => {
      const src = this.src();
      let cancelled = false;
      this.failed.set(false);
      this.api.image(src).then(
        (blob) => {
          if (cancelled) return;
          this.release();
          this.objectUrl.set(URL.createObjectURL(blob));
        },
        () => {
          if (!cancelled) this.failed.set(true);
        },
      );
      onCleanup(() => (cancelled = true));
    });
  }

  ngOnDestroy(): void {
    this.release();
  }

  private release(): void {
    const url = this.objectUrl();
    if (url) URL.revokeObjectURL(url);
    this.objectUrl.set(null);
  }
}
