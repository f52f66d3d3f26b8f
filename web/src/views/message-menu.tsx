/** The actions of one message (copy for now), behind a small menu button. */
import { Show, createSignal } from "solid-js";

export function MessageMenu(props: { content: string }) {
  const [open, setOpen] = createSignal(false);
  const [done, setDone] = createSignal("");
  let button!: HTMLButtonElement;

  async function copy() {
    try {
      await navigator.clipboard.writeText(props.content);
      setDone("Copied");
    } catch {
      setDone("Couldn't copy");
    }
    setOpen(false);
    button.focus();
    setTimeout(() => setDone(""), 1500);
  }

  function onKeyDown(event: KeyboardEvent) {
    if (event.key === "Escape" && open()) {
      setOpen(false);
      button.focus();
    }
  }

  return (
    <span class="msg-menu" onKeyDown={onKeyDown} onFocusOut={(e) => !e.currentTarget.contains(e.relatedTarget as Node) && setOpen(false)}>
      <button
        ref={button}
        type="button"
        class="menu-button"
        aria-label="Message actions"
        aria-haspopup="menu"
        aria-expanded={open()}
        onClick={() => setOpen(!open())}
      >
        ⋯
      </button>
      <Show when={open()}>
        <div class="menu" role="menu">
          <button type="button" role="menuitem" ref={(el) => queueMicrotask(() => el.focus())} onClick={() => void copy()}>
            Copy text
          </button>
        </div>
      </Show>
      <Show when={done()}>
        <span class="copied" role="status">
          {done()}
        </span>
      </Show>
    </span>
  );
}
