// The status line (aria-live, cleared after a while so it never describes an old item) and the
// error box (role=alert, with "Try again" or "Log in again" where that helps).

const STATUS_MS = 6000;

export class Messages {
  constructor(statusLine, errorBox, loginUrl) {
    this.statusLine = statusLine;
    this.errorBox = errorBox;
    this.loginUrl = loginUrl;
  }

  get errorShown() { return !this.errorBox.hidden; }

  say(text) {
    this.statusLine.textContent = text;
    clearTimeout(this.timer);
    if (text && !text.endsWith("…")) this.timer = setTimeout(() => { this.statusLine.textContent = ""; }, STATUS_MS);
  }

  showError(message, { retry = null, login = false } = {}) {
    const box = this.errorBox;
    const text = document.createElement("p");
    text.textContent = message;
    box.replaceChildren(text);
    if (retry) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "Try again";
      button.addEventListener("click", () => { this.hideError(); retry(); });
      box.append(button);
    }
    if (login && this.loginUrl) {
      const link = document.createElement("a");
      link.href = this.loginUrl;
      link.className = "button";
      link.textContent = "Log in again";
      box.append(link);
    }
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  }

  hideError() {
    this.errorBox.hidden = true;
    this.errorBox.replaceChildren();
  }
}
