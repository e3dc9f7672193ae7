import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import { create } from 'qrcode';

/** The dark modules of a QR code as one SVG path, drawn in the browser (no request leaves it). */
export function qrPath(text: string): { size: number; path: string } {
  const code = create(text, { errorCorrectionLevel: 'M' });
  const size = code.modules.size;
  const data = code.modules.data;
  let path = '';
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (data[y * size + x]) path += `M${x + 4} ${y + 4}h1v1h-1z`;
    }
  }
  return { size: size + 8, path };
}

@Component({
  selector: 'pc-qr-code',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @if (code(); as qr) {
      <svg
        class="qr"
        [attr.viewBox]="'0 0 ' + qr.size + ' ' + qr.size"
        [attr.width]="pixels()"
        [attr.height]="pixels()"
        role="img"
        [attr.aria-label]="label()"
        shape-rendering="crispEdges"
      >
        <rect [attr.width]="qr.size" [attr.height]="qr.size" fill="#fff" />
        <path [attr.d]="qr.path" fill="#0f2b26" />
      </svg>
    }
  `,
})
export class QrCode {
  readonly value = input.required<string>();
  readonly pixels = input(160);
  readonly label = input('QR-код ссылки');
  protected readonly code = computed(() => {
    const value = this.value();
    return value ? qrPath(value) : null;
  });
}
