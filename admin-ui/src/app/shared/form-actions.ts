import { ChangeDetectionStrategy, Component, input, output } from '@angular/core';

/**
 * The end of an editing form: the save error, "discard changes" while there are any, and the
 * submit button of the enclosing form.
 */
@Component({
  selector: 'pc-form-actions',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @if (error(); as message) {
      <div class="alert alert-error" role="alert">{{ message }}</div>
    }
    <div class="actions">
      @if (dirty()) {
        <button type="button" class="btn btn-ghost" (click)="discard.emit()">
          Отменить изменения
        </button>
      }
      <button type="submit" class="btn btn-primary" [disabled]="saving()">
        {{ saving() ? 'Сохранение…' : 'Сохранить' }}
      </button>
    </div>
  `,
})
export class FormActions {
  readonly error = input<string | null>(null);
  readonly dirty = input(false);
  readonly saving = input(false);
  readonly discard = output();
}
