import { ChangeDetectionStrategy, Component } from '@angular/core';
import { RouterOutlet } from '@angular/router';
import { ConfirmDialog } from './shared/confirm-dialog';
import { ToastHost } from './shared/toast-host';

@Component({
  selector: 'pc-root',
  imports: [RouterOutlet, ConfirmDialog, ToastHost],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <router-outlet />
    <pc-confirm-dialog />
    <pc-toast-host />
  `,
})
export class App {}
