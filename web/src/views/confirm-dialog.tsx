/**
 * A yes/no question in a native modal <dialog>: the browser traps focus inside it, Escape
 * cancels, and focus returns to what opened it. The safe answer has the focus first.
 */
import { createEffect, createUniqueId, type JSX } from "solid-js";

export interface ConfirmDialogProps {
  open: boolean;
  title: string;
  confirmLabel: string;
  children: JSX.Element;
  onConfirm(): void;
  onClose(): void;
}

export function ConfirmDialog(props: ConfirmDialogProps) {
  let dialog!: HTMLDialogElement;
  // Several dialogs may be mounted at once (log out everywhere, revoke a token): ids of their own.
  const id = createUniqueId();
  createEffect(() => {
    if (props.open && !dialog.open) dialog.showModal();
    else if (!props.open && dialog.open) dialog.close();
  });
  return (
    <dialog ref={dialog} class="confirm" aria-labelledby={`${id}-title`} aria-describedby={`${id}-body`} onClose={() => props.onClose()}>
      <form method="dialog">
        <h2 id={`${id}-title`}>{props.title}</h2>
        <div id={`${id}-body`}>{props.children}</div>
        <div class="row confirm-actions">
          <button type="submit" value="cancel" autofocus>
            Cancel
          </button>
          <button type="button" class="danger" onClick={() => (props.onConfirm(), dialog.close())}>
            {props.confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
