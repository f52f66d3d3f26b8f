/**
 * Line input with output that never garbles what is being typed: each printed line
 * clears the prompt and the half-typed input, prints, then re-renders both with the
 * cursor where it was (readline's `line` and `prompt(true)`).
 */
import * as readline from "node:readline";

export class Terminal {
  readonly rl: readline.Interface;
  private closed = false;
  private readonly tty: boolean;

  constructor(
    input: NodeJS.ReadableStream,
    private readonly output: NodeJS.WriteStream,
    prompt: string,
  ) {
    this.tty = Boolean(output.isTTY);
    this.rl = readline.createInterface({ input, output, prompt, terminal: this.tty, historySize: 200 });
    this.rl.on("close", () => (this.closed = true));
  }

  /** Prints `text` above the prompt, keeping the half-typed line intact. */
  print(text: string): void {
    if (this.closed || !this.tty) {
      this.output.write(`${text}\n`);
      return;
    }
    // Go to the first row of the prompt (the input may wrap), clear it all, print, redraw.
    const { rows } = this.rl.getCursorPos();
    if (rows > 0) readline.moveCursor(this.output, 0, -rows);
    readline.cursorTo(this.output, 0);
    readline.clearScreenDown(this.output);
    this.output.write(`${text}\n`);
    this.rl.prompt(true);
  }

  prompt(): void {
    if (!this.closed) this.rl.prompt(true);
  }

  setPrompt(prompt: string): void {
    this.rl.setPrompt(prompt);
  }

  close(): void {
    if (!this.closed) this.rl.close();
  }
}
