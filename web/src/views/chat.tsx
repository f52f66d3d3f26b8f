/** The signed-in page: header, the timeline with its composer, and the devices panel. */
import { Show, createSignal, onCleanup } from "solid-js";
import type { ChatState } from "../store";
import type { Uploads } from "../store/uploads";
import type { TokensStore } from "../store/tokens";
import { TokensSection } from "./tokens";
import { Composer } from "./composer";
import { ConnectionIndicator } from "./connection-indicator";
import { Devices } from "./devices";
import { JumpMenu } from "./jump-menu";
import { JumpToLatest } from "./jump-to-latest";
import { LogoutEverywhere } from "./logout-everywhere";
import { NotificationsToggle } from "./notifications-toggle";
import { Timeline } from "./timeline";

export interface ChatActions {
  send(content: string, files?: string[]): void;
  retry(id: string): void;
  discard(id: string): void;
  loadOlder(): Promise<void>;
  loadNewer(): Promise<void>;
  jumpToFirst(): Promise<void>;
  jumpToDate(date: Date): Promise<void>;
  jumpToLatest(): Promise<void>;
  atBottom(at: boolean): void;
  targetReached(): void;
  setName(name: string | null): void;
  logout(): void;
  logoutAll(): void;
  reconnect(): void;
  dismissBanner(): void;
}

/** True while the window is wide enough to show the devices panel beside the timeline. */
function createWide() {
  const query = matchMedia("(min-width: 56rem)");
  const [wide, setWide] = createSignal(query.matches);
  const update = () => setWide(query.matches);
  query.addEventListener("change", update);
  onCleanup(() => query.removeEventListener("change", update));
  return wide;
}

export function Chat(props: { chat: ChatState; actions: ChatActions; maxMessageLength: number; uploads: Uploads; tokens: TokensStore }) {
  const a = props.actions;
  const wide = createWide();
  const away = () => !props.chat.atBottom || props.chat.history.hasNewer;
  const live = () => props.chat.connection.status === "connected";
  return (
    <div class="chat">
      <a class="skip-link" href="#composer-input">
        Skip to the message box
      </a>
      <header class="topbar">
        <h1 class="brand">Roomz</h1>
        <ConnectionIndicator connection={props.chat.connection} />
        <p class="account" title={props.chat.email}>
          <span class="sr-only">Signed in as </span>
          {props.chat.email}
        </p>
        <JumpMenu onFirst={() => void a.jumpToFirst()} onDate={(d) => void a.jumpToDate(d)} busy={props.chat.history.loading} />
        <button type="button" class="logout" onClick={() => a.logout()}>
          Log out
        </button>
      </header>
      <Show when={props.chat.banner}>
        <div class="banner" role="alert">
          <span>{props.chat.banner}</span>
          <Show when={props.chat.bannerRetry}>
            <button type="button" onClick={() => a.reconnect()}>
              Try again
            </button>
          </Show>
          <button type="button" class="quiet-button" onClick={() => a.dismissBanner()} aria-label="Dismiss">
            ×
          </button>
        </div>
      </Show>
      <main class="conversation" id="main">
        <h2 class="sr-only">Messages</h2>
        <div class="timeline-frame">
          <Timeline
            messages={props.chat.messages}
            notices={props.chat.notices}
            outgoing={props.chat.outgoing}
            ownIds={props.chat.ownIds}
            ownName={props.chat.ownName}
            history={props.chat.history}
            target={props.chat.target}
            onLoadOlder={a.loadOlder}
            onLoadNewer={a.loadNewer}
            onAtBottom={a.atBottom}
            onTargetReached={a.targetReached}
            onRetry={a.retry}
            onDiscard={a.discard}
          />
          <JumpToLatest visible={away()} unseen={props.chat.unseen} onJump={() => void a.jumpToLatest()} />
        </div>
        <Composer onSend={a.send} maxLength={props.maxMessageLength} uploads={props.uploads} />
      </main>
      <details class="side" open={wide()}>
        <summary>Devices {props.chat.authenticated && live() ? `(${props.chat.devices.length})` : ""}</summary>
        <aside class="side-body" aria-label="Devices and settings">
          <Devices
            devices={props.chat.devices}
            ready={props.chat.authenticated}
            live={live()}
            ownId={props.chat.connectionId}
            ownName={props.chat.ownName}
            nameError={props.chat.nameError}
            onSetName={a.setName}
          />
          <div class="side-extra">
            <NotificationsToggle />
            <TokensSection tokens={props.tokens} />
            <LogoutEverywhere email={props.chat.email} onConfirm={a.logoutAll} />
          </div>
        </aside>
      </details>
      <div class="sr-only" aria-live="polite" aria-atomic="true" data-testid="live">
        {props.chat.announcement}
      </div>
    </div>
  );
}
