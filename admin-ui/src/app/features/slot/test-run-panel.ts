import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  WritableSignal,
  inject,
  input,
  signal,
} from '@angular/core';
import { Subscription } from 'rxjs';
import { ApiClient } from '../../core/api/api-client';
import { ApiError } from '../../core/api/api-error';
import { DropZone } from '../../shared/drop-zone';

type TestState = 'idle' | 'uploading' | 'processing' | 'done' | 'error';

/** «Тест»: runs a photo through the saved slot as the booth would and shows the answer. */
@Component({
  selector: 'pc-test-run-panel',
  imports: [DropZone],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @if (unsaved()) {
      <p class="alert alert-info">
        Тест использует сохранённые настройки слота. Сохраните изменения, чтобы проверить их.
      </p>
    }
    <div class="test-grid">
      <div>
        <pc-drop-zone
          label="Фото для теста"
          testId="test-photo-input"
          [disabled]="busy()"
          (file)="choose($event)"
        />
        @if (photoUrl(); as url) {
          <figure class="test-figure">
            <img [src]="url" alt="Фото для теста" />
            <figcaption>{{ photoName() }}</figcaption>
          </figure>
        }
      </div>
      <div class="test-answer" aria-live="polite">
        @switch (state()) {
          @case ('uploading') {
            <label for="test-progress">Загрузка фото: {{ percent() }} %</label>
            <progress id="test-progress" max="100" [value]="percent()">{{ percent() }} %</progress>
          }
          @case ('processing') {
            <div class="loading">
              <span class="spinner" aria-hidden="true"></span> Обработка у провайдера…
            </div>
            <progress max="100" value="100" aria-label="Фото загружено"></progress>
          }
          @case ('done') {
            <figure class="test-figure">
              <img [src]="resultUrl()" alt="Результат теста" data-testid="test-result" />
              <figcaption>
                Готово за {{ seconds() }} с.
                @if (publicUrl(); as link) {
                  <a [href]="link" target="_blank" rel="noopener">Ссылка на результат</a>
                }
              </figcaption>
            </figure>
          }
          @case ('error') {
            <div class="alert alert-error" role="alert">{{ error() }}</div>
          }
          @default {
            <p class="hint">Результат появится здесь.</p>
          }
        }
      </div>
    </div>
    <div class="actions">
      <button type="button" class="btn btn-primary" [disabled]="!photo() || busy()" (click)="run()">
        {{ busy() ? 'Идёт тест…' : 'Тест' }}
      </button>
    </div>
  `,
})
export class TestRunPanel {
  private readonly api = inject(ApiClient);
  readonly slotId = input.required<string>();
  readonly unsaved = input(false);

  protected readonly photo = signal<File | null>(null);
  protected readonly photoUrl = signal<string | null>(null);
  protected readonly photoName = signal('');
  protected readonly state = signal<TestState>('idle');
  protected readonly percent = signal(0);
  protected readonly resultUrl = signal<string | null>(null);
  protected readonly publicUrl = signal<string | null>(null);
  protected readonly error = signal('');
  protected readonly seconds = signal('');
  private subscription: Subscription | null = null;

  constructor() {
    inject(DestroyRef).onDestroy(() => {
      this.subscription?.unsubscribe();
      this.replace(this.photoUrl, null);
      this.replace(this.resultUrl, null);
    });
  }

  protected busy(): boolean {
    return this.state() === 'uploading' || this.state() === 'processing';
  }

  protected choose(file: File): void {
    this.photo.set(file);
    this.photoName.set(file.name);
    this.replace(this.photoUrl, URL.createObjectURL(file));
  }

  protected run(): void {
    const file = this.photo();
    if (!file) return;
    const started = performance.now();
    this.state.set('uploading');
    this.percent.set(0);
    this.subscription?.unsubscribe();
    this.subscription = this.api.testRun(this.slotId(), file).subscribe({
      next: (event) => {
        if (event.kind === 'progress') {
          this.percent.set(Math.round(event.fraction * 100));
          if (event.fraction >= 1) this.state.set('processing');
          return;
        }
        this.replace(this.resultUrl, URL.createObjectURL(event.value.image));
        this.publicUrl.set(event.value.resultUrl);
        this.seconds.set(
          ((performance.now() - started) / 1000).toLocaleString('ru-RU', {
            maximumFractionDigits: 1,
          }),
        );
        this.state.set('done');
      },
      error: (error: unknown) => {
        this.error.set(error instanceof ApiError ? error.message : 'Тест не удался.');
        this.state.set('error');
      },
    });
  }

  private replace(target: WritableSignal<string | null>, url: string | null): void {
    const old = target();
    if (old) URL.revokeObjectURL(old);
    target.set(url);
  }
}
