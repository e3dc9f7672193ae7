import { ChangeDetectionStrategy, Component, input } from '@angular/core';

export type PillTone = 'ok' | 'warn' | 'error' | 'muted';

@Component({
  selector: 'pc-status-pill',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<span class="pill" [class]="'pill pill-' + tone()"
    ><span class="dot" aria-hidden="true"></span>{{ text() }}</span
  >`,
})
export class StatusPill {
  readonly text = input.required<string>();
  readonly tone = input<PillTone>('muted');
}
