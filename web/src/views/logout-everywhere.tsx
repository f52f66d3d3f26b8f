/**
 * "Log out everywhere", kept in the devices panel away from the plain "Log out", and only
 * after a confirmation: it ends every device, the command-line client and scripts included.
 */
import { createSignal } from "solid-js";
import { ConfirmDialog } from "./confirm-dialog";

export function LogoutEverywhere(props: { email: string; onConfirm(): void }) {
  const [asking, setAsking] = createSignal(false);
  return (
    <section class="logout-everywhere" aria-labelledby="logout-all-title">
      <h2 id="logout-all-title">All sessions</h2>
      <button type="button" class="danger-outline" onClick={() => setAsking(true)}>
        Log out everywhere
      </button>
      <ConfirmDialog
        open={asking()}
        title="Log out everywhere?"
        confirmLabel="Log out everywhere"
        onConfirm={() => props.onConfirm()}
        onClose={() => setAsking(false)}
      >
        <p>
          This ends every session of <strong>{props.email}</strong>: all browsers, phones and the command-line client. Each
          device must sign in again with a new link. Access tokens stay valid.
        </p>
      </ConfirmDialog>
    </section>
  );
}
