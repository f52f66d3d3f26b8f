/** Drives `bun src/main.ts cli` in a real terminal (tmux) and reads the screen. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../helpers/server";
import { until } from "../helpers/wait";

let sessions = 0;

export class TmuxCli {
  readonly name = `roomz-cli-test-${process.pid}-${++sessions}`;
  readonly exitFile: string;

  constructor(
    readonly home: string,
    serverUrl: string,
  ) {
    this.exitFile = join(home, "cli-exit-code");
    const env = `HOME=${q(home)} PATH=${q(process.env.PATH ?? "")} TERM=xterm-256color`;
    const command = `cd ${q(ROOT)} && env -u NO_COLOR ${env} ${q(process.execPath)} src/main.ts cli --server ${q(serverUrl)}; echo $? > ${q(this.exitFile)}; sleep 30`;
    run(["new-session", "-d", "-s", this.name, "-x", "120", "-y", "40", command]);
  }

  /** The visible screen; with `escapes`, including colour codes. */
  screen(escapes = false): string {
    return run(["capture-pane", "-p", ...(escapes ? ["-e"] : []), "-t", this.name]);
  }

  /** Types `text` (literally) and, unless told otherwise, presses Enter. */
  type(text: string, enter = true): void {
    run(["send-keys", "-t", this.name, "-l", text]);
    if (enter) run(["send-keys", "-t", this.name, "Enter"]);
  }

  waitFor(pattern: RegExp | string, timeoutMs = 10000): Promise<string> {
    const showing = () => {
      const screen = this.screen();
      return (typeof pattern === "string" ? screen.includes(pattern) : pattern.test(screen)) ? screen : false;
    };
    return until(showing, () => `the screen to show ${pattern}:\n${this.screen()}`, { timeoutMs, everyMs: 50 });
  }

  /** The CLI's exit status once it has ended. */
  async exitCode(timeoutMs = 10000): Promise<number> {
    const written = () => existsSync(this.exitFile) && readFileSync(this.exitFile, "utf8").trim();
    return Number(await until(() => written() || false, () => `the CLI to exit:\n${this.screen()}`, { timeoutMs, everyMs: 50 }));
  }

  /** The last non-empty line of the screen (the prompt line). */
  promptLine(): string {
    return this.screen().trimEnd().split("\n").at(-1) ?? "";
  }

  kill(): void {
    try {
      run(["kill-session", "-t", this.name]);
    } catch {}
  }
}

function run(args: string[]): string {
  const result = Bun.spawnSync(["tmux", ...args], { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`tmux ${args[0]} failed: ${result.stderr.toString()}`);
  return result.stdout.toString();
}

function q(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
