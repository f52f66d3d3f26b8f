/** The unread count in the tab's title, and a dot on the favicon while there is one. */
const TITLE = "Roomz";

export function showUnread(count: number): void {
  document.title = count > 0 ? `(${count > 99 ? "99+" : count}) ${TITLE}` : TITLE;
  const icon = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
  const href = count > 0 ? "/favicon-unread.svg" : "/favicon.svg";
  if (icon && icon.getAttribute("href") !== href) icon.setAttribute("href", href);
}
