import {
  ChangeDetectionStrategy,
  Component,
  ElementRef,
  effect,
  inject,
  viewChild,
} from '@angular/core';
import { ConfirmService } from '../core/ui/confirm.service';

/** The modal behind ConfirmService: a native <dialog>, so focus stays inside and Esc cancels. */
@Component({
  selector: 'pc-confirm-dialog',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <dialog
      #dialog
      class="modal"
      aria-labelledby="confirm-title"
      aria-describedby="confirm-message"
      (cancel)="$event.preventDefault(); confirm.answer(false)"
    >
      @if (confirm.pending(); as request) {
        <h2 id="confirm-title">{{ request.title }}</h2>
        <p id="confirm-message">{{ request.message }}</p>
        <div class="modal-actions">
          <button type="button" class="btn btn-ghost" (click)="confirm.answer(false)">
            {{ request.cancelLabel ?? 'Отмена' }}
          </button>
          <button
            type="button"
            class="btn"
            [class.btn-danger]="request.danger"
            [class.btn-primary]="!request.danger"
            data-testid="confirm-yes"
            (click)="confirm.answer(true)"
          >
            {{ request.confirmLabel }}
          </button>
        </div>
      }
    </dialog>
  `,
})
export class ConfirmDialog {
  protected readonly confirm = inject(ConfirmService);
  private readonly dialog = viewChild.required<ElementRef<HTMLDialogElement>>('dialog');

  constructor() {
    effect(() => {
      const element = this.dialog().nativeElement;
      const open = this.confirm.pending() !== null;
      if (open && !element.open) {
        element.showModal?.();
        // The safe choice has focus first.
        queueMicrotask(() => element.querySelector<HTMLButtonElement>('.btn-ghost')?.focus());
      } else if (!open && element.open) {
        element.close?.();
      }
    });
  }
}
