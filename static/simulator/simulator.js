// The phone simulator page: refreshes the open phone's thread every second.
// Texts are shown with textContent only: they are whatever someone typed.

const POLL_MS = 1000;

function metaText(message) {
  const way = message.direction === "from_phone" ? "to" : "from";
  const detail = message.detail ? ` · ${message.detail}` : "";
  return `${way} ${message.company} · ${message.status}${detail}`;
}

function renderThread(list, messages) {
  const items = messages.map((message) => {
    const item = document.createElement("li");
    item.className = `text ${message.direction}`;
    for (const picture of message.media || []) {
      const img = document.createElement("img");
      img.className = "picture";
      img.alt = "Picture";
      img.dataset.testid = "phone-picture";
      img.src = picture.url;
      item.append(img);
    }
    if (message.media_problem) {
      const problem = document.createElement("p");
      problem.className = "problem";
      problem.textContent = message.media_problem;
      item.append(problem);
    }
    const body = document.createElement("p");
    body.className = "body";
    body.textContent = message.body;
    const meta = document.createElement("p");
    meta.className = "meta";
    meta.textContent = metaText(message);
    item.append(body, meta);
    return item;
  });
  if (!items.length) {
    const empty = document.createElement("li");
    empty.className = "empty";
    empty.textContent = "No texts yet.";
    items.push(empty);
  }
  list.replaceChildren(...items);
}

async function refresh(list) {
  const url = `${list.dataset.stateUrl}?phone=${encodeURIComponent(list.dataset.phone)}`;
  try {
    const response = await fetch(url, { credentials: "same-origin" });
    if (response.ok) {
      const state = await response.json();
      renderThread(list, state.messages);
    }
  } catch {
    // The server is restarting: the next poll tries again.
  }
  setTimeout(() => refresh(list), POLL_MS);
}

const thread = document.querySelector("[data-testid=thread]");
if (thread) setTimeout(() => refresh(thread), POLL_MS);
