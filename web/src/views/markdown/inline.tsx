/** Inline Markdown: bold, italics, strike, code, links (http, https, mailto) and line breaks. */
import { For, type JSX } from "solid-js";
import { safeHref, type Token, type Tokens } from "../../lib/markdown";

export function Inline(props: { tokens: Token[] }): JSX.Element {
  return <For each={props.tokens}>{(t) => inline(t)}</For>;
}

function inline(token: Token): JSX.Element {
  switch (token.type) {
    case "strong":
      return <strong>{Inline({ tokens: token.tokens ?? [] })}</strong>;
    case "em":
      return <em>{Inline({ tokens: token.tokens ?? [] })}</em>;
    case "del":
      return <del>{Inline({ tokens: token.tokens ?? [] })}</del>;
    case "codespan":
      return <code>{token.text}</code>;
    case "br":
      return <br />;
    case "link":
      return link(token as Tokens.Link);
    case "image":
      // No remote images in messages: the address, as a link when it is a safe one.
      return link({ ...(token as Tokens.Image), type: "link", tokens: [{ type: "text", raw: token.text, text: token.text || token.href }] } as Tokens.Link);
    case "text":
      return token.tokens ? Inline({ tokens: token.tokens }) : token.text;
    case "escape":
      return token.text;
    default:
      return token.raw; // raw HTML and anything unknown: the characters as typed
  }
}

function link(token: Tokens.Link): JSX.Element {
  const href = safeHref(token.href);
  if (!href) return token.raw;
  return (
    <a href={href} target="_blank" rel="noopener noreferrer">
      {Inline({ tokens: token.tokens ?? [] })}
    </a>
  );
}

