import { Injectable, signal } from '@angular/core';

export interface ConfirmRequest {
  title: string;
  message: string;
  confirmLabel: string;
  cancelLabel?: string;
  /** Red confirm button for destructive actions. */
  danger?: boolean;
}

interface PendingConfirm extends ConfirmRequest {
  resolve: (confirmed: boolean) => void;
}

/** One modal question at a time; `ask` resolves true when the admin confirms. */
@Injectable({ providedIn: 'root' })
export class ConfirmService {
  private readonly pendingState = signal<PendingConfirm | null>(null);
  readonly pending = this.pendingState.asReadonly();

  ask(request: ConfirmRequest): Promise<boolean> {
    this.pendingState()?.resolve(false);
    return new Promise((resolve) => this.pendingState.set({ ...request, resolve }));
  }

  answer(confirmed: boolean): void {
    const pending = this.pendingState();
    this.pendingState.set(null);
    pending?.resolve(confirmed);
  }
}
