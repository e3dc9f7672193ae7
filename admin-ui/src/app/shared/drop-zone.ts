import {
  ChangeDetectionStrategy,
  Component,
  ElementRef,
  input,
  output,
  signal,
  viewChild,
} from '@angular/core';

export const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp'];

/** A file picker that also takes a dropped file; Enter or Space opens the picker. */
@Component({
  selector: 'pc-drop-zone',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div
      class="drop-zone"
      [class.dragging]="dragging()"
      [class.disabled]="disabled()"
      role="button"
      tabindex="0"
      [attr.aria-label]="label() + ': выбрать файл'"
      [attr.aria-disabled]="disabled()"
      (click)="open()"
      (keydown.enter)="$event.preventDefault(); open()"
      (keydown.space)="$event.preventDefault(); open()"
      (dragover)="onDragOver($event)"
      (dragleave)="dragging.set(false)"
      (drop)="onDrop($event)"
    >
      <svg viewBox="0 0 24 24" aria-hidden="true" width="28" height="28">
        <path d="M12 16V4M7 9l5-5 5 5M4 16v3a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-3" />
      </svg>
      <strong>{{ label() }}</strong>
      <span class="hint">Нажмите или перетащите JPEG, PNG или WEBP</span>
      @if (error(); as message) {
        <span class="field-error" role="alert">{{ message }}</span>
      }
    </div>
    <input
      #picker
      type="file"
      hidden
      accept="image/jpeg,image/png,image/webp"
      [attr.data-testid]="testId()"
      (change)="onPicked($event)"
    />
  `,
})
export class DropZone {
  readonly label = input.required<string>();
  readonly disabled = input(false);
  readonly testId = input<string | null>(null);
  readonly file = output<File>();
  protected readonly dragging = signal(false);
  protected readonly error = signal<string | null>(null);
  private readonly picker = viewChild.required<ElementRef<HTMLInputElement>>('picker');

  protected open(): void {
    if (!this.disabled()) this.picker().nativeElement.click();
  }

  protected onDragOver(event: DragEvent): void {
    event.preventDefault();
    if (!this.disabled()) this.dragging.set(true);
  }

  protected onDrop(event: DragEvent): void {
    event.preventDefault();
    this.dragging.set(false);
    const file = event.dataTransfer?.files?.[0];
    if (file && !this.disabled()) this.accept(file);
  }

  protected onPicked(event: Event): void {
    const element = event.target as HTMLInputElement;
    const file = element.files?.[0];
    element.value = '';
    if (file) this.accept(file);
  }

  private accept(file: File): void {
    if (!IMAGE_TYPES.includes(file.type)) {
      this.error.set('Нужен файл JPEG, PNG или WEBP.');
      return;
    }
    this.error.set(null);
    this.file.emit(file);
  }
}
