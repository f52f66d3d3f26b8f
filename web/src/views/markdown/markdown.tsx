/**
 * A message's Markdown, drawn from marked's tokens as elements and text nodes (see
 * lib/markdown: no HTML is ever parsed). Blocks here, inline runs in inline.tsx.
 */
import { For, type JSX } from "solid-js";
import { parseMarkdown, type Token, type Tokens } from "../../lib/markdown";
import { CodeBlock } from "./code-block";
import { Inline } from "./inline";

export function Markdown(props: { content: string }) {
  return <>{blocks(parseMarkdown(props.content))}</>;
}

function blocks(tokens: Token[]): JSX.Element {
  return <For each={tokens}>{(t) => block(t)}</For>;
}

function block(token: Token): JSX.Element {
  switch (token.type) {
    case "paragraph":
    case "heading":
      return <p class={token.type === "heading" ? "md-heading" : undefined}>{Inline({ tokens: token.tokens ?? [] })}</p>;
    case "text":
      return token.tokens ? Inline({ tokens: token.tokens }) : token.text;
    case "code":
      return <CodeBlock code={token.text} lang={(token as Tokens.Code).lang} />;
    case "blockquote":
      return <blockquote>{blocks(token.tokens ?? [])}</blockquote>;
    case "list":
      return list(token as Tokens.List);
    case "hr":
      return <hr />;
    case "space":
      return null;
    case "checkbox":
      // A task item's box, on the line of its text (a disabled checkbox says the state to screen readers too).
      return <input type="checkbox" class="md-task" checked={(token as Tokens.Checkbox).checked} disabled />;
    default:
      // Tables, raw HTML and anything else: as typed, line breaks included.
      return <p class="as-typed">{token.raw.trimEnd()}</p>;
  }
}

function list(token: Tokens.List): JSX.Element {
  const items = <For each={token.items}>{(item) => <li>{blocks(item.tokens)}</li>}</For>;
  return token.ordered ? <ol start={typeof token.start === "number" ? token.start : undefined}>{items}</ol> : <ul>{items}</ul>;
}
