import { inject } from '@angular/core';
import { CanDeactivateFn } from '@angular/router';
import { ConfirmService } from './confirm.service';

/** A page with edits that would be lost on leaving. */
export interface HasUnsavedChanges {
  hasUnsavedChanges(): boolean;
}

export const unsavedChangesGuard: CanDeactivateFn<HasUnsavedChanges> = (page) => {
  if (!page.hasUnsavedChanges()) return true;
  return inject(ConfirmService).ask({
    title: 'Отменить изменения?',
    message: 'На странице есть несохранённые изменения. Если уйти, они пропадут.',
    confirmLabel: 'Уйти без сохранения',
    cancelLabel: 'Остаться',
    danger: true,
  });
};
