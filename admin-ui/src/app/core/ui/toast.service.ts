import { Injectable, signal } from '@angular/core';

export interface Toast {
  id: number;
  text: string;
  kind: 'success' | 'error' | 'info';
}

/** Short notices in the corner; they go away by themselves. */
@Injectable({ providedIn: 'root' })
export class ToastService {
  private nextId = 1;
  private readonly toastsState = signal<Toast[]>([]);
  readonly toasts = this.toastsState.asReadonly();

  show(text: string, kind: Toast['kind'] = 'success', ms = 4000): void {
    const toast: Toast = { id: this.nextId++, text, kind };
    this.toastsState.update((list) => [...list, toast]);
    setTimeout(() => this.dismiss(toast.id), ms);
  }

  dismiss(id: number): void {
    this.toastsState.update((list) => list.filter((toast) => toast.id !== id));
  }
}
