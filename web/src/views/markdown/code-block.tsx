/** A fenced code block with a Copy button. */
import { createSignal } from "solid-js";

export function CodeBlock(props: { code: string; lang?: string }) {
  const [copied, setCopied] = createSignal(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(props.code);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {}
  }
  return (
    <div class="code-block">
      <div class="code-head">
        <span>{props.lang || "code"}</span>
        <button type="button" class="copy-code" onClick={() => void copy()}>
          {copied() ? "Copied" : "Copy"}
        </button>
      </div>
      <pre tabindex="0" aria-label={props.lang ? `Code (${props.lang})` : "Code"}>
        <code>{props.code}</code>
      </pre>
    </div>
  );
}
