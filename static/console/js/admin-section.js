// What each admins' section of the console (saved replies, keyword replies,
// after-hours replies, workflows) does with a change: run it, say why when
// it is refused (nothing typed is lost), and read what it shows again.
// A section has an `error` element and a `reload()`.

export class AdminSection {
  /** Run a change; on a refusal say why and answer false. */
  async call(change) {
    this.clearError();
    try {
      await change();
    } catch (error) {
      this.showError(error.reason || error.message);
      return false;
    }
    await this.refresh();
    return true;
  }

  /** Read again what the section shows, after a change. */
  async refresh() {
    await this.reload();
  }

  showError(reason) {
    this.error.hidden = false;
    this.error.textContent = reason;
  }

  clearError() {
    this.error.hidden = true;
    this.error.textContent = "";
  }
}
